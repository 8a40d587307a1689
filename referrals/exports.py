"""The referral ledger (台账) as xlsx: ``GET /api/exports/referrals.xlsx?<the list filters>``.

The same filters as the list (``referrals/filters.py``), only the referrals the user may see
(``referrals/permissions.py``), personal data masked exactly as the API masks it for this user
(``party_json``'s fields and masks, with ``can_see_personal_data``). No row cap: rows stream from the database in
chunks into a write-only workbook on disk, so memory stays flat however long the ledger is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery, Sum
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
from referrals.assignments import assignment_of
from referrals.case_groups import groups_visible_to
from referrals.filters import FilterError, filter_referrals
from referrals.models import Appeal, CaseGroupMember, Consultation, DeadlineStatus, LeaderCase, Party, Referral
from referrals.permissions import can_see_personal_data, referrals_visible_in_bulk
from referrals.registry import registry
from referrals.serializers import party_json

CHUNK = 500
# Sections another app (mediation) adds to a referral; the ledger shows them when they exist.
LEDGER_SECTIONS = ("outcome", "agreement")


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


def ledger_queryset(user, params) -> QuerySet[Referral]:
    """Visible referrals, filtered as on the list; raises ``FilterError`` for unknown filter values."""
    qs = filter_referrals(referrals_visible_in_bulk(user), params)
    sections = registry.sections
    prefetch = [p for name in LEDGER_SECTIONS if name in sections for p in sections[name].prefetch]
    # 律师咨询 linked to the referral, as 批次 and 人次 (subqueries: the parties' prefetch stays one query).
    linked = Consultation.objects.filter(referral=OuterRef("pk")).order_by().values("referral")
    return (
        qs.annotate(
            consultation_batches=Coalesce(Subquery(linked.annotate(n=Count("pk")).values("n")), 0),
            consultation_persons=Coalesce(Subquery(linked.annotate(n=Sum("persons")).values("n")), 0),
        )
        .select_related("origin", "target", "region__parent", "lead_mediator", "assignment")
        .prefetch_related(
            "parties",
            Prefetch("leader_cases", queryset=LeaderCase.objects.filter(removed_on__isnull=True), to_attr="leaders"),
            Prefetch("appeals", queryset=Appeal.objects.select_related("office")),
            # The 类案 groups it is in now, of those the user may see (as on the referral page).
            Prefetch(
                "case_group_entries",
                queryset=CaseGroupMember.objects.filter(removed_at__isnull=True, group__in=groups_visible_to(user))
                .select_related("group")
                .order_by("group_id"),
                to_attr="groups_now",
            ),
            *prefetch,
        )
        .order_by("-id")
    )


def _joined(parties: list[dict], key: str) -> str:
    return "；".join(p[key] for p in parties if p.get(key))


def _outcome(referral: Referral, user, full: bool) -> tuple[str, object]:
    sections = registry.sections
    outcome = sections["outcome"].serialize(referral, user, full) if "outcome" in sections else None
    agreement = sections["agreement"].serialize(referral, user, full) if "agreement" in sections else None
    if not outcome:
        return "", None
    if outcome.get("result") == "agreement":
        amount = agreement.get("amount") if agreement else None
        return _("达成协议"), float(amount) if amount not in (None, "") else None
    reason = outcome.get("reason_label") or ""
    return (_("终止调解：%s") % reason) if reason else _("终止调解"), None


def _appeal(referral: Referral, kind: str) -> str:
    """复查 / 复核 as a ledger cell: who, when received, and how it ended (or that it is open)."""
    a = next((a for a in referral.appeals.all() if a.kind == kind), None)
    if a is None:
        return ""
    ended = a.get_outcome_display() or _("办理中")
    return f"{a.body or a.office.name} {a.requested_on.isoformat()} {ended}"


def ledger_rows(user, referrals: Iterable[Referral]) -> Iterator[list]:
    now = timezone.now()
    status_labels = dict(DeadlineStatus.choices)
    party_data = party_json
    for r in referrals:
        full = can_see_personal_data(user, r)
        parties = [party_data(p, full=full) for p in r.parties.all()]
        petitioners = [p for p in parties if p["role"] == Party.Role.PETITIONER]
        respondents = [p for p in parties if p["role"] == Party.Role.RESPONDENT]
        outcome, amount = _outcome(r, user, full)
        deadline = r.deadline_status(now) if r.is_open else None
        leader = r.leaders[0] if r.leaders else None
        handed = assignment_of(r)
        yield [
            r.number,
            r.petition_no,
            r.received_on,
            r.get_category_display(),
            r.get_state_display(),
            _joined(petitioners, "name"),
            _joined(petitioners, "id_number"),
            _joined(petitioners, "phone"),
            _joined(petitioners, "address"),
            _joined(respondents, "name"),
            _joined(respondents, "id_number"),
            _joined(respondents, "phone"),
            _joined(respondents, "address"),
            r.summary,
            r.claims,
            r.origin.name,
            r.target.name if r.target else "",
            r.region.full_name(),
            r.lead_mediator.name if r.lead_mediator else "",
            r.submitted_at,
            r.accepted_at,
            r.concluded_at,
            outcome,
            amount,
            r.closed_at,
            r.due_on if r.is_open else None,
            str(status_labels[deadline]) if deadline else "",
            r.petition_due_on,
            r.returns_count,
            r.round,
            _("%(tier)s（由%(from)s升级）") % {"tier": r.get_tier_display(), "from": r.get_escalated_from_display()}
            if r.escalated_at
            else r.get_tier_display(),
            r.review_note,
            f"{leader.name}（{leader.post}，{leader.get_level_display()}）" if leader else "",
            handed.get_level_display() if handed else "",
            handed.batch if handed else "",
            handed.report_due_on if handed else None,
            handed.reported_on if handed else None,
            r.consultation_batches,
            r.consultation_persons,
            r.reply_delivered_on,
            *(_appeal(r, kind) for kind in Appeal.Kind.values),
            "；".join(entry.group.name for entry in r.groups_now),
            r.created_at,
        ]


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
