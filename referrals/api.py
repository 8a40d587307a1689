"""REST API for referrals, organisations, rosters and timelines (DESIGN.md §6)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import error_responses
from referrals import permissions, workflow
from referrals.audit import log_access, log_list_access
from referrals.errors import WorkflowError
from referrals.extensions import ACTION_HANDLERS, ActionHandler, section_prefetches
from referrals.filters import FilterError, filter_referrals
from referrals.models import AccessLog, TimelineEvent
from referrals.serializers import (
    AcceptSerializer,
    CloseSerializer,
    DeclineSerializer,
    EmptySerializer,
    ExtendSerializer,
    MediatorSerializer,
    NoteSerializer,
    OrganisationSerializer,
    ReasonSerializer,
    ReferralSerializer,
    ReferralWriteSerializer,
    TargetSerializer,
    TimelineEventSerializer,
)
from townships.models import Mediator, Organisation


def workflow_error_response(exc: WorkflowError) -> Response:
    return Response(exc.as_dict(), status=exc.status)


def referral_queryset(user):
    """Visible referrals with everything a page of them needs, in a fixed number of queries."""
    return (
        permissions.referrals_visible_to(user)
        .select_related("origin", "target", "target__region", "region", "lead_mediator")
        .prefetch_related("parties", "mediators", *section_prefetches())
    )


# The list filters (referrals/filters.py), shared by the list, the ledger export and the statistics.
FILTER_PARAMETERS = [
    OpenApiParameter("state", str, description="state, or several separated by commas"),
    OpenApiParameter("category", str, description="dispute category, or several separated by commas"),
    OpenApiParameter("target", int, description="receiving organisation id"),
    OpenApiParameter("origin", int, description="referring petition office id"),
    OpenApiParameter("region", str, description="region code (NBS) or its prefix: digits, at most 12"),
    *(OpenApiParameter(flag, bool) for flag in ("open", "overdue", "due_soon", "ping_pong", "repeat")),
    OpenApiParameter("from", OpenApiTypes.DATE, description="received on or after (YYYY-MM-DD)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="received on or before (YYYY-MM-DD)"),
    OpenApiParameter("figure", str, description="the referrals behind statistics figures (keys, commas)"),
    OpenApiParameter("search", str, description="number, petition number, summary or party name (≤ 100)"),
]


class ReferralCursorPagination(CursorPagination):
    page_size = 25
    max_page_size = 100
    page_size_query_param = "page_size"
    # The id is unique and indexed with every scope column (origin, target, region, state).
    ordering = "-id"


class ReferralListCreate(generics.GenericAPIView):
    serializer_class = ReferralSerializer
    pagination_class = ReferralCursorPagination

    @extend_schema(
        operation_id="list_referrals",
        parameters=FILTER_PARAMETERS,
        responses={200: ReferralSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request):
        try:
            qs = filter_referrals(referral_queryset(request.user), request.query_params)
        except FilterError as exc:
            raise serializers.ValidationError(exc.errors) from None
        page = self.paginate_queryset(qs)
        context = {"request": request}
        data = ReferralSerializer(page, many=True, context=context).data
        log_list_access(request, page, {pk for pk, full in context.get("_full", {}).items() if full})
        return self.get_paginated_response(data)

    @extend_schema(
        request=ReferralWriteSerializer, responses={201: ReferralSerializer, **error_responses(400, 401, 403)}
    )
    def post(self, request):
        origin = _origin_for(request.user, request.data.get("origin") if isinstance(request.data, dict) else None)
        serializer = ReferralWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            referral = workflow.create_referral(by=request.user, origin=origin, data=serializer.to_input())
        except WorkflowError as exc:
            return workflow_error_response(exc)
        referral = referral_queryset(request.user).get(pk=referral.pk)
        return Response(ReferralSerializer(referral, context={"request": request}).data, status=201)


def _origin_for(user, requested) -> Organisation:
    """The petition office a new referral comes from: the one given, or the user's only one."""
    offices = permissions.grants_of(user).orgs("refer_from")
    if requested not in (None, ""):
        try:
            pk = int(requested)
        except (TypeError, ValueError):
            raise serializers.ValidationError({"origin": [_("应为数字。")]}) from None
        if pk not in offices:
            raise permissions.Forbidden(_("您不是该信访部门的信访干部。"))
        return Organisation.objects.select_related("region").get(pk=pk)
    if not offices:
        raise permissions.Forbidden(_("只有信访部门的信访干部可以登记案件。"))
    if len(offices) > 1:
        raise serializers.ValidationError({"origin": [_("您属于多个信访部门，请指定 origin。")]})
    return Organisation.objects.select_related("region").get(pk=next(iter(offices)))


class ReferralDetail(generics.GenericAPIView):
    serializer_class = ReferralSerializer

    @extend_schema(responses={200: ReferralSerializer, **error_responses(401, 404)})
    def get(self, request, pk: int):
        referral = permissions.get_referral_for_user(request.user, pk, queryset=referral_queryset(request.user))
        data = ReferralSerializer(referral, context={"request": request}).data
        if data["personal_data"] == "full":
            log_access(request, AccessLog.Action.VIEW_PERSONAL_DATA, referral=referral)
        return Response(data)

    @extend_schema(
        # Merged into the draft as it is: every field is optional.
        request=ReferralWriteSerializer(partial=True),
        responses={200: ReferralSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request, pk: int):
        referral = permissions.get_referral_for_user(request.user, pk, queryset=referral_queryset(request.user))
        try:
            permissions.require(request.user, referral, "edit")
        except WorkflowError as exc:
            return workflow_error_response(exc)
        if not isinstance(request.data, dict):
            # A list or a number cannot be merged into the draft (a 500 before): the serializer says
            # what it expects, as it does for a POST.
            ReferralWriteSerializer(data=request.data).is_valid(raise_exception=True)
        current = ReferralSerializer(referral, context={"request": request}).data
        merged = {
            "received_on": current["received_on"],
            "petition_no": current["petition_no"],
            "category": current["category"],
            "summary": current["summary"],
            "claims": current["claims"],
            "target": current["target"]["id"] if current["target"] else None,
            "scope": {"ground": current["scope"]["ground"], "exclusions_absent": current["scope"]["exclusions_absent"]},
            "parties": [
                {k: v for k, v in p.items() if k != "id" and (k != "consent" or v)} for p in current["parties"]
            ],
            **request.data,
        }
        serializer = ReferralWriteSerializer(data=merged)
        serializer.is_valid(raise_exception=True)
        try:
            workflow.update_draft(referral, by=request.user, data=serializer.to_input())
        except WorkflowError as exc:
            return workflow_error_response(exc)
        referral = referral_queryset(request.user).get(pk=pk)
        return Response(ReferralSerializer(referral, context={"request": request}).data)


def _run(fn):
    return lambda referral, *, by, **data: fn(referral, by=by, **data)


ACTIONS: dict[str, ActionHandler] = {
    "submit": ActionHandler(EmptySerializer, _run(workflow.submit_referral)),
    "dispatch": ActionHandler(TargetSerializer, _run(workflow.dispatch_referral)),
    "accept": ActionHandler(AcceptSerializer, _run(workflow.accept_referral)),
    "decline": ActionHandler(DeclineSerializer, _run(workflow.decline_referral)),
    "redirect": ActionHandler(TargetSerializer, _run(workflow.redirect_referral)),
    "extend": ActionHandler(ExtendSerializer, _run(workflow.extend_mediation)),
    "suspend": ActionHandler(ReasonSerializer, _run(workflow.suspend_mediation)),
    "resume": ActionHandler(NoteSerializer, _run(workflow.resume_mediation)),
    "close": ActionHandler(CloseSerializer, _run(workflow.close_referral)),
    "reopen": ActionHandler(ReasonSerializer, _run(workflow.reopen_referral)),
}


def action_handler(name: str) -> ActionHandler | None:
    return ACTIONS.get(name) or ACTION_HANDLERS.get(name)


# What the actions read (DESIGN.md §6), as one object: each action takes its own fields from it.
ACTION_REQUEST = inline_serializer(
    "ReferralActionRequest",
    {
        "note": serializers.CharField(required=False, allow_blank=True),
        "target": serializers.IntegerField(required=False, help_text="dispatch, redirect"),
        "mediators": serializers.ListField(
            child=serializers.IntegerField(), required=False, help_text="accept: roster ids, lead first"
        ),
        "rights_explained": serializers.BooleanField(required=False, help_text="accept"),
        "reason": serializers.CharField(
            required=False, help_text="decline (a reason code), fail (a code), extend, suspend, reopen"
        ),
        "days": serializers.IntegerField(required=False, help_text="extend"),
        "parties_consented": serializers.BooleanField(required=False, help_text="extend"),
        "agreement": serializers.DictField(required=False, help_text="succeed"),
        "routes_explained": serializers.ListField(child=serializers.CharField(), required=False, help_text="fail"),
        "no_session_note": serializers.CharField(required=False, help_text="fail"),
    },
)


class ReferralAction(APIView):
    """``POST /api/referrals/{id}/actions/<action>/`` → 200 with the referral.

    404 not visible; 403 not this user's action; 409 not possible in this state (or lost a race);
    400 bad input or missing required elements (each one listed).
    """

    @extend_schema(
        request=ACTION_REQUEST,
        parameters=[OpenApiParameter("action", str, OpenApiParameter.PATH, enum=list(permissions.WORKFLOW_ACTIONS))],
        responses={200: ReferralSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk: int, action: str):
        referral = permissions.get_referral_for_user(request.user, pk, queryset=referral_queryset(request.user))
        handler = action_handler(action)
        if handler is None or action not in permissions.ACTIONS:
            return Response({"detail": _("未知操作：%s") % action, "code": "unknown_action"}, status=404)
        try:
            permissions.require(request.user, referral, action)
            serializer = handler.serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            handler.run(referral, by=request.user, **serializer.validated_data)
        except WorkflowError as exc:
            return workflow_error_response(exc)
        referral = referral_queryset(request.user).get(pk=pk)
        return Response(ReferralSerializer(referral, context={"request": request}).data)


class TimelinePagination(PageNumberPagination):
    page_size = 100


@extend_schema_view(get=extend_schema(responses={200: TimelineEventSerializer(many=True), **error_responses(401, 404)}))
class ReferralTimeline(generics.ListAPIView):
    serializer_class = TimelineEventSerializer
    pagination_class = None

    def get_queryset(self):
        referral = permissions.get_referral_for_user(self.request.user, self.kwargs["pk"])
        return TimelineEvent.objects.filter(referral=referral).select_related("actor").order_by("at", "id")


class OrganisationList(generics.ListAPIView):
    serializer_class = OrganisationSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str),
            OpenApiParameter("region", str),
            OpenApiParameter("search", str),
            OpenApiParameter("accepts_referrals", bool),
        ],
        responses={200: OrganisationSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = Organisation.objects.active().select_related("region").order_by("region__code", "kind", "name")
        params = self.request.query_params
        if kind := params.get("kind"):
            if kind not in Organisation.Kind.values:
                raise serializers.ValidationError({"kind": [_("未知组织类型：%s") % kind]})
            qs = qs.filter(kind=kind)
        if region := params.get("region"):
            qs = qs.filter(region__code__startswith=region)
        if search := params.get("search", "").strip():
            qs = qs.filter(name__contains=search)
        if params.get("accepts_referrals", "").lower() in ("1", "true"):
            qs = qs.filter(kind__in=Organisation.RECEIVING_KINDS)
        return qs


class MediatorList(generics.ListAPIView):
    serializer_class = MediatorSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("organisation", int),
            OpenApiParameter("active", bool),
            OpenApiParameter("search", str),
        ],
        responses={200: MediatorSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = Mediator.objects.select_related("committee").order_by("committee_id", "name")
        params = self.request.query_params
        if org := params.get("organisation"):
            # At most 18 digits: a longer number overflows the database's integer (a 500 before).
            if not org.isdigit() or len(org) > 18:
                raise serializers.ValidationError({"organisation": [_("应为数字。")]})
            qs = qs.filter(committee_id=int(org))
        if params.get("active", "").lower() in ("1", "true"):
            qs = qs.filter(active=True)
        elif params.get("active", "").lower() in ("0", "false"):
            qs = qs.filter(active=False)
        if search := params.get("search", "").strip():
            qs = qs.filter(name__contains=search)
        return qs


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class ObtainToken(APIView):
    """``POST /api/auth/token/`` → ``{"token"}``; 400 on bad credentials."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("Token", {"token": serializers.CharField()}), **error_responses(400, 429)},
    )
    def post(self, request):
        from django.contrib.auth import authenticate

        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The Django request, so that django-axes can mark a lockout on it for its middleware.
        user = authenticate(request._request, **serializer.validated_data)
        if user is None or not user.is_active:
            return Response(
                {"detail": _("用户名或密码错误。"), "code": "invalid_credentials"}, status=status.HTTP_400_BAD_REQUEST
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
