"""API of the mediation records, nested under ``/api/referrals/{id}/`` (docs/api.md)."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.audit import log_access
from core.models import AccessLog
from core.openapi import error_responses
from lib.uploads import download
from mediation import workflow
from mediation.access import get_record_for_user
from mediation.dossier import AS_NEEDED, MISSING, MUST, NOT_NEEDED, PRESENT, dossier
from mediation.models import Attachment, MediationSession, SupervisionOrder
from mediation.serializers import (
    AgreementProgressSerializer,
    AgreementSerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    FollowUpSerializer,
    ResponseSerializer,
    SessionSerializer,
    SupervisionSerializer,
)
from referrals import permissions
from referrals.registry import registry

READ_ERRORS = error_responses(401, 404)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409)


def nested_schema(serializer: type):
    """The schema of a ``_Nested`` view: GET lists the records, POST adds one (201)."""
    return extend_schema_view(
        get=extend_schema(responses={200: serializer(many=True), **READ_ERRORS}),
        post=extend_schema(request=serializer, responses={201: serializer, **WRITE_ERRORS}),
    )


def _visible(request, pk: int):
    return permissions.get_referral_for_user(request.user, pk)


class _Nested(APIView):
    """List (GET) and add (POST) one kind of record of a referral."""

    # The records are the serializer's model, added by the action's own workflow function
    # (``Action.run``), and the schema follows from the serializer: nothing to restate per kind.
    serializer_class: type[serializers.ModelSerializer]
    action: str

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        nested_schema(cls.serializer_class)(cls)

    def records(self, referral):
        return self.serializer_class.Meta.model.objects.filter(referral=referral)

    def create(self, request, referral, data):
        return registry.action(self.action).run(referral, by=request.user, **data)

    def get(self, request, pk: int):
        referral = _visible(request, pk)
        return Response(self.serializer_class(self.records(referral), many=True).data)

    def post(self, request, pk: int):
        referral = _visible(request, pk)
        permissions.require(request.user, referral, self.action)
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = self.create(request, referral, serializer.validated_data)
        return Response(self.serializer_class(record).data, status=status.HTTP_201_CREATED)


class Sessions(_Nested):
    serializer_class = SessionSerializer
    action = "record_session"

    def records(self, referral):
        return super().records(referral).prefetch_related("mediators", "lawyers").select_related("created_by")

    def create(self, request, referral, data):
        return workflow.record_session(
            referral,
            by=request.user,
            held_on=data["held_on"],
            location=data["location"],
            participants=data["participants"],
            record=data["record"],
            mediators=data.get("mediators") or None,
            lawyers=data.get("lawyers") or None,
        )


class SessionDetail(APIView):
    """``PATCH /api/referrals/{id}/sessions/{sid}/``: correct a record of the current round."""

    @extend_schema(request=SessionSerializer(partial=True), responses={200: SessionSerializer, **WRITE_ERRORS})
    def patch(self, request, pk: int, sid: int):
        _, session = get_record_for_user(request.user, pk, MediationSession, sid, "update_session")
        serializer = SessionSerializer(session, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        workflow.update_session(
            session,
            by=request.user,
            held_on=data.get("held_on", session.held_on),
            location=data.get("location", session.location),
            participants=data.get("participants", session.participants),
            record=data.get("record", session.record),
            mediators=data.get("mediators") or None,
            lawyers=data.get("lawyers"),  # left out: unchanged; []: none took part
        )
        return Response(SessionSerializer(session).data)


class FollowUps(_Nested):
    serializer_class = FollowUpSerializer
    action = "add_followup"

    def records(self, referral):
        return super().records(referral).select_related("by")


class Supervisions(_Nested):
    serializer_class = SupervisionSerializer
    action = "issue_supervision"

    def records(self, referral):
        return super().records(referral).select_related("issued_by", "responded_by", "addressed_to")


class RespondSupervision(APIView):
    @extend_schema(request=ResponseSerializer, responses={200: SupervisionSerializer, **WRITE_ERRORS})
    def post(self, request, pk: int, sid: int):
        _, order = get_record_for_user(request.user, pk, SupervisionOrder, sid, "respond_supervision")
        serializer = ResponseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = workflow.respond_supervision(order, by=request.user, response=serializer.validated_data["response"])
        return Response(SupervisionSerializer(order).data)


class AgreementProgress(APIView):
    @extend_schema(request=AgreementProgressSerializer, responses={200: AgreementSerializer, **WRITE_ERRORS})
    def post(self, request, pk: int):
        referral = _visible(request, pk)
        permissions.require(request.user, referral, "record_agreement_progress")
        serializer = AgreementProgressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agreement = workflow.record_agreement_progress(referral, by=request.user, **serializer.validated_data)
        return Response(AgreementSerializer(agreement).data)


class Attachments(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses={200: AttachmentSerializer(many=True), **READ_ERRORS})
    def get(self, request, pk: int):
        referral = _visible(request, pk)
        records = Attachment.objects.filter(referral=referral).select_related("uploaded_by")
        return Response(AttachmentSerializer(records, many=True).data)

    @extend_schema(
        request=AttachmentUploadSerializer,
        responses={201: AttachmentSerializer, **WRITE_ERRORS, **error_responses(415)},
    )
    def post(self, request, pk: int):
        referral = _visible(request, pk)
        permissions.require(request.user, referral, "add_attachment")
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachment = workflow.add_attachment(
            referral,
            by=request.user,
            kind=serializer.validated_data["kind"],
            upload=serializer.validated_data["file"],
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


DOSSIER_ENTRY = inline_serializer(
    "DossierEntry",
    {
        "item": serializers.CharField(),
        "label": serializers.CharField(),
        # Plain strings, not enums: "status" enums of other components would collide in name.
        "requirement": serializers.CharField(help_text=f"{MUST} or {AS_NEEDED}"),
        "status": serializers.CharField(help_text=f"{PRESENT}, {MISSING} or {NOT_NEEDED}"),
        "source": serializers.CharField(),
    },
    many=True,
)


class Dossier(APIView):
    @extend_schema(responses={200: DOSSIER_ENTRY, **READ_ERRORS})
    def get(self, request, pk: int):
        referral = _visible(request, pk)
        return Response([vars(e) for e in dossier(referral)])


def serve_attachment(request, pk: int, aid: int) -> FileResponse:
    """An attachment, to those who may see the parties' personal data (origin and current handler)."""
    referral = permissions.get_referral_for_user(request.user, pk)
    try:
        attachment = Attachment.objects.get(pk=aid, referral=referral)
    except Attachment.DoesNotExist:
        raise Http404 from None
    if not permissions.can_see_personal_data(request.user, referral):
        raise permissions.Forbidden(_("材料含当事人个人信息，仅移交单位和当前办理单位可以下载。"))
    log_access(
        request,
        AccessLog.Action.DOWNLOAD_ATTACHMENT,
        referral=referral,
        detail={"attachment": attachment.pk, "kind": attachment.kind, "sha256": attachment.sha256},
    )
    return download(attachment.file, name=attachment.original_name, content_type=attachment.content_type)
