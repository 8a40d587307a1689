"""``/api/referrals/{id}/messages/``: the messages sent to the parties of a referral, and sending
one again (docs/sms.md, docs/api.md's conventions: 404 for a referral the user may not see)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import error_responses
from messaging import links, outbox
from messaging.models import Message, PartyLink
from referrals import permissions
from referrals.errors import NotAvailable
from townships.validators import mask_phone


class MessageSerializer(serializers.ModelSerializer):
    # Masked for everyone: the party's number in full is on the referral for those who may see it.
    to = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "party", "channel", "to", "template", "text", "status", "attempts", "created_at", "sent_at"]
        read_only_fields = fields

    def get_to(self, message: Message) -> str:
        return mask_phone(message.to)


class Messages(APIView):
    """``GET``: every message to the referral's parties, newest first, with its delivery status."""

    @extend_schema(responses={200: MessageSerializer(many=True), **error_responses(401, 404)})
    def get(self, request, pk: int):
        referral = permissions.get_referral_for_user(request.user, pk)
        return Response(MessageSerializer(Message.objects.filter(referral=referral), many=True).data)


class Resend(APIView):
    """``POST``: queue a failed or abandoned message again (the origin office or the handling committee)."""

    @extend_schema(request=None, responses={200: MessageSerializer, **error_responses(401, 403, 404, 409)})
    def post(self, request, pk: int, mid: int):
        referral = permissions.get_referral_for_user(request.user, pk)
        try:
            message = Message.objects.get(pk=mid, referral=referral)
        except Message.DoesNotExist:
            raise Http404 from None
        permissions.require(request.user, referral, "resend_message")
        if not outbox.requeue(message):
            raise NotAvailable(_("只有发送失败或已放弃的短信可以重新发送。"))
        message.refresh_from_db()
        return Response(MessageSerializer(message).data)


class LinkSerializer(serializers.Serializer):
    url = serializers.CharField()
    expires_at = serializers.DateTimeField()


class PartyLinkView(APIView):
    """``POST``: send the party their personal link by SMS (made if they have none); ``DELETE``: revoke it.

    The office that registers the case or the committee handling it (``send_party_link``).
    """

    def _party(self, request, pk: int, pid: int):
        referral = permissions.get_referral_for_user(request.user, pk)
        party = referral.parties.filter(pk=pid).first()
        if party is None:
            raise Http404
        permissions.require(request.user, referral, "send_party_link")
        return party

    @extend_schema(request=None, responses={200: LinkSerializer, **error_responses(400, 401, 403, 404)})
    def post(self, request, pk: int, pid: int):
        link = links.send_link(self._party(request, pk, pid), by=request.user)
        return Response({"url": links.url(link), "expires_at": link.expires_at})

    @extend_schema(request=None, responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request, pk: int, pid: int):
        party = self._party(request, pk, pid)
        link = PartyLink.objects.filter(party=party, revoked_at__isnull=True).first()
        if link is None:
            raise Http404
        links.revoke(link, by=request.user)
        return Response(status=204)
