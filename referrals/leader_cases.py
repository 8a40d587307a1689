"""领导包案 (leader-in-charge cases): each year's list of referrals a named leader takes personal
charge of, and the progress the petition bureau reports on it (「共包案211宗，目前已办结162宗，未办结49宗」).

The one place that writes the list and counts it, for the referral page, the list page, the API and
the export:

- **Who keeps the list** (``keeps_leader_list``, the ``who`` of both actions below): an officer or a
  reviewer of the referral's origin petition office. The leader is usually not a user; the office
  that keeps the petition keeps the entry. Supervisors of the region read it, with the referral,
  but do not keep it: the list is the petition side's (信访) own.
- **Who sees an entry**: whoever may see its referral (``referrals_visible_to``); anyone else 404.
- **An entry** names the year, the leader, the post (职务), the level (市级 / 县级 / 镇级) and the day
  the case was assigned. A referral has at most one entry that has not been taken off the list
  (a partial unique constraint, and the actions' ``when``); taking it off needs a reason and is
  recorded (``removed_on``, ``removed_by``, ``reason``), never deleted. Both are steps of the
  referral (``referrals/steps.py``): locked, checked, written to the append-only timeline.
- **The figures** count active entries whose referral the reader may see, with the statistics' own
  definitions (``referrals.stats.FIGURES``): 调解结束 ``concluded``, 已办结 ``closed``, 未办结
  ``open`` and 已超期 ``overdue``; 包案 is every active entry, so 包案 = 已办结 + 未办结.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referrals import permissions
from referrals.errors import InvalidInput
from referrals.models import DeadlineStatus, LeaderCase, Referral
from referrals.refs import referral_item
from referrals.registry import RECORD, Action, Extension, Panel
from referrals.stats import FIGURES
from referrals.steps import step
from townships import regions
from townships.validators import FORMULA_START, normalise_name, validate_plausible_date

if TYPE_CHECKING:
    from django.http import QueryDict

    from referrals.permissions import Actor

Level = LeaderCase.Level
NAME_MAX = LeaderCase._meta.get_field("name").max_length
POST_MAX = LeaderCase._meta.get_field("post").max_length
REASON_MAX = LeaderCase._meta.get_field("reason").max_length
LEVEL_ORDER = {value: n for n, value in enumerate(Level.values)}
YEAR_RANGE = (2000, 2100)
# The report's figures besides 包案 itself, each the statistics' own definition.
COUNTED = ("concluded", "closed", "open", "overdue")
DEADLINE_LABELS = dict(DeadlineStatus.choices)
S = TypeVar("S")  # a yearly report's scope (this module's, ``assignments.Scope``, ``appeals.Scope``)


# --- The rule --------------------------------------------------------------------------------


def keeps_leader_list(actor: Actor, referral: Referral) -> bool:
    """Who may put a referral on the list and take it off: the origin office's officers and reviewers."""
    return actor.origin_officer or actor.origin_reviewer


def on_list(referral: Referral) -> bool:
    return LeaderCase.objects.filter(referral=referral, removed_on__isnull=True).exists()


def active_entry(referral: Referral) -> LeaderCase | None:
    return LeaderCase.objects.filter(referral=referral, removed_on__isnull=True).first()


def filter_condition(value: str, errors: dict[str, list[str]]) -> Q | None:
    """``?leader=``: on an active entry of ``city``, ``county`` or ``township`` level (several with
    commas), or ``any``; an entry taken off the list does not count."""
    levels = [v.strip() for v in value.split(",") if v.strip()]
    if levels == ["any"]:
        return Q(pk__in=LeaderCase.objects.filter(removed_on__isnull=True).values("referral_id"))
    unknown = [v for v in levels if v not in Level.values]
    if unknown or not levels:
        shown = ", ".join(unknown) or value
        errors["leader"] = [_("未知的包案层级：%s（应为 city、county、township 或 any）") % shown]
        return None
    active = LeaderCase.objects.filter(removed_on__isnull=True, level__in=levels)
    return Q(pk__in=active.values("referral_id"))


# --- Writing the list ------------------------------------------------------------------------


def check_date(errors: dict[str, list[str]], key: str, value: datetime.date | None, missing: str) -> None:
    """A day typed for something that has happened (``validate_plausible_date``): its mistake, or
    ``missing`` when left out, under ``key``. The bureau's other records (交办件, 复查复核) check theirs so too."""
    if value is None:
        errors[key] = [missing]
        return
    try:
        validate_plausible_date(value)
    except ValidationError as exc:
        errors[key] = [str(m) for m in exc.messages]


def check_entry(referral: Referral, *, name: str, post: str, level: str, assigned_on: datetime.date | None) -> dict:
    """The entry as it is stored; ``InvalidInput`` naming every mistake."""
    errors: dict[str, list[str]] = {}
    name = normalise_name(name)
    post = normalise_name(post)
    if not name:
        errors["name"] = [_("请填写包案领导的姓名。")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("姓名不能超过%d个字。") % NAME_MAX]
    elif name.startswith(FORMULA_START):
        errors["name"] = [_("姓名不能以 =、+、-、@ 开头。")]
    if not post:
        errors["post"] = [_("请填写包案领导的职务。")]
    elif len(post) > POST_MAX:
        errors["post"] = [_("职务不能超过%d个字。") % POST_MAX]
    elif post.startswith(FORMULA_START):
        errors["post"] = [_("职务不能以 =、+、-、@ 开头。")]
    if level not in Level.values:
        errors["level"] = [_("请选择包案层级：市级、县级或镇级。")]
    check_date(errors, "assigned_on", assigned_on, _("请填写包案日期。"))
    if assigned_on is not None and "assigned_on" not in errors and assigned_on < referral.received_on:
        errors["assigned_on"] = [_("包案日期不能早于信访登记日期（%s）。") % referral.received_on.isoformat()]
    if errors:
        raise InvalidInput(errors)
    return {"name": name, "post": post, "level": level, "assigned_on": assigned_on}


def entry_data(entry: LeaderCase) -> dict[str, Any]:
    """What the timeline keeps of an entry."""
    return {
        "name": entry.name,
        "post": entry.post,
        "level": entry.level,
        "level_label": str(Level(entry.level).label),
        "year": entry.year,
        "assigned_on": entry.assigned_on.isoformat(),
    }


def assign_leader(
    referral: Referral, *, by, name: str, post: str, level: str, assigned_on: datetime.date | None
) -> LeaderCase:
    """Put the referral on the year of ``assigned_on``'s list under a leader (列入领导包案).

    Who: the origin office's officers and reviewers. When: it is on no list now (409 otherwise)."""
    clean = check_entry(referral, name=name, post=post, level=level, assigned_on=assigned_on)
    with step(referral, by=by, action="assign_leader") as s:
        entry = LeaderCase.objects.create(
            referral=s.referral, year=clean["assigned_on"].year, assigned_by=by, assigned_at=s.now, **clean
        )
        s.note = _("%(level)s包案领导：%(name)s（%(post)s）") % {
            "level": Level(entry.level).label,
            "name": entry.name,
            "post": entry.post,
        }
        s.data = entry_data(entry)
    return entry


def remove_leader(referral: Referral, *, by, reason: str) -> LeaderCase:
    """Take the referral off its list (撤出领导包案), with the reason; the entry is kept as history.

    Who: the origin office's officers and reviewers. When: it is on a list (409 otherwise)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput({"reason": [_("请填写撤出包案的原因。")]})
    if len(reason) > REASON_MAX:
        raise InvalidInput({"reason": [_("撤出原因不能超过%d个字。") % REASON_MAX]})
    with step(referral, by=by, action="remove_leader") as s:
        # The step holds the referral's lock and has checked that an entry is active.
        entry = LeaderCase.objects.get(referral=s.referral, removed_on__isnull=True)
        entry.removed_on = timezone.localdate(s.now)
        entry.removed_by = by
        entry.reason = reason
        entry.save(update_fields=["removed_on", "removed_by", "reason"])
        s.note = reason
        s.data = {**entry_data(entry), "removed_on": entry.removed_on.isoformat()}
    return entry


# --- Reading it --------------------------------------------------------------------------------


def leader_json(referral: Referral) -> dict[str, Any] | None:
    """The referral's active entry as the API shows it (``leader`` of the referral), or None."""
    entry = active_entry(referral)
    if entry is None:
        return None
    return {
        "name": entry.name,
        "post": entry.post,
        "level": entry.level,
        "level_label": str(Level(entry.level).label),
        "assigned_on": entry.assigned_on.isoformat(),
        "year": entry.year,
    }


def entries_visible_to(user) -> QuerySet[LeaderCase]:
    """Entries (active or taken off) whose referral the user may see."""
    return LeaderCase.objects.filter(referral__in=permissions.referrals_visible_to(user))


@dataclass(frozen=True)
class Scope:
    """Which part of the lists: a year, a level, a region (where the referral is handled)."""

    year: int | None = None
    level: str | None = None
    region: str | None = None

    def query(self) -> str:
        """The scope as a query string (an empty year: every year)."""
        return urlencode({"year": self.year or "", "level": self.level or "", "region": self.region or ""})


def parse_year(raw: str, errors: dict[str, list[str]], *, key: str = "year") -> int | None:
    """A year of a list or a report (empty: None, every year); a bad one is named in ``errors``."""
    raw = raw.strip()
    if not raw:
        return None
    if raw.isdigit() and len(raw) == 4 and YEAR_RANGE[0] <= int(raw) <= YEAR_RANGE[1]:
        return int(raw)
    errors[key] = [_("年度应为 %(low)d 至 %(high)d 之间的四位数字。") % {"low": YEAR_RANGE[0], "high": YEAR_RANGE[1]}]
    return None


def yearly_scope(
    params: QueryDict, parse: Callable[[Mapping[str, str]], S], fallback: Callable[..., S]
) -> tuple[S, dict[str, list[str]], range]:
    """A yearly report page's scope (``parse``) — this year unless asked, every year when asked with
    an empty one — what is wrong with its parameters, and the years its menu offers. With a bad
    parameter the page says so over this year's report (``fallback(year=...)``) rather than failing."""
    this_year = timezone.localdate().year
    years = range(this_year + 1, this_year - 6, -1)
    asked = params if "year" in params else {**params.dict(), "year": str(this_year)}
    try:
        return parse(asked), {}, years
    except InvalidInput as exc:
        return fallback(year=this_year), exc.errors, years


def parse_scope(params: Mapping[str, str]) -> Scope:
    """``year``, ``level`` and ``region`` as given; ``InvalidInput`` naming each bad one. A year left
    out or empty is every year (the page asks for this year unless told: ``yearly_scope``)."""
    errors: dict[str, list[str]] = {}
    year = parse_year(params.get("year") or "", errors)
    level = (params.get("level") or "").strip() or None
    if level is not None and level not in Level.values:
        errors["level"] = [_("未知的包案层级：%s（应为 city、county 或 township）") % level]
    region = (params.get("region") or "").strip() or None
    if region is not None and not regions.is_code(region):
        errors["region"] = [_("区划代码应为数字。")]
    if errors:
        raise InvalidInput(errors)
    return Scope(year=year, level=level, region=region)


def _scoped(user, scope: Scope) -> QuerySet[LeaderCase]:
    # A merged referral counts nowhere (referrals/merging.py), as in the list its numbers open.
    qs = entries_visible_to(user).filter(referral__merged_into__isnull=True)
    if scope.year is not None:
        qs = qs.filter(year=scope.year)
    if scope.level is not None:
        qs = qs.filter(level=scope.level)
    if scope.region is not None:
        qs = qs.filter(regions.within([scope.region], field="referral__region_code"))
    return qs


@dataclass
class Case:
    """One active entry with what the report says of its referral."""

    entry: LeaderCase
    referral: Referral
    flags: dict[str, bool]
    deadline: str | None

    @property
    def deadline_label(self) -> str:
        return str(DEADLINE_LABELS[self.deadline]) if self.deadline else ""


@dataclass
class Leader:
    name: str
    post: str
    level: str
    cases: list[Case] = field(default_factory=list)

    @property
    def level_label(self) -> str:
        return str(Level(self.level).label)

    @property
    def figures(self) -> dict[str, int]:
        return count(self.cases)


def count(cases: list[Case]) -> dict[str, int]:
    return {"cases": len(cases), **{key: sum(1 for c in cases if c.flags[key]) for key in COUNTED}}


@dataclass
class Report:
    scope: Scope
    leaders: list[Leader]
    removed: list[LeaderCase]
    generated_at: datetime.datetime

    @property
    def cases(self) -> list[Case]:
        return [c for leader in self.leaders for c in leader.cases]

    @property
    def totals(self) -> dict[str, int]:
        return count(self.cases)

    @property
    def summary(self) -> str:
        """The report's sentence."""
        t = self.totals
        return (
            _(
                "共包案%(cases)d宗，目前已办结%(closed)d宗，未办结%(open)d宗；其中调解结束%(concluded)d宗，已超期%(overdue)d宗。"
            )
            % t
        )


def report(user, scope: Scope, *, now: datetime.datetime | None = None) -> Report:
    """The list per leader and in total, over the entries whose referral ``user`` may see.

    One query for the active entries, each with one ``EXISTS`` per figure (the statistics'
    conditions, evaluated by the database on the entry's referral), one for the removed ones."""
    now = now or timezone.now()
    flags = {
        f"is_{key}": Exists(Referral.objects.filter(FIGURES[key].where(now), pk=OuterRef("referral_id")))
        for key in COUNTED
    }
    active = (
        _scoped(user, scope)
        .filter(removed_on__isnull=True)
        .select_related("referral__origin", "referral__target", "referral__region__parent")
        .annotate(**flags)
    )
    leaders: dict[tuple[str, str, str], Leader] = {}
    for entry in active:
        r = entry.referral
        key = (entry.level, entry.name, entry.post)
        leader = leaders.setdefault(key, Leader(entry.name, entry.post, entry.level))
        leader.cases.append(
            Case(
                entry=entry,
                referral=r,
                flags={k: bool(getattr(entry, f"is_{k}")) for k in COUNTED},
                deadline=r.deadline_status(now) if r.is_open else None,
            )
        )
    ordered = sorted(leaders.values(), key=lambda g: (LEVEL_ORDER[g.level], g.name, g.post))
    for leader in ordered:
        leader.cases.sort(key=lambda c: (c.entry.assigned_on, c.referral.pk))
    removed = list(
        _scoped(user, scope)
        .filter(removed_on__isnull=False)
        .select_related("referral", "removed_by")
        .order_by("-removed_on", "-id")
    )
    return Report(scope=scope, leaders=ordered, removed=removed, generated_at=now)


def figure_labels() -> list[tuple[str, Any, Any]]:
    """(key, label, definition) of each column, in the report's order; the definitions are the
    statistics' own."""
    return [
        ("cases", gettext_lazy("包案"), gettext_lazy("列入所选年度包案名单、尚未撤出，且您有权查看的案件。")),
        ("concluded", FIGURES["concluded"].label, FIGURES["concluded"].definition),
        ("closed", FIGURES["closed"].label, FIGURES["closed"].definition),
        ("open", gettext_lazy("未办结"), FIGURES["open"].definition),
        ("overdue", FIGURES["overdue"].label, FIGURES["overdue"].definition),
    ]


def case_json(case: Case) -> dict[str, Any]:
    r = case.referral
    return {
        **referral_item(r),
        "year": case.entry.year,
        "assigned_on": case.entry.assigned_on.isoformat(),
        "deadline_status": case.deadline,
        "due_on": r.due_on.isoformat() if r.is_open and r.due_on else None,
        **{key: case.flags[key] for key in COUNTED},
    }


def report_json(rep: Report) -> dict[str, Any]:
    s = rep.scope
    return {
        "scope": {
            "year": s.year,
            "level": s.level,
            "region": s.region,
            "generated_at": timezone.localtime(rep.generated_at).isoformat(),
        },
        "summary": rep.summary,
        "totals": {"leaders": len(rep.leaders), **rep.totals},
        "leaders": [
            {
                "name": g.name,
                "post": g.post,
                "level": g.level,
                "level_label": g.level_label,
                **g.figures,
                "referrals": [case_json(c) for c in g.cases],
            }
            for g in rep.leaders
        ],
        "removed": [
            {
                "referral": {"id": e.referral_id, "number": e.referral.number},
                "name": e.name,
                "post": e.post,
                "level": e.level,
                "level_label": str(Level(e.level).label),
                "year": e.year,
                "assigned_on": e.assigned_on.isoformat(),
                "removed_on": e.removed_on.isoformat(),
                "removed_by": _person(e.removed_by),
                "reason": e.reason,
            }
            for e in rep.removed
        ],
    }


def _person(user) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


# --- The referral page's panel ---------------------------------------------------------------


def leader_panel(request, referral: Referral) -> dict | None:
    """包案领导: the active entry and those taken off, with the forms for those who keep the list.
    Not shown to others while the referral is on no list and never was."""
    from referrals.forms import LeaderForm, RemoveLeaderForm

    user = request.user
    entries = list(LeaderCase.objects.filter(referral=referral).select_related("removed_by").order_by("assigned_at"))
    can_assign = permissions.can(user, referral, "assign_leader")
    can_remove = permissions.can(user, referral, "remove_leader")
    if not entries and not can_assign:
        return None
    bound = getattr(request, "bound_forms", {})

    def form(action: str, form_class):
        return bound.get(action) or form_class(referral=referral, user=user, auto_id=f"id_{action}_%s")

    return {
        "active": next((e for e in entries if e.removed_on is None), None),
        "history": [e for e in reversed(entries) if e.removed_on is not None],
        "assign_form": form("assign_leader", LeaderForm) if can_assign else None,
        "remove_form": form("remove_leader", RemoveLeaderForm) if can_remove else None,
        "assign_url": reverse("referrals:action", args=[referral.pk, "assign_leader"]),
        "remove_url": reverse("referrals:action", args=[referral.pk, "remove_leader"]),
        "open_assign": "assign_leader" in bound,
        "open_remove": "remove_leader" in bound,
    }


# --- The registry ------------------------------------------------------------------------------


def extension() -> Extension:
    """The list's two actions and the referral page's panel (``ReferralsConfig.ready``)."""
    from referrals.forms import LeaderForm, RemoveLeaderForm
    from referrals.serializers import LeaderRemovalSerializer, LeaderSerializer

    return Extension(
        name="leader_cases",
        actions=(
            Action(
                "assign_leader",
                gettext_lazy("列入领导包案"),
                who=keeps_leader_list,
                when=lambda r: not on_list(r),
                kind=RECORD,
                run=assign_leader,
                form=LeaderForm,
                serializer=LeaderSerializer,
                order=60,
                done=gettext_lazy("已列入领导包案。"),
                refused=gettext_lazy("本案已列入领导包案；如需更换包案领导，请先撤出再重新列入。"),
            ),
            Action(
                "remove_leader",
                gettext_lazy("撤出领导包案"),
                who=keeps_leader_list,
                when=on_list,
                kind=RECORD,
                run=remove_leader,
                form=RemoveLeaderForm,
                serializer=LeaderRemovalSerializer,
                order=61,
                done=gettext_lazy("已撤出领导包案，记录已保留。"),
                refused=gettext_lazy("本案当前未列入领导包案。"),
            ),
        ),
        panels=(Panel("leader", "referrals/panel_leader.html", leader_panel, order=5),),
    )
