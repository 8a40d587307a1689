"""交办件 in the API (``referrals/assignments.py``): record or correct a referral's assignment, the
figures by level and batch, and the report as sent. Reporting back is an action like the others
(``POST /api/referrals/{id}/actions/report_back/``)."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.audit import log_access
from core.models import AccessLog
from core.openapi import error_responses
from lib.uploads import download
from referrals import assignments, permissions
from referrals.actions import perform_posted
from referrals.models import Assignment
from referrals.serializers import AssignmentOut, AssignmentSerializer, read_query


class ReferralAssignment(APIView):
    """``POST /api/referrals/{id}/assignment/`` records who handed the referral down, or corrects it
    while not yet reported → 200 with ``assigned_by``. 404 not visible; 403 not the origin office's
    officer or reviewer; 409 already reported; 400 bad input, nothing written."""

    @extend_schema(
        request=AssignmentSerializer,
        responses={200: AssignmentOut, **error_responses(400, 401, 403, 404, 409)},
        description="登记交办件 (or correct it until the report back is made). Who: officers and reviewers "
        "of the origin petition office. The report-back clock (`report_due_on`) is swept like the others.",
    )
    def post(self, request, pk: int):
        referral = perform_posted(request.user, pk, "record_assignment", request.data)
        referral.refresh_from_db()
        return Response(assignments.assignment_json(referral))


class AssignmentFiguresOut(serializers.Serializer):
    received = serializers.IntegerField(help_text="交办: assignments whose referral the user may see")
    concluded = serializers.IntegerField(help_text="调解结束 (statistics figure `concluded`)")
    closed = serializers.IntegerField(help_text="已办结 (`closed`)")
    reported = serializers.IntegerField(help_text="已上报: the report back is recorded")
    overdue = serializers.IntegerField(help_text="逾期未上报: not reported, report_due_on passed")
    reported_late = serializers.IntegerField(help_text="逾期上报: reported after report_due_on")


class AssignmentBatchOut(AssignmentFiguresOut):
    level = serializers.CharField()
    level_label = serializers.CharField()
    batch = serializers.CharField()


class AssignmentLevelOut(AssignmentFiguresOut):
    level = serializers.CharField()
    label = serializers.CharField()
    batches = serializers.IntegerField()


class AssignmentTotalsOut(AssignmentFiguresOut):
    batches = serializers.IntegerField()


class AssignmentScopeOut(serializers.Serializer):
    year = serializers.IntegerField(allow_null=True)
    level = serializers.CharField(allow_null=True)
    generated_at = serializers.DateTimeField()


class AssignmentReportOut(serializers.Serializer):
    scope = AssignmentScopeOut()
    summary = serializers.CharField(help_text="the report's sentences: 省信访局交办n批共m件，已办结k件…")
    totals = AssignmentTotalsOut()
    levels = AssignmentLevelOut(many=True)
    batches = AssignmentBatchOut(many=True)


class AssignmentList(APIView):
    """``GET /api/assignments/?year=&level=`` → 交办件 by level and batch over the referrals the user may
    see: received, concluded, closed, reported back, overdue and reported late."""

    @extend_schema(
        parameters=[
            OpenApiParameter("year", int, description="year of the day assigned (2000–2100); left out: every year"),
            OpenApiParameter("level", str, enum=Assignment.Level.values),
        ],
        responses={200: AssignmentReportOut, **error_responses(400, 401)},
    )
    def get(self, request):
        scope = read_query(assignments.parse_scope, request)
        return Response(assignments.report_json(assignments.report(request.user, scope)))


def serve_report(request, pk: int) -> FileResponse:
    """The report as sent, to whoever may see the referral (it names no party beyond the case)."""
    referral = permissions.get_referral_for_user(request.user, pk)
    a = assignments.assignment_of(referral)
    if a is None or not a.report_file:
        raise Http404(_("本案没有上报材料。"))
    log_access(request, AccessLog.Action.DOWNLOAD_ATTACHMENT, referral=referral, detail={"assignment_report": a.pk})
    return download(a.report_file, name=a.report_file_name, content_type=a.report_file_type)
