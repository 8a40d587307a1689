"""``/api/referrals/{id}/messages/``: the messages sent to the parties of a referral, and sending
one again (docs/sms.md, docs/api.md's conventions: 404 for a referral the user may not see); and
the SMS platform's callbacks, its delivery receipts and the parties' replies."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import error_responses
from messaging import links, outbox, receipts
from messaging.models import Message, PartyLink
from referrals import permissions
from referrals.errors import NotAvailable
from townships.validators import mask_phone


class MessageSerializer(serializers.ModelSerializer):
    # Masked for everyone: the party's number in full is on the referral for those who may see it.
    to = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "party",
            "channel",
            "to",
            "template",
            "text",
            "status",
            "attempts",
            "created_at",
            "sent_at",
            "delivered_at",
        ]
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
    """``POST``: queue a failed, abandoned or undelivered message again (the origin office or the handling
    committee)."""

    @extend_schema(request=None, responses={200: MessageSerializer, **error_responses(401, 403, 404, 409)})
    def post(self, request, pk: int, mid: int):
        referral = permissions.get_referral_for_user(request.user, pk)
        try:
            message = Message.objects.get(pk=mid, referral=referral)
        except Message.DoesNotExist:
            raise Http404 from None
        permissions.require(request.user, referral, "resend_message")
        if not outbox.requeue(message):
            raise NotAvailable(outbox.NOT_RESENDABLE)
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


# --- The SMS platform's callbacks ----------------------------------------------------------------


def _platform(request) -> None:
    """The platform presents ``SMS_CALLBACK_TOKEN``; with none set the callbacks do not exist."""
    expected = settings.SMS_CALLBACK_TOKEN
    if not expected:
        raise Http404
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        raise exceptions.AuthenticationFailed(_("短信平台回调凭证不正确。"))


class SmsReceiptSerializer(serializers.Serializer):
    message_id = serializers.CharField(max_length=100, help_text="the platform's id, as it answered the send")
    status = serializers.ChoiceField(choices=["delivered", "undelivered"])
    at = serializers.DateTimeField(required=False, allow_null=True, help_text="when the phone got it")
    error = serializers.CharField(required=False, allow_blank=True, max_length=500, help_text="why it did not")


class SmsReplySerializer(serializers.Serializer):
    number = serializers.CharField(max_length=20)
    text = serializers.CharField(max_length=500, allow_blank=True, trim_whitespace=False)


class _Callback(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    parser_classes = [JSONParser]  # a JSON list, never a form
    # The platform sends up to this many in one call.
    BATCH = 1000

    def items(self, request, serializer_class) -> list[dict]:
        _platform(request)
        serializer = serializer_class(data=request.data, many=True, max_length=self.BATCH)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class Receipts(_Callback):
    """``POST /api/sms/receipts/`` (the platform, ``Authorization: Bearer SMS_CALLBACK_TOKEN``): a list
    of delivery receipts → ``{delivered, undelivered, unknown}``; all or nothing on a bad list."""

    @extend_schema(
        request=SmsReceiptSerializer(many=True),
        responses={
            200: inline_serializer(
                "ReceiptCounts",
                {n: serializers.IntegerField() for n in ("delivered", "undelivered", "unknown")},
            ),
            **error_responses(400, 401, 404),
        },
    )
    def post(self, request):
        found = self.items(request, SmsReceiptSerializer)
        return Response(
            receipts.apply_receipts(
                receipts.Receipt(r["message_id"], r["status"] == "delivered", r.get("at"), r.get("error", ""))
                for r in found
            )
        )


class Replies(_Callback):
    """``POST /api/sms/replies/`` (the platform): the texts parties sent back → ``{opted_out}``, the
    numbers newly put on the opt-out list (a reply of TD, T, N or 退订)."""

    @extend_schema(
        request=SmsReplySerializer(many=True),
        responses={
            200: inline_serializer("ReplyCounts", {"opted_out": serializers.IntegerField()}),
            **error_responses(400, 401, 404),
        },
    )
    def post(self, request):
        found = self.items(request, SmsReplySerializer)
        return Response({"opted_out": receipts.apply_replies((r["number"], r["text"]) for r in found)})
