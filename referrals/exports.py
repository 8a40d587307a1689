"""The referral ledger (台账) as xlsx: ``GET /api/exports/referrals.xlsx?<the list filters>``.

The same filters as the list (``referrals/filters.py``), only the referrals the user may see
(``referrals/permissions.py``), personal data masked exactly as the API masks it for this user
(``party_json``'s fields and masks, with ``can_see_personal_data``). No row cap: rows stream from the database in
chunks into a write-only workbook on disk, so memory stays flat however long the ledger is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from core.audit import log_export
from core.models import AccessLog
from core.openapi import error_responses
from lib.spreadsheets import Column, SheetWriter, dated_filename, new_workbook, xlsx_response
from referrals.api import FILTER_PARAMETERS
from referrals.case_groups import groups_visible_to
from referrals.filters import FilterError, filter_referrals
from referrals.models import (
    OPEN_STATES,
    Appeal,
    Assignment,
    CaseGroupMember,
    Consultation,
    DeadlineStatus,
    LeaderCase,
    Party,
    State,
    Tier,
    due_soon_q,
    overdue_q,
)
from referrals.permissions import can_see_personal_data, referrals_visible_in_bulk
from referrals.registry import registry
from referrals.serializers import contact
from townships.categories import Category
from townships.models import Region

CHUNK = 2000


def ledger_columns() -> list[Column]:
    return [
        Column(_("编号"), 18),
        Column(_("信访件编号"), 16),
        Column(_("信访登记日期"), 13),
        Column(_("纠纷类别"), 12),
        Column(_("状态"), 10),
        Column(_("申请人"), 14),
        Column(_("申请人证件号码"), 22),
        Column(_("申请人电话"), 15),
        Column(_("申请人住址"), 24),
        Column(_("被申请人"), 14),
        Column(_("被申请人证件号码"), 22),
        Column(_("被申请人电话"), 15),
        Column(_("被申请人住址"), 24),
        Column(_("事实摘要"), 40),
        Column(_("诉求"), 30),
        Column(_("移交单位"), 18),
        Column(_("接收单位"), 24),
        Column(_("属地"), 18),
        Column(_("主调解员"), 10),
        Column(_("移交时间"), 17),
        Column(_("调解受理时间"), 17),
        Column(_("调解结束时间"), 17),
        Column(_("调解结果"), 24),
        Column(_("协议金额(元)"), 12),
        Column(_("办结时间"), 17),
        Column(_("当前期限到期日"), 13),
        Column(_("期限状态"), 10),
        Column(_("信访办理期限"), 13),
        Column(_("退回次数"), 8),
        Column(_("调解轮次"), 8),
        Column(_("调解层级"), 18),
        Column(_("审核意见"), 30),
        Column(_("包案领导"), 20),
        Column(_("交办单位"), 12),
        Column(_("交办批次"), 14),
        Column(_("上报期限"), 12),
        Column(_("上报日期"), 12),
        Column(_("律师咨询批次"), 10),
        Column(_("律师咨询人次"), 10),
        Column(_("答复意见送达日期"), 13),
        Column(_("复查"), 22),
        Column(_("复核"), 22),
        Column(_("类案"), 24),
        Column(_("登记时间"), 17),
    ]


# The referral's own columns, read as plain rows: a ledger is tens of thousands of referrals, and
# model instances with their related objects cost more than writing the file did.
FIELDS = (
    "id",
    "number",
    "petition_no",
    "received_on",
    "category",
    "state",
    "summary",
    "claims",
    "origin_id",
    "origin__name",
    "target_id",
    "target__name",
    "region_id",
    "region_code",
    "lead_mediator__name",
    "submitted_at",
    "accepted_at",
    "concluded_at",
    "closed_at",
    "due_on",
    "deadline",
    "petition_due_on",
    "returns_count",
    "round",
    "tier",
    "escalated_from",
    "escalated",
    "review_note",
    "reply_delivered_on",
    "created_at",
    "assignment__level",
    "assignment__batch",
    "assignment__report_due_on",
    "assignment__reported_on",
    "consultation_batches",
    "consultation_persons",
)


def ledger_queryset(user, params) -> QuerySet[Any]:
    """Visible referrals, filtered as on the list, as rows of ``FIELDS``; raises ``FilterError`` for
    unknown filter values. What hangs off a referral is read per chunk by ``ledger_rows``."""
    qs = filter_referrals(referrals_visible_in_bulk(user), params)
    # 律师咨询 linked to the referral, as 批次 and 人次.
    linked = Consultation.objects.filter(referral=OuterRef("pk")).order_by().values("referral")
    now = timezone.now()
    return (
        qs.annotate(
            consultation_batches=Coalesce(Subquery(linked.annotate(n=Count("pk")).values("n")), 0),
            consultation_persons=Coalesce(Subquery(linked.annotate(n=Sum("persons")).values("n")), 0),
            # An open referral's 期限状态, by the expressions the list filter and the statistics use.
            deadline=Case(
                When(~Q(state__in=OPEN_STATES), then=Value("")),
                When(overdue_q(now), then=Value(DeadlineStatus.OVERDUE)),
                When(due_soon_q(now), then=Value(DeadlineStatus.DUE_SOON)),
                When(due_at__isnull=False, then=Value(DeadlineStatus.ON_TIME)),
                default=Value(""),
            ),
            escalated=ExpressionWrapper(Q(escalated_at__isnull=False), output_field=BooleanField()),
        )
        .order_by("-id")
        .values_list(*FIELDS, named=True)
    )


def _by_referral(rows: Iterable[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.referral_id].append(row)
    return grouped


class _Chunk:
    """What hangs off one chunk of referrals, each read by one plain query and grouped by referral:
    parties, the 包案领导 in charge, 复查/复核, the 类案 groups the user may see, and the outcome
    another app (mediation) records."""

    def __init__(self, user, referrals: list[Any]) -> None:
        ids = [r.id for r in referrals]
        self.parties = _by_referral(
            Party.objects.filter(referral_id__in=ids).values_list(
                "referral_id", "role", "name", "id_number", "phone", "address", named=True
            )
        )
        self.leaders = _by_referral(
            LeaderCase.objects.filter(referral_id__in=ids, removed_on__isnull=True).values_list(
                "referral_id", "name", "post", "level", named=True
            )
        )
        self.appeals = _by_referral(
            Appeal.objects.filter(referral_id__in=ids).values_list(
                "referral_id", "kind", "body", "office__name", "requested_on", "outcome", named=True
            )
        )
        self.groups = _by_referral(
            CaseGroupMember.objects.filter(
                referral_id__in=ids, removed_at__isnull=True, group__in=groups_visible_to(user)
            )
            .order_by("group_id")
            .values_list("referral_id", "group__name", named=True)
        )
        self.outcomes = registry.ledger_outcomes({r.id: r.round for r in referrals if r.concluded_at is not None})


class _Places:
    """Regions' full names (蓬江区环市街道), each read once for the whole ledger."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}

    def read(self, referrals: list[Any]) -> dict[int, str]:
        missing = {r.region_id for r in referrals} - self.names.keys()
        if missing:
            for region in Region.objects.filter(pk__in=missing).select_related("parent"):
                self.names[region.pk] = region.full_name()
        return self.names


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    rows = iter(rows)
    while chunk := list(islice(rows, size)):
        yield chunk


class _Labels(dict):
    """A choice's label; a value without one is shown as it is stored (as ``get_FOO_display`` does)."""

    def __missing__(self, value: str) -> str:
        return value


def _labels(choices) -> _Labels:
    return _Labels((value, str(label)) for value, label in choices)


def ledger_rows(user, referrals: Iterable[Any]) -> Iterator[list]:
    """The ledger's cells for rows of ``ledger_queryset``, in its order."""
    places = _Places()
    labels = {
        "category": _labels(Category.choices),
        "state": _labels(State.choices),
        "tier": _labels(Tier.choices),
        "deadline": _labels(DeadlineStatus.choices),
        "leader": _labels(LeaderCase.Level.choices),
        "assignment": _labels(Assignment.Level.choices),
        "appeal": _labels(Appeal.Outcome.choices),
    }
    escalated = _("%(tier)s（由%(from)s升级）")
    under_way = _("办理中")
    for chunk in _chunks(referrals, CHUNK):
        related = _Chunk(user, chunk)
        place = places.read(chunk)
        for r in chunk:
            full = can_see_personal_data(user, r)
            petitioners: list[tuple[str, ...]] = []
            respondents: list[tuple[str, ...]] = []
            for p in related.parties.get(r.id, ()):
                side = petitioners if p.role == Party.Role.PETITIONER else respondents
                side.append((p.name, *contact(p, full=full)))
            outcome, amount = related.outcomes.get(r.id, ("", None))
            leaders = related.leaders.get(r.id)
            leader = leaders[0] if leaders else None
            appeals = {a.kind: a for a in reversed(related.appeals.get(r.id, ()))}
            tier = labels["tier"][r.tier]
            yield [
                r.number,
                r.petition_no,
                r.received_on,
                labels["category"][r.category],
                labels["state"][r.state],
                *_joined(petitioners),
                *_joined(respondents),
                r.summary,
                r.claims,
                r.origin__name,
                r.target__name or "",
                place[r.region_id],
                r.lead_mediator__name or "",
                r.submitted_at,
                r.accepted_at,
                r.concluded_at,
                outcome,
                amount,
                r.closed_at,
                r.due_on if r.state in OPEN_STATES else None,
                labels["deadline"][r.deadline],
                r.petition_due_on,
                r.returns_count,
                r.round,
                escalated % {"tier": tier, "from": labels["tier"][r.escalated_from]} if r.escalated else tier,
                r.review_note,
                f"{leader.name}（{leader.post}，{labels['leader'][leader.level]}）" if leader else "",
                labels["assignment"][r.assignment__level] if r.assignment__level else "",
                r.assignment__batch or "",
                r.assignment__report_due_on,
                r.assignment__reported_on,
                r.consultation_batches,
                r.consultation_persons,
                r.reply_delivered_on,
                *(_appeal(appeals.get(kind), labels["appeal"], under_way) for kind in Appeal.Kind.values),
                "；".join(g.group__name for g in related.groups.get(r.id, ())),
                r.created_at,
            ]


def _joined(parties: list[tuple[str, ...]]) -> list[str]:
    """Name, ID number, phone and address columns of one side, its parties' values joined by "；"."""
    return ["；".join(value for value in values if value) for values in zip(*parties, strict=True)] or [""] * 4


def _appeal(a, outcomes: dict[str, str], under_way: str) -> str:
    """复查 / 复核 as a ledger cell: who, when received, and how it ended (or that it is open)."""
    if a is None:
        return ""
    ended = outcomes.get(a.outcome) or under_way
    return f"{a.body or a.office__name} {a.requested_on.isoformat()} {ended}"


class ReferralLedgerExport(APIView):
    """``GET /api/exports/referrals.xlsx`` → the ledger of what the user may see, as filtered."""

    @extend_schema(
        parameters=FILTER_PARAMETERS,
        responses={
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY,
            **error_responses(400, 401),
        },
    )
    def get(self, request):
        try:
            referrals = ledger_queryset(request.user, request.query_params)
        except FilterError as exc:
            raise serializers.ValidationError(exc.errors) from None
        workbook = new_workbook()
        user = request.user
        who = user.get_full_name() or user.get_username()
        caption = _("访调对接案件台账（%(who)s 导出于 %(at)s）") % {
            "who": who,
            "at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        }
        writer = SheetWriter(workbook, _("台账"), ledger_columns(), caption=caption)
        regions: set[str] = set()
        rows = 0

        def counted(items):
            nonlocal rows
            for referral in items:
                rows += 1
                regions.add(referral.region_code)
                yield referral

        for row in ledger_rows(user, counted(referrals.iterator(chunk_size=CHUNK))):
            writer.write(row)
        response = xlsx_response(workbook, dated_filename(_("访调对接台账")))
        log_export(request, AccessLog.Action.EXPORT_LEDGER, rows=rows, region_codes=regions)
        return response
