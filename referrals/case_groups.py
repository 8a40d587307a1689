"""类案 (case groups): many petitions about one underlying problem — one housing estate, one land
requisition — handled together by a special working group (专项工作小组), as the Jiangmen bureau's report
describes (「建立10个专项工作小组负责开展信访类案化解工作」).

- **Who leads a group**: one organisation, a petition office or a justice bureau. Its officers,
  reviewers, dispatchers and supervisors manage the group (``manages``): they create it, add and take
  out referrals, and write its working notes. The working group's people are named on it
  (``working_group``), since many of them (a township head, a housing bureau's officer) are no users.
- **Who sees a group** (``groups_visible_to``): the members of its lead organisation, the committees
  handling one of its referrals (they hold its combined sessions), and supervisors whose area holds
  the lead organisation; anyone else 404. The group page lists only the member referrals
  the reader may see (``referrals_visible_to``), and says how many others there are, never which.
- **A referral joins** a group only if the manager may see it and has a part in it as the lead side
  does (the origin office's officers or reviewers, the area's supervisors or routers: the ``who`` of
  ``join_case_group``); joining and leaving are steps of the referral (timeline, lock). Leaving needs
  a reason and is recorded, never deleted. A referral is in a group once at a time; it may be in
  several groups (a land requisition and a housing estate).
- **Each member keeps its own workflow**: its clocks, its committee, its outcome. A combined session
  (mediation's ``record_group_session``) records one mediation session on each member at once.
- **The figures** (``report``: the group list, the home page's card, ``GET /api/case-groups/`` and
  ``…/figures/``) count a group's current members the reader may see, merged ones nowhere, with the
  statistics' own definitions (``referrals.stats.FIGURES``): 调解结束, 化解 (``succeeded``), 已办结,
  未办结 and 已超期. The totals count each referral once, though it may be in several groups.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referrals import permissions
from referrals.errors import Forbidden, InvalidInput
from referrals.models import CaseGroup, CaseGroupMember, CaseGroupNote, Referral
from referrals.registry import RECORD, Action, Extension, Panel
from referrals.stats import FIGURES, figure_conditions
from referrals.steps import step
from townships import regions
from townships.models import Membership, Organisation, Role
from townships.validators import FORMULA_START

if TYPE_CHECKING:
    from django.http import HttpRequest

    from referrals.permissions import Actor, AnyUser

LEAD_KINDS = (Organisation.Kind.PETITION_OFFICE, Organisation.Kind.JUSTICE_BUREAU)
LEAD_ROLES = (Role.OFFICER, Role.REVIEWER, Role.DISPATCHER, Role.SUPERVISOR)
NAME_MAX = CaseGroup._meta.get_field("name").max_length
DESCRIPTION_MAX = CaseGroup._meta.get_field("description").max_length
WORKING_GROUP_MAX = CaseGroup._meta.get_field("working_group").max_length
REASON_MAX = CaseGroupMember._meta.get_field("reason").max_length
NOTE_MAX = CaseGroupNote._meta.get_field("text").max_length


# --- Who -------------------------------------------------------------------------------------


def lead_choices(user: AnyUser) -> QuerySet[Organisation]:
    """The organisations the user may lead a group for (a petition office or a justice bureau of theirs)."""
    if user.pk is None:  # not signed in
        return Organisation.objects.none()
    if user.is_superuser:
        return Organisation.objects.filter(kind__in=LEAD_KINDS, active=True).order_by("region__code", "name")
    led = Membership.objects.filter(user_id=user.pk, role__in=LEAD_ROLES).values("organisation_id")
    return Organisation.objects.filter(pk__in=led, kind__in=LEAD_KINDS).order_by("region__code", "name")


def groups_visible_to(user: AnyUser) -> QuerySet[CaseGroup]:
    if not user.is_authenticated:
        return CaseGroup.objects.none()
    if user.is_superuser:
        return CaseGroup.objects.all()
    own = Membership.objects.filter(user_id=user.pk).values("organisation_id")
    areas = permissions.grants_of(user).region_codes("supervise_region")
    # A committee mediating a member sees the group too: it holds the combined sessions.
    handling = CaseGroupMember.objects.filter(removed_at__isnull=True, referral__target__in=own).values("group_id")
    return CaseGroup.objects.filter(
        Q(lead_organisation__in=own)
        | Q(pk__in=handling)
        | regions.within(areas, field="lead_organisation__region__code")
    )


def group_for(user: AnyUser, pk: int) -> CaseGroup:
    """The group if the user may see it; 404 otherwise (whether or not it exists)."""
    group = groups_visible_to(user).select_related("lead_organisation").filter(pk=pk).first()
    if group is None:
        raise Http404
    return group


def manages(user: AnyUser, group: CaseGroup) -> bool:
    return lead_choices(user).filter(pk=group.lead_organisation_id).exists()


def require_manager(user: AnyUser, group: CaseGroup) -> None:
    if not manages(user, group):
        raise Forbidden(_("只有牵头单位的工作人员可以管理本类案。"))


def may_join(actor: Actor, referral: Referral) -> bool:
    """The ``who`` of joining and leaving: a part in the referral on the side that leads groups."""
    return bool(actor.origin_officer or actor.origin_reviewer or actor.supervisor or actor.router)


# --- Writing ---------------------------------------------------------------------------------


def _text(value: str, field: str, limit: int | None, errors: dict[str, list[str]], *, required: str = "") -> str:
    value = (value or "").strip()
    if required and not value:
        errors[field] = [required]
    elif limit is not None and len(value) > limit:
        errors[field] = [_("不能超过%d个字。") % limit]
    elif value.startswith(FORMULA_START):
        # As every name the bureau keeps: copied into a spreadsheet, a leading =, +, - or @ would run as a formula.
        errors[field] = [_("不能以 =、+、-、@ 开头。")]
    return value


def create_group(
    *, by: Any, name: str, lead_organisation: Organisation | None, description: str = "", working_group: str = ""
) -> CaseGroup:
    """Set up a 类案 group led by one of the user's organisations; ``InvalidInput`` naming every mistake."""
    errors: dict[str, list[str]] = {}
    values = {
        "name": _text(name, "name", NAME_MAX, errors, required=_("请填写类案名称。")),
        "description": _text(description, "description", DESCRIPTION_MAX, errors),
        "working_group": _text(working_group, "working_group", WORKING_GROUP_MAX, errors),
    }
    if lead_organisation is None or not lead_choices(by).filter(pk=lead_organisation.pk).exists():
        errors["lead_organisation"] = [_("牵头单位须为您所在的信访部门或司法局。")]
    if errors:
        raise InvalidInput(errors)
    assert lead_organisation is not None  # refused above otherwise
    return CaseGroup.objects.create(lead_organisation=lead_organisation, created_by=by, **values)


def join_case_group(referral: Referral, *, by: Any, group: CaseGroup) -> CaseGroupMember:
    """Put a referral the user may see into the group (列入类案). 403 unless the user manages the group and
    has a part in the referral; 400 if it is in the group already."""
    require_manager(by, group)
    try:
        with step(referral, by=by, action="join_case_group") as s:
            with transaction.atomic():
                member = CaseGroupMember.objects.create(group=group, referral=s.referral, added_by=by, added_at=s.now)
            s.note = _("列入类案：%s") % group.name
            s.data = {"group": group.pk, "group_name": group.name}
    except IntegrityError:
        raise InvalidInput({"referral": [_("%s 已在本类案中。") % referral.number]}) from None
    return member


def leave_case_group(referral: Referral, *, by: Any, group: CaseGroup, reason: str) -> CaseGroupMember:
    """Take a referral out of the group (移出类案), with the reason; the entry is kept."""
    require_manager(by, group)
    errors: dict[str, list[str]] = {}
    reason = _text(reason, "reason", REASON_MAX, errors, required=_("请填写移出类案的原因。"))
    if errors:
        raise InvalidInput(errors)
    with step(referral, by=by, action="leave_case_group") as s:
        member = CaseGroupMember.objects.filter(group=group, referral=s.referral, removed_at__isnull=True).first()
        if member is None:
            raise InvalidInput({"referral": [_("%s 不在本类案中。") % referral.number]})
        member.removed_at, member.removed_by, member.reason = s.now, by, reason
        member.save(update_fields=["removed_at", "removed_by", "reason"])
        s.note = _("移出类案：%(group)s（%(reason)s）") % {"group": group.name, "reason": reason}
        s.data = {"group": group.pk, "group_name": group.name}
    return member


def add_note(group: CaseGroup, *, by: Any, text: str) -> CaseGroupNote:
    """A working note of the group (工作记录), by its managers."""
    require_manager(by, group)
    errors: dict[str, list[str]] = {}
    text = _text(text, "text", NOTE_MAX, errors, required=_("请填写工作记录。"))
    if errors:
        raise InvalidInput(errors)
    return CaseGroupNote.objects.create(group=group, text=text, created_by=by)


# --- Reading ---------------------------------------------------------------------------------


def referral_by_number(user: AnyUser, number: str) -> Referral:
    """A referral the user may see, by its number as typed on the group page; 400 naming it otherwise
    (a number the user may not see reads as unknown: nothing says it exists)."""
    found = permissions.visible_by_number(user, number)
    if found is None:
        shown = permissions.typed_number(number) or "—"
        raise InvalidInput({"referral": [_("未找到您可查看的案件：%s") % shown]})
    return found


def members(group: CaseGroup, user: AnyUser) -> tuple[list[Referral], int]:
    """The group's current member referrals the user may see (oldest first, with what a table of them
    shows), and how many other members there are."""
    active = list(
        CaseGroupMember.objects.filter(group=group, removed_at__isnull=True).values_list("referral_id", flat=True)
    )
    # The few member ids, not a subquery: asked the other way round, the visibility union reads
    # every referral the user may see (``report``).
    shown = list(
        permissions.referrals_visible_to(user)
        .filter(pk__in=active)
        .select_related("target", "origin", "region")
        .order_by("received_on", "pk")
    )
    return shown, len(active) - len(shown)


def with_counts(groups: QuerySet[CaseGroup]) -> QuerySet[CaseGroup]:
    return groups.select_related("lead_organisation").annotate(
        size=Count("memberships", filter=Q(memberships__removed_at__isnull=True))
    )


# What the figures count of a group's members, each the statistics' own definition.
COUNTED = ("concluded", "succeeded", "closed", "open", "overdue")


@dataclass
class GroupFigures:
    group: CaseGroup
    figures: dict[str, int]  # ``cases`` and each of ``COUNTED``, over the members the reader may see
    hidden: int  # members the reader may not see: counted, never named

    @property
    def cells(self) -> list[dict[str, Any]]:
        """The figures in the columns' order, for a table row."""
        return [{"key": key, "label": label, "value": self.figures[key]} for key, label, _d in figure_labels()]


@dataclass
class Report:
    groups: list[GroupFigures]
    totals: dict[str, int]  # ``groups``, ``cases`` (each referral once) and each of ``COUNTED``
    generated_at: datetime.datetime

    @property
    def summary(self) -> str:
        return (
            _(
                "共有类案%(groups)d个，涉及案件%(cases)d件，已化解%(succeeded)d件，已办结%(closed)d件，"
                "未办结%(open)d件，其中已超期%(overdue)d件。"
            )
            % self.totals
        )


def report(user: AnyUser, *, now: datetime.datetime | None = None) -> Report:
    """Each group the user may see (newest first) with its figures, and the totals.

    Three queries: the groups with their sizes; their current members, each with one ``EXISTS`` per
    figure (the statistics' conditions, evaluated on the member's referral); which of those the user
    may see."""
    now = now or timezone.now()
    groups = list(with_counts(groups_visible_to(user)).order_by("-pk"))
    flags = {
        key: Exists(Referral.objects.filter(figure_conditions([key], now), pk=OuterRef("referral_id")))
        for key in COUNTED
    }
    rows = list(
        CaseGroupMember.objects.filter(group__in=[g.pk for g in groups], removed_at__isnull=True)
        .annotate(**flags)
        .values("group_id", "referral_id", "referral__merged_into", *COUNTED)
    )
    # Which members the user may see, asked of those few ids: the visibility union joined the other
    # way round reads every referral an office may see (0.8 s for 82,000 at 10⁶).
    visible = set(
        permissions.referrals_visible_to(user)
        .filter(pk__in={row["referral_id"] for row in rows})
        .values_list("pk", flat=True)
    )
    rows = [row for row in rows if row["referral_id"] in visible]
    seen: dict[int, int] = {}
    per_group: dict[int, dict[str, int]] = {g.pk: dict.fromkeys(("cases", *COUNTED), 0) for g in groups}
    counted: dict[int, dict[str, Any]] = {}
    for row in rows:
        gid = row["group_id"]
        seen[gid] = seen.get(gid, 0) + 1
        if row["referral__merged_into"] is not None:  # a merged referral counts nowhere (referrals/merging.py)
            continue
        figures = per_group[gid]
        figures["cases"] += 1
        for key in COUNTED:
            figures[key] += bool(row[key])
        counted[row["referral_id"]] = row
    totals = {
        "groups": len(groups),
        "cases": len(counted),
        **{key: sum(1 for row in counted.values() if row[key]) for key in COUNTED},
    }
    return Report(
        groups=[GroupFigures(g, per_group[g.pk], g.size - seen.get(g.pk, 0)) for g in groups],  # type: ignore[attr-defined]
        totals=totals,
        generated_at=now,
    )


def figure_labels() -> list[tuple[str, Any, Any]]:
    """(key, label, definition) of each column, in the report's order; the definitions are the
    statistics' own."""
    return [
        ("cases", gettext_lazy("案件"), gettext_lazy("类案现有的、您有权查看的案件（已合并的不计）。")),
        *((key, FIGURES[key].label, FIGURES[key].definition) for key in ("concluded", "succeeded", "closed")),
        ("open", gettext_lazy("未办结"), FIGURES["open"].definition),
        ("overdue", FIGURES["overdue"].label, FIGURES["overdue"].definition),
    ]


def groups_of(referral: Referral, user: AnyUser) -> list[CaseGroup]:
    """The groups the referral is in now that the user may see."""
    entries = CaseGroupMember.objects.filter(referral=referral, removed_at__isnull=True).values("group_id")
    return list(groups_visible_to(user).filter(pk__in=entries).order_by("pk"))


def groups_panel(request: HttpRequest, referral: Referral) -> dict[str, Any] | None:
    found = groups_of(referral, request.user)
    if not found:
        return None
    return {"groups": [(g, reverse("referrals:case_group", args=[g.pk])) for g in found]}


def extension() -> Extension:
    return Extension(
        name="case_groups",
        actions=(
            Action(
                "join_case_group",
                gettext_lazy("列入类案"),
                who=may_join,
                when=lambda r: True,
                kind=RECORD,
                run=join_case_group,
                order=65,
            ),
            Action(
                "leave_case_group",
                gettext_lazy("移出类案"),
                who=may_join,
                when=lambda r: True,
                kind=RECORD,
                run=leave_case_group,
                order=66,
            ),
        ),
        panels=(Panel("case_groups", "referrals/panel_case_groups.html", groups_panel, order=8),),
    )
