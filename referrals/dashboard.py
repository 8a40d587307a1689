"""Each role's workbench (the home page).

- Supervisors (justice bureaus, judicial offices): KPI tiles, the townships table, a month trend
  and a category chart, and what needs attention, for their region and a chosen period.
- Committees (and routing bodies): their queue, what falls due, this week's sessions.
- Petition offices: their referrals by state and what waits for them.

Every number comes from ``referrals/stats.py`` and links to the referral list showing the referrals
behind it. Each part is also a fragment (``?fragment=<name>``) that ``static/js/live.js`` re-fetches
when a ``referral.changed`` message arrives (``data-live-refresh``).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import F, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referrals import stats
from referrals.models import State
from referrals.permissions import grants_of
from referrals.stats import FIGURES, Item, ItemList, Scope
from townships.models import Organisation, Region

LIST_LIMIT = 8
QUEUE_LIMIT = 15

# --- Tiles -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: str
    raw: Any
    title: str
    href: str
    tone: str = ""
    sub: str = ""


def _late(value) -> str:
    """Something is late: red; nothing is: green."""
    return "bad" if value else "good"


def _timely(value) -> str:
    """A timeliness rate below 100% means some referral was late."""
    if value is None:
        return ""
    return "good" if value >= 1 else "warn"


TONES: dict[str, Callable[[Any], str]] = {
    "overdue": _late,
    "ping_pong": _late,
    "supervision_overdue": _late,
    "due_soon": lambda v: "warn" if v else "",
    "dissatisfied": lambda v: "warn" if v else "",
    "timely_acceptance_rate": _timely,
    "on_time_conclusion_rate": _timely,
    "closed_on_time_rate": _timely,
}


def make_tile(scope: Scope, values: dict[str, Any], key: str, *, sub: str = "", label: str = "") -> Tile:
    figure = FIGURES[key]
    value = values.get(key)
    return Tile(
        key=key,
        label=label or str(figure.label),
        value=stats.display(key, value),
        raw=value,
        title=str(figure.definition),
        href=stats.list_url(scope, key),
        tone=TONES.get(key, lambda v: "")(value),
        sub=sub,
    )


def _pair(values: dict[str, Any], numerator: str, denominator: str) -> str:
    return f"{FIGURES[numerator].label} {values[numerator]} / {FIGURES[denominator].label} {values[denominator]}"


def supervisor_tiles(scope: Scope, values: dict[str, Any]) -> list[tuple[str, list[Tile]]]:
    def t(key: str, **kwargs) -> Tile | None:
        return make_tile(scope, values, key, **kwargs) if key in values else None

    def median(key: str) -> str:
        return _("中位数 %s") % stats.display(key, values.get(key))

    groups = [
        (
            _("办理进度"),
            [
                t("total"),
                t("open"),
                t("state_submitted", label=_("待受理")),
                t("state_mediating"),
                t("overdue"),
                t("due_soon"),
                t("ping_pong"),
                t("supervision_overdue"),
            ],
        ),
        (
            _("办理成效"),
            [
                t("success_rate", sub=_pair(values, "succeeded", "concluded")),
                t("timely_acceptance_rate", sub=_pair(values, "accepted_on_time", "accepted")),
                t("on_time_conclusion_rate", sub=_pair(values, "concluded_on_time", "concluded")),
                t("closed_on_time_rate", sub=_pair(values, "closed_on_time", "closed")),
                t("avg_days_to_accept", sub=median("median_days_to_accept")),
                t("avg_days_to_conclude", sub=median("median_days_to_conclude")),
            ],
        ),
    ]
    if "agreements" in values:
        groups.append(
            (
                _("调解协议与回访"),
                [
                    t("agreements", sub=_pair(values, "agreements_written", "agreements_oral")),
                    t("amount_involved"),
                    t("agreements_performed"),
                    t("judicially_confirmed"),
                    t("satisfaction_rate", sub=_pair(values, "satisfied", "followups_visited")),
                    t("dissatisfied"),
                ],
            )
        )
    return [(title, [tile for tile in tiles if tile]) for title, tiles in groups]


# --- Tables ------------------------------------------------------------------------------------

TABLE_COLUMNS = ("total", "open", "overdue", "concluded", "succeeded", "success_rate")
# Short headers keep six columns and the township name within a phone's width.
SHORT_LABELS = {
    "total": gettext_lazy("案件数"),
    "open": gettext_lazy("在办"),
    "overdue": gettext_lazy("超期"),
    "concluded": gettext_lazy("结束"),
    "succeeded": gettext_lazy("成功"),
    "success_rate": gettext_lazy("成功率"),
}
SORTS = {"code", "total", "overdue", "success_rate"}
DEFAULT_SORT = "-overdue"


@dataclass(frozen=True)
class Cell:
    key: str
    value: str
    href: str
    tone: str = ""


def table_rows(scope: Scope, rows: Sequence[dict[str, Any]], *, county_table: bool = False) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        keys = stats.region_link_keys(row, county_table=county_table)
        cells = [
            Cell(
                key=key,
                value=stats.display(key, row[key]),
                href=stats.list_url(scope, *keys, FIGURES[key].link or key, region=row["code"]),
                tone=("bad" if key == "overdue" else "") if row[key] else ("zero" if row[key] == 0 else ""),
            )
            for key in TABLE_COLUMNS
        ]
        out.append({"code": row["code"], "name": row["name"], "county": row.get("county_name", ""), "cells": cells})
    return out


def sort_rows(rows: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    """Sort by a column (``-`` first = descending); rows without a value go last either way."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "code":
        return sorted(rows, key=lambda r: r["code"], reverse=descending)
    present = [r for r in rows if r[key] is not None]
    missing = [r for r in rows if r[key] is None]
    present.sort(key=lambda r: r["code"])
    present.sort(key=lambda r: r[key], reverse=descending)
    return present + missing


def sort_links(base: dict[str, str], current: str) -> dict[str, dict[str, str]]:
    """For each sortable column: the URL that sorts by it (toggling direction) and its arrow."""
    links = {}
    for key in SORTS:
        active = current.lstrip("-") == key
        descending = current.startswith("-")
        # A first click shows the worst (most overdue) or best (highest rate) first.
        target = (key if descending else f"-{key}") if active else (key if key == "code" else f"-{key}")
        arrow = ("↓" if descending else "↑") if active else ""
        links[key] = {"url": "?" + urlencode({**base, "sort": target}), "arrow": arrow, "active": active}
    return links


# --- Charts (inline SVG, drawn here) -------------------------------------------------------------


def nice_top(value: float, ticks: int = 4) -> int:
    """A round axis maximum ≥ value that divides into ``ticks`` whole steps."""
    if value <= ticks:
        return ticks
    raw = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * magnitude >= raw)
    step = math.ceil(step)
    return int(step * ticks)


MONTH_SERIES = (("total", "bar-received"), ("succeeded", "bar-succeeded"))


def month_chart(scope: Scope, rows: Sequence[dict[str, Any]], now: datetime.datetime) -> dict[str, Any]:
    """Twelve months (or the period's, if shorter) of referrals received and mediated successfully."""
    today = timezone.localdate(now)
    last = min(scope.date_to or today, today).replace(day=1)
    first = (last - datetime.timedelta(days=334)).replace(day=1)
    if scope.date_from and scope.date_from.replace(day=1) > first:
        first = scope.date_from.replace(day=1)
    by_month = {r["month"]: r for r in rows}
    months = stats.months(first, last) if first <= last else []
    # A narrow canvas: on a phone it is drawn near 1:1, so the labels stay legible.
    width, height, left, right, top, bottom = 360, 200, 30, 4, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([by_month.get(m.strftime("%Y-%m"), {}).get(k, 0) for m in months for k, _c in MONTH_SERIES] or [0])
    ymax = nice_top(peak)
    group_w = plot_w / max(len(months), 1)
    bar_w = group_w * 0.36
    groups = []
    for i, month in enumerate(months):
        row = by_month.get(month.strftime("%Y-%m"), {})
        x0 = left + i * group_w + (group_w - 2 * bar_w) / 2
        bars = []
        for j, (key, css) in enumerate(MONTH_SERIES):
            value = row.get(key, 0)
            h = plot_h * value / ymax
            bars.append(
                {
                    "x": round(x0 + j * bar_w, 1),
                    "y": round(top + plot_h - h, 1),
                    "w": round(bar_w - 1, 1),
                    "h": round(h, 1),
                    "css": css,
                    "value": value,
                    "label": FIGURES[key].label,
                }
            )
        period = {
            "from": max(month, scope.date_from or month).isoformat(),
            "to": min(stats.month_end(month), scope.date_to or stats.month_end(month)).isoformat(),
        }
        groups.append(
            {
                "month": month,
                "label": _("%d月") % month.month,
                # The year under January, and under the first month unless January follows at once.
                "year": month.year if month.month == 1 or (i == 0 and month.month < 12) else "",
                "x": round(left + i * group_w, 1),
                "w": round(group_w, 1),
                "cx": round(left + (i + 0.5) * group_w, 1),
                "bars": bars,
                "href": stats.list_url(scope, "total", **period),
                "title": _("%(month)s：受理案件 %(total)s，调解成功 %(succeeded)s")
                % {
                    "month": month.strftime("%Y-%m"),
                    "total": row.get("total", 0),
                    "succeeded": row.get("succeeded", 0),
                },
            }
        )
    grid = [{"y": round(top + plot_h - plot_h * k / 4, 1), "label": int(ymax * k / 4)} for k in range(5)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "baseline": top + plot_h,
        "label_y": top + plot_h + 14,
        "year_y": top + plot_h + 29,
        "groups": groups,
        "grid": grid,
        "legend": [(FIGURES[k].label, css) for k, css in MONTH_SERIES],
    }


def category_chart(scope: Scope, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Horizontal bars: referrals received by dispute category, largest first."""
    present = sorted((r for r in rows if r["total"]), key=lambda r: (-r["total"], r["code"]))
    width, label_w, value_w, row_h = 360, 92, 34, 26
    peak = max([r["total"] for r in present] or [1])
    bar_space = width - label_w - value_w
    bars = []
    for i, row in enumerate(present):
        w = max(bar_space * row["total"] / peak, 2)
        bars.append(
            {
                "y": i * row_h,
                "bar_y": i * row_h + 4,
                "text_y": i * row_h + row_h / 2 + 4,
                "label": row["name"],
                "value": row["total"],
                "w": round(w, 1),
                "value_x": round(label_w + w + 4, 1),
                "href": stats.list_url(scope, "total", category=row["code"]),
                "title": _("%(name)s：受理案件 %(total)s，调解成功 %(succeeded)s，成功率 %(rate)s")
                % {
                    "name": row["name"],
                    "total": row["total"],
                    "succeeded": row["succeeded"],
                    "rate": stats.display("success_rate", row["success_rate"]),
                },
            }
        )
    return {
        "width": width,
        "height": max(len(bars) * row_h, row_h),
        "label_w": label_w,
        "row_h": row_h,
        "bar_h": row_h - 8,
        "bars": bars,
    }


# --- Lists -----------------------------------------------------------------------------------------


def _excerpt(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def referral_items(scope: Scope, keys: tuple[str, ...], now: datetime.datetime, *, limit: int) -> ItemList:
    """The referrals behind figures ``keys``, most urgent first (earliest deadline, then newest)."""
    qs = scope.referrals().filter(stats.figure_conditions(keys, now))
    today = timezone.localdate(now)
    items = []
    for r in qs.select_related("target").order_by(F("due_at").asc(nulls_last=True), "-id")[:limit]:
        status = r.deadline_status(now)
        meta = [r.target.name if r.target else ""]
        if r.due_on:
            late = (today - r.due_on).days
            meta.insert(0, r.get_deadline_kind_display() + " " + r.due_on.isoformat())
            if status == "overdue" and late > 0:
                meta.insert(1, _("超期 %d 天") % late)
        if r.ping_pong:
            meta.append(_("已退回 %d 次") % r.returns_count)
        items.append(
            Item(
                referral_id=r.pk,
                number=r.number,
                text=f"{State(r.state).label} · {_excerpt(r.summary)}",
                meta=" · ".join(m for m in meta if m),
                tone={"overdue": "bad", "due_soon": "warn"}.get(status or "", ""),
            )
        )
    return ItemList(keys, qs.count(), items)


@dataclass
class Listing:
    title: str
    title_attr: str
    href: str
    count: int
    items: list[Item]
    tone: str = ""
    empty: str = ""


def listing(scope: Scope, found: ItemList, *, title: str = "", tone: str = "", empty: str = "") -> Listing:
    figure = FIGURES[found.keys[-1]]
    return Listing(
        title=title or str(figure.label),
        title_attr=str(figure.definition),
        href=stats.list_url(scope, *found.keys),
        count=found.count,
        items=found.items,
        tone=tone if found.count else "",
        empty=empty or _("没有。"),
    )


def attention(scope: Scope, now: datetime.datetime) -> list[Listing]:
    out = [
        listing(scope, referral_items(scope, ("overdue",), now, limit=LIST_LIMIT), tone="bad"),
        listing(
            scope,
            referral_items(scope, ("open", "ping_pong"), now, limit=LIST_LIMIT),
            title=_("反复退回（在办）"),
            tone="bad",
        ),
    ]
    for name, tone in (("supervision_overdue", "bad"), ("dissatisfied", "warn")):
        lister = stats.source_lister(name)
        if lister is not None:
            out.append(listing(scope, lister(scope.referrals(), now, LIST_LIMIT), tone=tone))
    return out


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
            "columns": [
                {"key": k, "label": SHORT_LABELS[k], "definition": FIGURES[k].definition, "sort": links.get(k)}
                for k in TABLE_COLUMNS
            ],
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
    return {"org": org, "tiles": tiles, "lists": lists}


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
    return {"org": org, "tiles": tiles, "due_tiles": due_tiles, "lists": [waiting, chase]}


# --- The view --------------------------------------------------------------------------------------


def _fragment_url(request: HttpRequest, params: dict[str, str], name: str, **extra: str) -> str:
    return request.path + "?" + urlencode({**params, **extra, "fragment": name})


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
                },
            )
        )
    for org in handlers:
        sections.append(
            Section(
                kind="handler",
                template="dashboard/handler.html",
                title=org.name,
                context={
                    **handler_context(user, org, now),
                    "fragment_url": _fragment_url(request, {}, "handler", org=str(org.pk)),
                },
            )
        )
    for org in offices:
        sections.append(
            Section(
                kind="office",
                template="dashboard/office.html",
                title=org.name,
                context={
                    **office_context(user, org, now),
                    "fragment_url": _fragment_url(request, {}, "office", org=str(org.pk)),
                },
            )
        )
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
