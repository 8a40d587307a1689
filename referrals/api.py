"""REST API for referrals, organisations, rosters and timelines (docs/api.md)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import generics, serializers
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from core.audit import log_access, log_list_access
from core.models import AccessLog
from core.openapi import error_responses
from referrals import assignments, intake, listing, permissions
from referrals.actions import perform
from referrals.errors import InvalidInput
from referrals.filters import FilterError, filter_referrals
from referrals.models import TimelineEvent
from referrals.registry import STEP, registry
from referrals.serializers import (
    ExtensionConsentSerializer,
    MediatorSerializer,
    OrganisationSerializer,
    ReferralSerializer,
    ReferralWriteSerializer,
    TimelineEventSerializer,
)
from townships.models import Mediator, Organisation
from townships.roles import committees_viewable_by, may_manage_some_roster, roster_search


def referral_queryset(user, *, many: bool = False):
    """Visible referrals with everything a page of them needs, in a fixed number of queries;
    ``many`` for a list (``permissions.referrals_visible_in_bulk``)."""
    visible = permissions.referrals_visible_in_bulk(user) if many else permissions.referrals_visible_to(user)
    return visible.select_related(
        "origin",
        "target",
        "target__region",
        "region",
        "lead_mediator",
        *(j for s in registry.sections.values() for j in s.select),
    ).prefetch_related("parties", "mediators", *(p for s in registry.sections.values() for p in s.prefetch))


# The list filters (referrals/filters.py), shared by the list, the ledger export and the statistics.
FILTER_PARAMETERS = [
    OpenApiParameter("state", str, description="state, or several separated by commas"),
    OpenApiParameter("category", str, description="dispute category, or several separated by commas"),
    OpenApiParameter("target", int, description="receiving organisation id"),
    OpenApiParameter("origin", int, description="referring petition office id"),
    OpenApiParameter("region", str, description="region code (NBS) or its prefix: digits, at most 12"),
    *(OpenApiParameter(flag, bool) for flag in ("open", "overdue", "due_soon", "ping_pong", "escalated", "repeat")),
    OpenApiParameter(
        "merged", bool, description="合并: true lists only referrals merged into another (left out otherwise)"
    ),
    OpenApiParameter("tier", str, description="调解层级: township, county or city (commas)"),
    OpenApiParameter("from", OpenApiTypes.DATE, description="received on or after (YYYY-MM-DD)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="received on or before (YYYY-MM-DD)"),
    OpenApiParameter(
        "assigned", str, description="交办件 handed down by national, provincial or city (commas), or any"
    ),
    OpenApiParameter(
        "leader",
        str,
        description="领导包案: on an active list entry of city, county or township level (commas), or any",
    ),
    OpenApiParameter("assigned_batch", str, description="交办件 of this batch exactly (e.g. 2026年第3批)"),
    OpenApiParameter(
        "report", str, enum=["reported", "pending", "overdue", "late"], description="交办件 by their report back"
    ),
    OpenApiParameter("figure", str, description="the referrals behind statistics figures (keys, commas)"),
    OpenApiParameter(
        "search",
        str,
        description="≤ 100 characters: a referral number whole or any tail of it (000015, 2026-000015) or its "
        "head (JM-2026); a petition number exactly; a party's whole ID number or credit code (18 characters, "
        "never a part of one); or text in the summary or a party's name",
    ),
]


# The list's orders (referrals/listing.py): each ends with the id, so pages never skip or repeat a row.
SORT_PARAMETER = OpenApiParameter(
    "sort",
    str,
    enum=list(listing.SORTS),
    description="order of the list: recent (newest registered first, the default), deadline (the current "
    "stage's deadline soonest first; none last), received_newest / received_oldest (received date), "
    "township (by region code: county, then township); ties by id. Another value: 400",
)


class ReferralPagination(BasePagination):
    """Keyset pages in the order asked for (``sort``), with the ``count`` of every matching referral.

    ``next`` and ``previous`` carry a cursor: the sort values of the page's last (first) row, so a
    page starts right after the one before it whatever was added meanwhile.
    """

    page_size = 25
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        try:
            sort = listing.parse_sort(request.query_params)
            self.count, self.count_more = listing.count(queryset)
            size = listing.page_size(request.query_params.get("page_size"), default=self.page_size)
            self.page = listing.paginate(queryset, sort, request.query_params.get("cursor"), size)
        except FilterError as exc:
            raise serializers.ValidationError(exc.errors) from None
        self.url = request.build_absolute_uri()
        return self.page.rows

    def _link(self, cursor: str | None) -> str | None:
        return replace_query_param(self.url, "cursor", cursor) if cursor else None

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.count,
                "count_more": self.count_more,
                "next": self._link(self.page.next),
                "previous": self._link(self.page.previous),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["count", "count_more", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": f"the referrals matching the filters, counted up to {listing.COUNT_LIMIT:,}",
                },
                "count_more": {"type": "boolean", "description": f"more than {listing.COUNT_LIMIT:,} match"},
                "next": link,
                "previous": link,
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "page position, from next or previous",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": f"rows per page (default {self.page_size}, at most {self.max_page_size})",
                "schema": {"type": "integer"},
            },
        ]


class ReferralListCreate(generics.GenericAPIView):
    serializer_class = ReferralSerializer
    pagination_class = ReferralPagination

    @extend_schema(
        operation_id="list_referrals",
        parameters=[*FILTER_PARAMETERS, SORT_PARAMETER],
        responses={200: ReferralSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request):
        try:
            qs = filter_referrals(referral_queryset(request.user, many=True), request.query_params)
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
        handed_down = serializer.validated_data.get("assigned_by")
        if handed_down:
            try:
                assignments.check_assignment(**handed_down)
            except InvalidInput as exc:
                raise serializers.ValidationError({"assigned_by": exc.errors}) from None
        # A 交办件 is registered with its assignment, or not at all.
        with transaction.atomic():
            referral = intake.create_referral(by=request.user, origin=origin, data=serializer.to_input())
            if handed_down:
                assignments.record_assignment(referral, by=request.user, **handed_down)
        referral = referral_queryset(request.user).get(pk=referral.pk)
        return Response(ReferralSerializer(referral, context={"request": request, "detail": True}).data, status=201)


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
        data = ReferralSerializer(referral, context={"request": request, "detail": True}).data
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
        permissions.require(request.user, referral, "update_draft")
        if not isinstance(request.data, dict):
            # A list or a number cannot be merged into the draft (a 500 before): the serializer says
            # what it expects, as it does for a POST.
            ReferralWriteSerializer(data=request.data).is_valid(raise_exception=True)
        if "assigned_by" in request.data:
            # Not silently dropped: a draft's assignment is recorded and corrected through its own resource.
            raise serializers.ValidationError(
                {"assigned_by": [_("交办信息请通过 /api/referrals/%d/assignment/ 登记或更正。") % referral.pk]}
            )
        current = ReferralSerializer(referral, context={"request": request}).data
        accepted = current["petition_clock"]["accepted_on"]
        merged = {
            "received_on": current["received_on"],
            # Kept only when set apart from the receipt: otherwise it follows a corrected received_on.
            "petition_accepted_on": accepted if accepted != current["received_on"] else None,
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
        intake.update_draft(referral, by=request.user, data=serializer.to_input())
        referral = referral_queryset(request.user).get(pk=pk)
        return Response(ReferralSerializer(referral, context={"request": request, "detail": True}).data)


# What the actions read (docs/api.md), as one object: each action takes its own fields from it.
ACTION_REQUEST = inline_serializer(
    "ReferralActionRequest",
    {
        "note": serializers.CharField(
            required=False, allow_blank=True, help_text="most steps; urge (催办), request_correction (补正说明)"
        ),
        "target": serializers.IntegerField(required=False, help_text="dispatch, redirect"),
        "mediators": serializers.ListField(
            child=serializers.IntegerField(), required=False, help_text="accept: roster ids, lead first"
        ),
        "rights_explained": serializers.BooleanField(required=False, help_text="accept"),
        "reason": serializers.CharField(
            required=False,
            help_text="decline (a reason code), fail (a code), extend, extend_petition, suspend, reopen, withdraw",
        ),
        "days": serializers.IntegerField(required=False, help_text="extend, extend_petition"),
        "approved_by_name": serializers.CharField(required=False, help_text="extend_petition: 批准人"),
        "consents": ExtensionConsentSerializer(
            many=True, required=False, help_text="extend: every party's consent {party, consented_on, method}"
        ),
        "parties_consented": serializers.BooleanField(
            required=False, help_text="extend: no longer accepted (400 pointing to consents)"
        ),
        "agreement": serializers.DictField(required=False, help_text="succeed"),
        "routes_explained": serializers.ListField(child=serializers.CharField(), required=False, help_text="fail"),
        "no_session_note": serializers.CharField(required=False, help_text="fail"),
        "items": serializers.ListField(
            child=serializers.CharField(), required=False, help_text="request_correction: dossier item codes"
        ),
    },
)


class ReferralAction(APIView):
    """``POST /api/referrals/{id}/actions/<action>/`` → 200 with the referral.

    404 not visible; 403 not this user's action; 409 not possible in this state (or lost a race);
    400 bad input or missing required elements (each one listed).
    """

    @extend_schema(
        request=ACTION_REQUEST,
        parameters=[
            OpenApiParameter("action", str, OpenApiParameter.PATH, enum=[a.name for a in registry.actions(STEP)])
        ],
        responses={200: ReferralSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk: int, action: str):
        referral = permissions.get_referral_for_user(request.user, pk, queryset=referral_queryset(request.user))
        if action not in registry or registry.action(action).kind != STEP:
            return Response({"detail": _("未知操作：%s") % action, "code": "unknown_action"}, status=404)
        entry = registry.action(action)
        permissions.require(request.user, referral, action)
        serializer = entry.serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        perform(entry, referral, by=request.user, payload=serializer.validated_data)
        referral = referral_queryset(request.user).get(pk=pk)
        return Response(ReferralSerializer(referral, context={"request": request, "detail": True}).data)


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
        responses={200: MediatorSerializer(many=True), **error_responses(400, 401, 403, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        # The roster page's rule: the committees whose roster this user may read, and nobody else's.
        committees = committees_viewable_by(self.request.user)
        if not may_manage_some_roster(self.request.user) and not committees.exists():
            raise permissions.Forbidden(_("您没有可查看的调解员花名册。"))
        qs = (
            Mediator.objects.filter(committee__in=committees.values("pk"))
            .select_related("committee__region")
            .order_by("committee_id", "name")
        )
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
            qs = qs.filter(roster_search(search))
        return qs
