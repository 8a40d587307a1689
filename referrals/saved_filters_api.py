"""``/api/saved-filters/``: a person's own saved referral-list filters (``referrals/saved_filters.py``)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import error_responses
from referrals import saved_filters
from referrals.models import SavedFilter


class SavedFilterSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="the referral list page with this filter")

    class Meta:
        model = SavedFilter
        fields = ["id", "name", "query", "url", "created_at"]
        read_only_fields = fields

    def get_url(self, obj: SavedFilter) -> str:
        return f"{reverse('referrals:list')}?{obj.query}"


class SavedFilterRequestSerializer(serializers.Serializer):
    # Checked by saved_filters.check (the page's rules and messages): here only their type.
    name = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=f"≤ {saved_filters.NAME_MAX}, once per person"
    )
    query = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="the list's query string (the parameters of GET /api/referrals/: filters and sort; "
        f"page positions are dropped), ≤ {saved_filters.QUERY_MAX} characters",
    )


class SavedFilterList(APIView):
    """``GET`` the caller's saved filters (a JSON array, by name); ``POST`` ``{name, query}`` saves one:
    201, or 400 naming each mistake (name missing, too long or taken; at most 20; a query the list
    refuses), nothing saved."""

    @extend_schema(responses={200: SavedFilterSerializer(many=True), **error_responses(401)})
    def get(self, request):
        return Response(SavedFilterSerializer(saved_filters.saved_filters_of(request.user), many=True).data)

    @extend_schema(
        request=SavedFilterRequestSerializer, responses={201: SavedFilterSerializer, **error_responses(400, 401)}
    )
    def post(self, request):
        body = SavedFilterRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = saved_filters.save_filter(
            request.user, name=body.validated_data["name"], query=body.validated_data["query"]
        )
        return Response(SavedFilterSerializer(saved).data, status=status.HTTP_201_CREATED)


class SavedFilterDetail(APIView):
    """``DELETE /api/saved-filters/{id}/`` → 204; 404 if it is not the caller's."""

    @extend_schema(request=None, responses={204: OpenApiResponse(description="deleted"), **error_responses(401, 404)})
    def delete(self, request, pk: int):
        saved_filters.delete_filter(request.user, pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
