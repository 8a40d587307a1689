"""复查复核 in the API (``referrals/appeals.py``): the reply's delivery, a request registered by the
office above (by the referral's id, or by its number before the office may see it), its answer, the
figures and the opinion as issued."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from core.audit import log_access
from core.models import AccessLog
from core.openapi import error_responses
from lib.uploads import download
from referrals import appeals, permissions
from referrals.action_serializers import AnswerAppealSerializer, RegisterAppealSerializer, ReplySerializer
from referrals.actions import perform, perform_posted
from referrals.errors import InvalidInput
from referrals.registry import registry

COLUMN_LABELS = {
    "requested": gettext_lazy("申请"),
    "open": gettext_lazy("办理中"),
    "overdue": gettext_lazy("逾期未答复"),
    "answered": gettext_lazy("已答复"),
    "late": gettext_lazy("逾期答复"),
    "upheld": gettext_lazy("维持"),
    "changed": gettext_lazy("变更"),
    "revoked": gettext_lazy("撤销"),
    "withdrawn": gettext_lazy("撤回"),
}
COLUMN_HELP = {
    "requested": "requests received",
    "open": "not answered yet",
    "overdue": "not answered, due_on passed",
    "answered": "answered 维持 / 变更 / 撤销",
    "late": "answered after due_on",
    "upheld": "维持",
    "changed": "变更",
    "revoked": "撤销",
    "withdrawn": "申请人撤回",
}


class AppealOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=appeals.Kind.choices)
    kind_label = serializers.CharField()
    office = inline_serializer("AppealOffice", {"id": serializers.IntegerField(), "name": serializers.CharField()})
    body = serializers.CharField(help_text="the deciding body (the office, or the one outside the system)")
    requested_on = serializers.DateField()
    grounds = serializers.CharField()
    lawyer = inline_serializer(
        "AppealLawyer",
        {"id": serializers.IntegerField(), "name": serializers.CharField(), "firm": serializers.CharField()},
        allow_null=True,
    )
    hearing_days = serializers.IntegerField()
    due_on = serializers.DateField(help_text="30 days from requested_on plus hearing days, past rest days")
    overdue = serializers.BooleanField()
    outcome = serializers.ChoiceField(choices=appeals.Outcome.choices, allow_null=True)
    outcome_label = serializers.CharField(allow_null=True)
    decided_on = serializers.DateField(allow_null=True)
    late = serializers.BooleanField()
    opinion = serializers.CharField()
    delivered_on = serializers.DateField(allow_null=True)
    document = serializers.CharField(allow_null=True, help_text="download URL of the opinion as issued")


class AppealsOut(serializers.Serializer):
    reply_delivered_on = serializers.DateField(allow_null=True)
    next = serializers.ChoiceField(choices=appeals.Kind.choices, allow_null=True, help_text="what may be asked now")
    items = AppealOut(many=True)


AppealFigures = inline_serializer(
    "AppealFigures", {key: serializers.IntegerField(help_text=text) for key, text in COLUMN_HELP.items()}
)


class AppealReportOut(serializers.Serializer):
    scope = inline_serializer(
        "AppealScope", {"year": serializers.IntegerField(allow_null=True), "generated_at": serializers.DateTimeField()}
    )
    summary = serializers.CharField()
    replied = serializers.IntegerField(help_text="closed referrals whose written reply was delivered")
    contested_share = serializers.FloatField(allow_null=True, help_text="复查 requests ÷ replied")
    review = AppealFigures
    re_review = AppealFigures
    items = inline_serializer(
        "AppealListItem",
        {
            "referral": serializers.IntegerField(),
            "number": serializers.CharField(),
            "appeal": AppealOut(),
        },
        many=True,
    )


def _appeals(pk: int, user) -> dict:
    referral = permissions.get_referral_for_user(user, pk)
    return appeals.appeals_json(referral) or {"reply_delivered_on": None, "next": None, "items": []}


class ReferralReply(APIView):
    """``POST /api/referrals/{id}/reply/ {"delivered_on"}`` → 200 with ``appeals``. 404 not visible; 403
    not the origin office's officer or reviewer; 409 not closed, or a 复查 is registered; 400 bad date."""

    @extend_schema(request=ReplySerializer, responses={200: AppealsOut, **error_responses(400, 401, 403, 404, 409)})
    def post(self, request, pk: int):
        perform_posted(request.user, pk, "record_reply", request.data)
        return Response(_appeals(pk, request.user))


class ReferralAppeals(APIView):
    """``POST /api/referrals/{id}/appeals/`` registers the next request (复查, then 复核) → 201 with
    ``appeals``; for an office that already sees the referral. ``POST /api/appeals/`` finds it by number."""

    @extend_schema(
        request=RegisterAppealSerializer, responses={201: AppealsOut, **error_responses(400, 401, 403, 404, 409)}
    )
    def post(self, request, pk: int):
        perform_posted(request.user, pk, "register_appeal", request.data)
        return Response(_appeals(pk, request.user), status=status.HTTP_201_CREATED)


class ReferralAppealAnswer(APIView):
    """``POST /api/referrals/{id}/appeals/answer/`` records the answer to the open request, or a
    hearing's days alone → 200 with ``appeals``. Multipart for the opinion's ``document``."""

    @extend_schema(
        request={"application/json": AnswerAppealSerializer, "multipart/form-data": AnswerAppealSerializer},
        responses={200: AppealsOut, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        perform_posted(request.user, pk, "answer_appeal", request.data)
        return Response(_appeals(pk, request.user))


class AppealByNumberSerializer(RegisterAppealSerializer):
    number = serializers.CharField(max_length=32, help_text="the referral's number, as on the written reply")


class AppealList(APIView):
    """``GET /api/appeals/?year=`` → the figures and the requests over the referrals the user may see.
    ``POST /api/appeals/ {"number", ...}`` → 201: the office above registers a request against a closed
    referral of an office below it, found by its exact number (an unknown number and one not the
    user's to look up answer the same 404)."""

    @extend_schema(
        parameters=[OpenApiParameter("year", int, description="year of the request's receipt; left out: every year")],
        responses={200: AppealReportOut, **error_responses(400, 401)},
    )
    def get(self, request):
        try:
            scope = appeals.parse_scope(request.query_params)
        except InvalidInput as exc:
            raise serializers.ValidationError(exc.errors) from None
        rep = appeals.report(request.user, scope)
        today = timezone.localdate()
        rows = appeals.requests_in(request.user, scope)
        return Response(
            {
                "scope": {"year": scope.year, "generated_at": timezone.localtime(rep.generated_at).isoformat()},
                "summary": rep.summary,
                "replied": rep.replied,
                "contested_share": rep.contested_share,
                **{row.kind: row.figures for row in rep.rows},
                "items": [
                    {"referral": a.referral_id, "number": a.referral.number, "appeal": appeals.appeal_json(a, today)}
                    for a in rows[:200]
                ],
            }
        )

    @extend_schema(
        request=AppealByNumberSerializer, responses={201: AppealsOut, **error_responses(400, 401, 403, 404, 409)}
    )
    def post(self, request):
        body = AppealByNumberSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        payload = dict(body.validated_data)
        referral = appeals.appealable_by_number(request.user, payload.pop("number"))
        if referral is None:
            raise NotFound(str(appeals.NOT_FOUND))
        perform(registry.action("register_appeal"), referral, by=request.user, payload=payload)
        return Response(_appeals(referral.pk, request.user), status=status.HTTP_201_CREATED)


def serve_document(request, pk: int, appeal: int) -> FileResponse:
    """The 复查 / 复核 opinion as issued, to whoever may see the referral (read-audited)."""
    referral = permissions.get_referral_for_user(request.user, pk)
    found = referral.appeals.filter(pk=appeal).first()
    if found is None or not found.document:
        raise Http404(_("没有该意见书。"))
    log_access(request, AccessLog.Action.DOWNLOAD_ATTACHMENT, referral=referral, detail={"appeal": found.pk})
    return download(found.document, name=found.document_name, content_type=found.document_type)
