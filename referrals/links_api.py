"""Linked referrals in the API (``referrals/links.py``)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import error_responses
from referrals import links, permissions
from referrals.actions import perform
from referrals.registry import registry
from referrals.serializers import LinkOut, LinkSerializer


class ReferralLinks(APIView):
    """``POST /api/referrals/{id}/links/ {"other", "kind"}`` links two referrals the user may both see
    → 201 with the referral's links. 404 either not visible; 403 no part in this one; 400 itself, an
    unknown kind, or already linked."""

    @extend_schema(request=LinkSerializer, responses={201: LinkOut(many=True), **error_responses(400, 401, 403, 404)})
    def post(self, request, pk: int):
        referral = permissions.get_referral_for_user(request.user, pk)
        permissions.require(request.user, referral, "link_referral")
        body = LinkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        other = permissions.get_referral_for_user(request.user, body.validated_data["other"])
        payload = {"other": other, "kind": body.validated_data["kind"]}
        perform(registry.action("link_referral"), referral, by=request.user, payload=payload)
        return Response(links.links_json(referral, request.user), status=status.HTTP_201_CREATED)


class ReferralLink(APIView):
    """``DELETE /api/referrals/{id}/links/{other}/`` undoes a link → 204; 400 if the two are not linked."""

    @extend_schema(responses={204: OpenApiResponse(description="unlinked"), **error_responses(400, 401, 403, 404)})
    def delete(self, request, pk: int, other: int):
        referral = permissions.get_referral_for_user(request.user, pk)
        permissions.require(request.user, referral, "unlink_referral")
        far = permissions.get_referral_for_user(request.user, other)
        perform(registry.action("unlink_referral"), referral, by=request.user, payload={"other": far})
        return Response(status=status.HTTP_204_NO_CONTENT)
