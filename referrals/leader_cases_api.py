"""领导包案 in the API (``referrals/leader_cases.py``): put a referral on a leader's list and take it
off, the list's figures per leader, and the list as a workbook."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.audit import log_export
from core.models import AccessLog
from core.openapi import error_responses
from lib.spreadsheets import Column, SheetWriter, dated_filename, new_workbook, xlsx_response
from referrals import leader_cases
from referrals.actions import perform_posted
from referrals.listing import region_label
from referrals.models import LeaderCase
from referrals.serializers import LeaderOut, LeaderRemovalSerializer, LeaderSerializer, ReferralItemOut, read_query

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class BodyOnDelete(AutoSchema):
    """``DELETE .../leader/`` reads a body (``{"reason"}``): document it as a POST's body would be
    (drf-spectacular leaves bodies out of DELETE operations)."""

    def _get_request_body(self, direction="request"):
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"


class ReferralLeader(APIView):
    """``POST /api/referrals/{id}/leader/`` puts the referral on a leader's list (201);
    ``DELETE`` with ``{"reason"}`` takes it off (204). 404 not visible; 403 not the origin office's
    officer or reviewer; 409 already on a list (POST) or on none (DELETE); 400 bad input, nothing
    written."""

    schema = BodyOnDelete()

    @extend_schema(
        request=LeaderSerializer,
        responses={201: LeaderOut, **error_responses(400, 401, 403, 404, 409)},
        description="列入领导包案: the year of the list is the year of `assigned_on`. At most one active "
        "entry per referral (409 while one is). Who: officers and reviewers of the origin petition office.",
    )
    def post(self, request, pk: int):
        referral = perform_posted(request.user, pk, "assign_leader", request.data)
        return Response(leader_cases.leader_json(referral), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=LeaderRemovalSerializer,
        responses={
            204: OpenApiResponse(description="taken off the list; the entry is kept"),
            **error_responses(400, 401, 403, 404, 409),
        },
        description='撤出领导包案, with the reason in the body (`{"reason": "…"}`; required: 400 '
        "otherwise, nothing written). The entry is kept with `removed_on`, `removed_by` and the reason.",
    )
    def delete(self, request, pk: int):
        perform_posted(request.user, pk, "remove_leader", request.data if isinstance(request.data, dict) else {})
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- The report ----------------------------------------------------------------------------------

SCOPE_PARAMETERS = [
    OpenApiParameter("year", int, description="the list's year (2000–2100); left out: every year"),
    OpenApiParameter("level", str, enum=LeaderCase.Level.values, description="city 市级, county 县级, township 镇级"),
    OpenApiParameter("region", str, description="region code (NBS) or its prefix where the referral is handled"),
]


class LeaderFiguresOut(serializers.Serializer):
    cases = serializers.IntegerField(help_text="包案: active entries whose referral the user may see")
    concluded = serializers.IntegerField(help_text="调解结束 (statistics figure `concluded`)")
    closed = serializers.IntegerField(help_text="已办结 (`closed`)")
    open = serializers.IntegerField(help_text="未办结 (`open`): cases − closed")
    overdue = serializers.IntegerField(help_text="已超期 (`overdue`): past the current stage's deadline")


class LeaderCaseOut(ReferralItemOut):
    year = serializers.IntegerField()
    assigned_on = serializers.DateField()
    deadline_status = serializers.CharField(allow_null=True)
    due_on = serializers.DateField(allow_null=True)
    concluded = serializers.BooleanField()
    closed = serializers.BooleanField()
    open = serializers.BooleanField()
    overdue = serializers.BooleanField()


class LeaderRowOut(LeaderFiguresOut):
    name = serializers.CharField()
    post = serializers.CharField()
    level = serializers.CharField()
    level_label = serializers.CharField()
    referrals = LeaderCaseOut(many=True)


class LeaderTotalsOut(LeaderFiguresOut):
    leaders = serializers.IntegerField()


class LeaderReferralOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class LeaderPersonOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class LeaderRemovedOut(serializers.Serializer):
    referral = LeaderReferralOut()
    name = serializers.CharField()
    post = serializers.CharField()
    level = serializers.CharField()
    level_label = serializers.CharField()
    year = serializers.IntegerField()
    assigned_on = serializers.DateField()
    removed_on = serializers.DateField()
    removed_by = LeaderPersonOut(allow_null=True)
    reason = serializers.CharField()


class LeaderScopeOut(serializers.Serializer):
    year = serializers.IntegerField(allow_null=True)
    level = serializers.CharField(allow_null=True)
    region = serializers.CharField(allow_null=True)
    generated_at = serializers.DateTimeField()


class LeaderCaseReportOut(serializers.Serializer):
    scope = LeaderScopeOut()
    summary = serializers.CharField(help_text="the report's sentence: 共包案n宗，目前已办结m宗，未办结k宗…")
    totals = LeaderTotalsOut()
    leaders = LeaderRowOut(many=True)
    removed = LeaderRemovedOut(many=True, help_text="entries taken off the list, newest first")


class LeaderCaseList(APIView):
    """``GET /api/leader-cases/?year=&level=&region=`` → the lists per leader and in total, over the
    referrals the user may see."""

    @extend_schema(parameters=SCOPE_PARAMETERS, responses={200: LeaderCaseReportOut, **error_responses(400, 401)})
    def get(self, request):
        scope = read_query(leader_cases.parse_scope, request)
        return Response(leader_cases.report_json(leader_cases.report(request.user, scope)))


def summary_columns() -> list[Column]:
    return [
        Column(_("层级"), 8),
        Column(_("包案领导"), 12),
        Column(_("职务"), 20),
        *(Column(str(label), 10) for _key, label, _definition in leader_cases.figure_labels()),
    ]


def _entry_columns() -> list[Column]:
    """The columns that name an entry, first on the sheets of cases and of removed entries."""
    return [
        Column(_("年度"), 7),
        Column(_("层级"), 8),
        Column(_("包案领导"), 12),
        Column(_("职务"), 20),
        Column(_("包案日期"), 12),
        Column(_("案件编号"), 18),
    ]


def case_columns() -> list[Column]:
    return [
        *_entry_columns(),
        Column(_("纠纷类别"), 12),
        Column(_("状态"), 10),
        Column(_("移交单位"), 18),
        Column(_("接收单位"), 24),
        Column(_("属地"), 18),
        Column(_("调解结束时间"), 17),
        Column(_("办结时间"), 17),
        Column(_("当前期限到期日"), 13),
        Column(_("期限状态"), 10),
        Column(_("信访办理期限"), 13),
    ]


def removed_columns() -> list[Column]:
    return [
        *_entry_columns(),
        Column(_("撤出日期"), 12),
        Column(_("撤出登记人"), 12),
        Column(_("撤出原因"), 40),
    ]


class LeaderCaseExport(APIView):
    """``GET /api/exports/leader-cases.xlsx?year=&level=&region=`` → the lists as a workbook: per
    leader with the total, every case, and the entries taken off. Written to the read audit."""

    @extend_schema(
        parameters=SCOPE_PARAMETERS,
        responses={(200, XLSX): OpenApiTypes.BINARY, **error_responses(400, 401)},
    )
    def get(self, request):
        rep = leader_cases.report(request.user, read_query(leader_cases.parse_scope, request))
        user = request.user
        caption = _("领导包案台账（%(scope)s；%(who)s 导出于 %(at)s）") % {
            "scope": scope_label(rep.scope),
            "who": user.get_full_name() or user.get_username(),
            "at": timezone.localtime(rep.generated_at).strftime("%Y-%m-%d %H:%M"),
        }
        workbook = new_workbook()
        summary = SheetWriter(workbook, _("包案汇总"), summary_columns(), caption=caption)
        keys = [key for key, _label, _definition in leader_cases.figure_labels()]
        for leader in rep.leaders:
            figures = leader.figures
            summary.write([leader.level_label, leader.name, leader.post, *(figures[k] for k in keys)])
        totals = rep.totals
        summary.write([_("合计"), "", "", *(totals[k] for k in keys)])
        summary.write([rep.summary])
        cases = SheetWriter(workbook, _("包案明细"), case_columns())
        regions: set[str] = set()
        for leader in rep.leaders:
            for case in leader.cases:
                r = case.referral
                regions.add(r.region_code)
                cases.write(
                    [
                        case.entry.year,
                        leader.level_label,
                        leader.name,
                        leader.post,
                        case.entry.assigned_on,
                        r.number,
                        r.get_category_display(),
                        r.get_state_display(),
                        r.origin.name,
                        r.target.name if r.target else "",
                        r.region.full_name(),
                        r.concluded_at,
                        r.closed_at,
                        r.due_on if r.is_open else None,
                        case.deadline_label,
                        r.petition_due_on,
                    ]
                )
        removed = SheetWriter(workbook, _("已撤出"), removed_columns())
        for e in rep.removed:
            regions.add(e.referral.region_code)
            removed.write(
                [
                    e.year,
                    e.get_level_display(),
                    e.name,
                    e.post,
                    e.assigned_on,
                    e.referral.number,
                    e.removed_on,
                    (e.removed_by.get_full_name() or e.removed_by.get_username()) if e.removed_by else "",
                    e.reason,
                ]
            )
        response = xlsx_response(workbook, dated_filename(_("领导包案台账")))
        log_export(
            request, AccessLog.Action.EXPORT_LEDGER, rows=len(rep.cases) + len(rep.removed), region_codes=regions
        )
        return response


def scope_label(scope: leader_cases.Scope) -> str:
    """The scope in words, for captions: 2026年度 · 县级 · 440703."""
    parts = [(_("%d年度") % scope.year) if scope.year else _("全部年度")]
    if scope.level:
        parts.append(str(LeaderCase.Level(scope.level).label))
    if scope.region:
        parts.append(region_label(scope.region))
    return " · ".join(parts)
