"""Each role's workbench (the home page).

- Supervisors (justice bureaus, judicial offices): KPI tiles, the townships table, a month trend
  and a category chart, and what needs attention, for their region and a chosen period.
- Committees (and routing bodies): their queue, what falls due, this week's sessions; committees also
  their overdue follow-ups (回访).
- Petition offices: their referrals by state, what waits for them, and overdue follow-ups.

The dashboard is the top layer: it may use every app (referrals and, through the registry, the
figures and lists other apps add), and no app imports it.

Every number comes from ``referrals.stats`` and links to the referral list showing the referrals
behind it. Each part is also a fragment (``?fragment=<name>``) that ``static/js/live.js`` re-fetches
when a ``referral.changed`` message arrives (``data-live-refresh``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard.charts import category_chart, month_chart
from dashboard.lists import LIST_LIMIT, QUEUE_LIMIT, Listing, attention, listing, referral_items
from dashboard.tables import (
    COUNTY_COLUMNS,
    DEFAULT_SORT,
    SORTS,
    TABLE_COLUMNS,
    columns,
    sort_links,
    sort_rows,
    table_rows,
)
from dashboard.tiles import Tile, make_tile, supervisor_tiles
from referrals import appeals, assignments, case_groups, lawyers, leader_cases, stats
from referrals.models import State
from referrals.permissions import grants_of
from referrals.stats import FIGURES, Scope
from townships.models import Organisation, Region

# --- Sections --------------------------------------------------------------------------------------


@dataclass
class Section:
    kind: str  # supervisor | handler | office | none
    template: str
    title: str
    fragment_base: dict[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)


def organisations(ids) -> list[Organisation]:
    return list(Organisation.objects.filter(pk__in=ids).select_related("region").order_by("region__code", "name"))


@dataclass(frozen=True)
class Roles:
    """Which views the home page shows a user (from grants alone, no query)."""

    supervisor: bool
    handler_ids: frozenset[int]
    office_ids: frozenset[int]

    def organisations(self) -> tuple[list[Organisation], list[Organisation]]:
        """(handled, referring) organisations, in one query."""
        ids = self.handler_ids | self.office_ids
        orgs = organisations(ids) if ids else []
        return [o for o in orgs if o.pk in self.handler_ids], [o for o in orgs if o.pk in self.office_ids]


def roles_of(user) -> Roles:
    if user.is_superuser:
        return Roles(True, frozenset(), frozenset())
    g = grants_of(user)
    return Roles(
        supervisor=bool(g.region_codes("supervise_region")),
        handler_ids=g.orgs("handle_for") | g.orgs("dispatch_for"),
        office_ids=g.orgs("refer_from") | g.orgs("review_for"),
    )


def supervisor_scope(request: HttpRequest) -> tuple[Scope, dict[str, list[str]]]:
    """The region and period asked for; on a bad value, the whole area and the errors to show."""
    try:
        return stats.parse_scope(request.user, request.GET), {}
    except stats.ScopeInvalid as exc:
        return Scope(request.user), exc.errors
    except stats.ScopeForbidden as exc:
        return Scope(request.user), {"region": [str(exc)]}


def area_name(scope: Scope) -> str:
    """What the figures cover: the chosen region, else the supervised one(s)."""
    if scope.region:
        return scope.region.name
    names = Region.objects.filter(code__in=scope.supervised_codes()).order_by("code").values_list("name", flat=True)
    return "、".join(names) or _("辖区")


def region_choices(scope: Scope) -> list[tuple[str, str]]:
    """The supervised regions and the two levels below them, for the region picker."""
    codes = scope.supervised_codes()
    if not codes:
        return []
    wanted = Q(code__in=codes) | Q(parent__code__in=codes) | Q(parent__parent__code__in=codes)
    regions = Region.objects.filter(wanted).exclude(level=Region.Level.VILLAGE).order_by("code")
    depth = {Region.Level.PROVINCE: 0, Region.Level.CITY: 1, Region.Level.COUNTY: 2, Region.Level.TOWNSHIP: 3}
    top = min((depth.get(r.level, 3) for r in regions), default=0)
    return [(r.code, "\u3000" * (depth.get(r.level, 3) - top) + r.name) for r in regions]


def period_links(now: datetime.datetime, base: dict[str, str]) -> list[dict[str, Any]]:
    today = timezone.localdate(now)
    rest = {k: v for k, v in base.items() if k not in ("from", "to")}
    choices = [
        (_("全部"), None, None),
        (_("本月"), today.replace(day=1), today),
        (_("本年"), today.replace(month=1, day=1), today),
        (_("近12个月"), (today - datetime.timedelta(days=334)).replace(day=1), today),
    ]
    out = []
    for label, start, end in choices:
        params = dict(rest)
        if start:
            params |= {"from": start.isoformat(), "to": end.isoformat()}
        active = base.get("from") == params.get("from") and base.get("to") == params.get("to")
        out.append({"label": label, "url": "?" + urlencode(params), "active": active})
    return out


def supervisor_part(request: HttpRequest, part: str, figures: stats.Figures) -> dict[str, Any]:
    """The context of one part of the supervisor view (each is also a live fragment)."""
    scope, now = figures.scope, figures.now
    if part == "tiles":
        return {"tile_groups": supervisor_tiles(scope, figures.headline)}
    if part == "regions":
        sort = request.GET.get("sort", DEFAULT_SORT)
        if sort.lstrip("-") not in SORTS:
            sort = DEFAULT_SORT
        rows, counties = figures.by_region, figures.by_county
        links = sort_links(scope.params(), sort)
        return {
            "townships": table_rows(scope, sort_rows(rows, sort)),
            "counties": table_rows(scope, counties, county_table=True) if len(counties) > 1 else [],
            "sort": sort,
            "sort_code": links["code"],
            "columns": columns(TABLE_COLUMNS, links),
            "county_columns": columns(COUNTY_COLUMNS),
        }
    if part == "trend":
        return {"chart": month_chart(scope, figures.by_month, figures.now)}
    if part == "categories":
        return {"chart": category_chart(scope, figures.by_category)}
    if part == "attention":
        return {"listings": attention(scope, now)}
    raise Http404("no such part")


SUPERVISOR_PARTS = ("tiles", "regions", "trend", "categories", "attention")


def handler_context(user, org: Organisation, now: datetime.datetime) -> dict[str, Any]:
    scope = Scope(user, target=org.pk)
    committee = org.kind == Organisation.Kind.MEDIATION_COMMITTEE
    queue = scope.with_params(state="submitted,mediating" if committee else "submitted")
    keys = ["state_submitted", "due_soon", "overdue"] + (["state_mediating"] if committee else [])
    values = stats.counts(queue, keys, now)
    tiles = [make_tile(queue, values, "state_submitted", label=_("待受理") if committee else _("待分派"))]
    if committee:
        tiles.append(make_tile(queue, values, "state_mediating"))
    tiles += [make_tile(queue, values, "due_soon"), make_tile(queue, values, "overdue")]
    lists = [
        listing(
            queue,
            referral_items(queue, ("open",), now, limit=QUEUE_LIMIT),
            title=_("我的待办（按期限先后）"),
            empty=_("暂无待办案件。"),
        )
    ]
    sessions = stats.source_lister("sessions_this_week") if committee else None
    if sessions is not None:
        found = sessions(scope.referrals(), now, QUEUE_LIMIT)
        tiles.append(
            Tile(
                key="sessions_this_week",
                label=str(FIGURES["sessions_this_week"].label),
                value=str(found.count),
                raw=found.count,
                title=str(FIGURES["sessions_this_week"].definition),
                href=stats.list_url(scope, "sessions_this_week"),
            )
        )
        lists.append(listing(scope, found, empty=_("本周还没有调解记录。")))
    if committee:
        lists += followup_overdue(scope, now)
    return {"org": org, "tiles": tiles, "lists": lists}


def followup_overdue(scope: Scope, now: datetime.datetime) -> list[Listing]:
    """The organisation's referrals whose follow-up (回访) is overdue: those the committee concluded,
    or those the office referred; both are reminded, and both may record the visit."""
    lister = stats.source_lister("followup_overdue")
    if lister is None:
        return []
    found = lister(scope.referrals(), now, LIST_LIMIT)
    return [listing(scope, found, tone="bad", empty=_("没有逾期未回访的案件。"))]


OFFICE_STATES = "draft,declined,succeeded,failed"  # stages whose clock runs for the petition office


def office_context(user, org: Organisation, now: datetime.datetime) -> dict[str, Any]:
    scope = Scope(user, origin=org.pk)
    state_keys = [f"state_{s}" for s in State.values]
    mine = scope.with_params(state=OFFICE_STATES)
    values = stats.counts(scope, state_keys, now)
    due = stats.counts(mine, ["due_soon", "overdue"], now)
    tiles = [make_tile(scope, values, key) for key in state_keys]
    due_tiles = [
        make_tile(mine, due, "overdue", label=_("待本单位办理·已超期")),
        make_tile(mine, due, "due_soon", label=_("待本单位办理·即将到期")),
    ]
    waiting = listing(
        mine,
        referral_items(mine, ("open",), now, limit=QUEUE_LIMIT),
        title=_("待本单位办理：移交、审核办结、处理退回"),
        empty=_("暂无待办案件。"),
    )
    elsewhere = scope.with_params(state="submitted,mediating")
    chase = listing(
        elsewhere,
        referral_items(elsewhere, ("overdue",), now, limit=LIST_LIMIT),
        title=_("已移交但超期未办（可催办）"),
        tone="bad",
        empty=_("移交出去的案件都在期限内。"),
    )
    return {
        "org": org,
        "tiles": tiles,
        "due_tiles": due_tiles,
        "lists": [waiting, chase, *followup_overdue(scope, now)],
    }


def petition_work(user, now: datetime.datetime) -> dict[str, Any]:
    """This year's 领导包案, 交办件, lawyers' consultations and 复查复核, and the 类案 groups, over what the
    user may see (each card shown when there is something): the same for every section of the page,
    so read once per page, and not on the sections' live refreshes, which do not show them."""
    today = timezone.localdate(now)
    return {
        "leaders": leader_cases.report(user, leader_cases.Scope(year=today.year), now=now),
        "assignments": assignments.report(user, assignments.Scope(year=today.year), now=now),
        "consultations": lawyers.figures(user, lawyers.parse_period({}, today=today)),
        "appeals": appeals.report(user, appeals.Scope(year=today.year), now=now),
        "case_groups": case_groups.report(user, now=now),
    }


# --- The view --------------------------------------------------------------------------------------


def _fragment_url(request: HttpRequest, params: dict[str, str], name: str, **extra: str) -> str:
    return request.path + "?" + urlencode({**params, **extra, "fragment": name})


def _organisation_section(request: HttpRequest, kind: str, org: Organisation, context: dict[str, Any]) -> Section:
    """A handling organisation's or an office's section, which refreshes itself through its fragment
    (``?fragment=handler|office&org=<id>``)."""
    return Section(
        kind=kind,
        template=f"dashboard/{kind}.html",
        title=org.name,
        context={**context, "fragment_url": _fragment_url(request, {}, kind, org=str(org.pk))},
    )


def dashboard(request: HttpRequest) -> HttpResponse:
    """The home page, or one of its fragments (``?fragment=tiles|regions|trend|categories|attention|
    handler|office``; ``&org=<id>`` for the last two)."""
    user = request.user
    now = timezone.now()
    roles = roles_of(user)
    fragment = request.GET.get("fragment", "")
    if fragment:
        return _fragment(request, roles, fragment, now)
    sections: list[Section] = []
    handlers, offices = roles.organisations()
    # The petition work's cards stand on the supervisor's and the office's sections alike.
    cards = petition_work(user, now) if roles.supervisor or offices else {}

    if roles.supervisor:
        scope, errors = supervisor_scope(request)
        params = {**scope.params()}
        if request.GET.get("sort"):
            params["sort"] = request.GET["sort"]
        # One Figures for the whole page: its counts are read once and shared by every part.
        figures = stats.Figures(scope, now)
        parts = {part: supervisor_part(request, part, figures) for part in SUPERVISOR_PARTS}
        sections.append(
            Section(
                kind="supervisor",
                template="dashboard/supervisor.html",
                title=area_name(scope),
                context={
                    "scope": scope,
                    "errors": errors,
                    "parts": parts,
                    "fragment_urls": {p: _fragment_url(request, params, p) for p in SUPERVISOR_PARTS},
                    "region_choices": region_choices(scope),
                    "period_links": period_links(now, scope.params()),
                    "workbook_url": "/api/exports/statistics.xlsx?" + urlencode(scope.params()),
                    "all_url": stats.list_url(scope, "total"),
                    **cards,
                },
            )
        )
    sections += [_organisation_section(request, "handler", org, handler_context(user, org, now)) for org in handlers]
    sections += [
        _organisation_section(request, "office", org, {**office_context(user, org, now), **cards}) for org in offices
    ]
    return render(request, "home.html", {"sections": sections, "now": now})


def _fragment(request: HttpRequest, roles: Roles, name: str, now: datetime.datetime) -> HttpResponse:
    if name in SUPERVISOR_PARTS:
        if not roles.supervisor:
            raise Http404("not a supervisor")
        scope, _errors = supervisor_scope(request)
        context = supervisor_part(request, name, stats.Figures(scope, now))
        return render(request, f"dashboard/_{name}.html", {"part": context})
    if name in ("handler", "office"):
        ids = roles.handler_ids if name == "handler" else roles.office_ids
        pk = request.GET.get("org", "")
        if not pk.isdigit() or int(pk) not in ids:
            raise Http404("not one of your organisations")
        org = organisations([int(pk)])[0]
        build = handler_context if name == "handler" else office_context
        return render(request, f"dashboard/_{name}.html", {"part": build(request.user, org, now)})
    raise Http404("no such fragment")
