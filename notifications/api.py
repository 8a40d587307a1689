"""``/api/notifications/``: a user's own notifications (docs/api.md).

Nobody sees or marks anyone else's: another user's notification answers 404, as if it did not exist.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import error_responses
from notifications.models import Notification
from notifications.service import mark_all_read, mark_read, notifications_of, unread_count

_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no", ""}


class NotificationSerializer(serializers.ModelSerializer):
    referral = serializers.IntegerField(source="referral_id", allow_null=True, read_only=True)
    kind_label = serializers.CharField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_label", "title", "body", "url", "referral", "created_at", "read_at"]
        read_only_fields = fields


class NotificationPagination(CursorPagination):
    page_size = 25
    max_page_size = 100
    page_size_query_param = "page_size"
    # The id follows creation order and leads the (recipient, -id) inbox index.
    ordering = "-id"

    def get_paginated_response(self, data):
        return Response({"results": data, "next": self.get_next_link()})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "next", "unread"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "unread": {"type": "integer", "description": "the caller's unread notifications, all pages"},
            },
        }


class NotificationList(generics.ListAPIView):
    """``GET /api/notifications/?unread=true`` → ``{results, next, unread}``, newest first."""

    serializer_class = NotificationSerializer
    pagination_class = NotificationPagination

    @extend_schema(
        parameters=[OpenApiParameter("unread", bool, required=False)],
        responses={200: NotificationSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = notifications_of(self.request.user)
        flag = self.request.query_params.get("unread", "").strip().lower()
        if flag not in _TRUE | _FALSE:
            raise serializers.ValidationError({"unread": [_("应为 true 或 false。")]})
        return qs.filter(read_at__isnull=True) if flag in _TRUE else qs

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        # The badge's number, so an API client needs no second call to show it.
        response.data["unread"] = unread_count(request.user)
        return response


class NotificationRead(APIView):
    """``POST /api/notifications/{id}/read/`` → 200 with the notification; 404 if it is not yours."""

    @extend_schema(request=None, responses={200: NotificationSerializer, **error_responses(401, 404)})
    def post(self, request, pk: int):
        try:
            notification = mark_read(request.user, pk)
        except Notification.DoesNotExist:
            raise Http404 from None
        return Response(NotificationSerializer(notification).data)


class NotificationReadAll(APIView):
    """``POST /api/notifications/read-all/`` → ``{"marked": n, "unread": 0}``."""

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "NotificationsMarked", {"marked": serializers.IntegerField(), "unread": serializers.IntegerField()}
            ),
            **error_responses(401),
        },
    )
    def post(self, request):
        marked = mark_all_read(request.user)
        return Response({"marked": marked, "unread": unread_count(request.user)})
