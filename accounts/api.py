"""``/api/auth/``: obtaining a token (docs/api.md), and a user's own tokens: listing and revoking them."""

from __future__ import annotations

import uuid

from django.contrib.auth import authenticate
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken
from accounts.tokens import issue_token, revoke_token, tokens_of
from core.openapi import error_responses


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="the client this token is for (shown in the list)"
    )


class ObtainToken(APIView):
    """``POST /api/auth/token/`` → ``{"token"}``: a new token for this client; 400 on bad credentials."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("Token", {"token": serializers.CharField()}), **error_responses(400, 429)},
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The Django request, so that django-axes can mark a lockout on it for its middleware.
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            return Response(
                {"detail": _("用户名或密码错误。"), "code": "invalid_credentials"}, status=status.HTTP_400_BAD_REQUEST
            )
        _token, key = issue_token(user, name=data.get("name", ""))
        return Response({"token": key})


class ApiTokenSerializer(serializers.ModelSerializer):
    prefix = serializers.CharField(read_only=True, help_text="the key's first characters, to tell tokens apart")
    last_used_at = serializers.DateTimeField(read_only=True, allow_null=True)
    expires_at = serializers.DateTimeField(read_only=True, help_text="unless used before: each use extends it")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "expires_at"]
        read_only_fields = fields


class ApiTokenList(generics.ListAPIView):
    """``GET /api/auth/tokens/`` → the caller's own tokens that still work (never their keys)."""

    serializer_class = ApiTokenSerializer

    @extend_schema(responses={200: ApiTokenSerializer(many=True), **error_responses(400, 401, 404)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return tokens_of(self.request.user).order_by("-created_at", "pk")


class ApiTokenDetail(APIView):
    """``DELETE /api/auth/tokens/{id}/`` → 204: the token stops working and its sockets close; 404 if not yours."""

    @extend_schema(request=None, responses={204: OpenApiResponse(description="revoked"), **error_responses(401, 404)})
    def delete(self, request, pk: uuid.UUID):
        if not revoke_token(request.user, pk):
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)
