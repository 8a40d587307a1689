"""The parties' messages on the referral page: what was sent to whom and how it went, and each
party's personal link (send it, revoke it). A panel of the page (``messaging/extensions.py``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError
from messaging import links, outbox, policy
from messaging.models import Message, PartyLink
from referrals import permissions
from referrals.models import Referral
from townships.validators import mask_phone

SHOWN = 20  # the latest messages; the API lists them all


def panel(request: HttpRequest, referral: Referral) -> dict | None:
    rows = list(Message.objects.filter(referral=referral).select_related("party")[:SHOWN])
    may_send = permissions.can(request.user, referral, "send_party_link")
    may_resend = permissions.can(request.user, referral, "resend_message")
    if not rows and not may_send:
        return None
    live = {
        link.party_id: link
        for link in PartyLink.objects.filter(referral=referral, revoked_at__isnull=True).order_by("created_at")
    }
    parties = [
        {
            "party": p,
            "mobile": policy.mobile_of(p) is not None,
            "link": live.get(p.pk),
            "to": mask_phone(p.phone),
        }
        for p in referral.parties.all()
    ]
    return {
        "messages": [
            {"m": m, "to": mask_phone(m.to), "resend": may_resend and m.status in outbox.RESENDABLE} for m in rows
        ],
        "parties": parties if may_send else [],
    }


@require_POST
def party_link(request: HttpRequest, pk: int, pid: int) -> HttpResponse:
    """Send a party their link by SMS, or (``revoke``) end it."""
    referral = permissions.get_referral_for_user(request.user, pk)
    party = referral.parties.filter(pk=pid).first()
    if party is None:
        raise Http404
    permissions.require(request.user, referral, "send_party_link")
    if request.POST.get("revoke"):
        for link in PartyLink.objects.filter(party=party, revoked_at__isnull=True):
            links.revoke(link, by=request.user)
        messages.success(request, _("已撤销%s的个人链接。") % party.name)
    else:
        try:
            links.send_link(party, by=request.user)
        except DomainError as refused:
            messages.error(request, refused.message)
        else:
            messages.success(
                request,
                _("已向%(name)s（%(to)s）发送个人链接短信。") % {"name": party.name, "to": mask_phone(party.phone)},
            )
    return redirect("referrals:detail", pk=referral.pk)


@require_POST
def resend(request: HttpRequest, pk: int, mid: int) -> HttpResponse:
    """Queue a failed, abandoned or undelivered text again, from the panel (the API's ``resend``)."""
    referral = permissions.get_referral_for_user(request.user, pk)
    message = Message.objects.filter(pk=mid, referral=referral).first()
    if message is None:
        raise Http404
    permissions.require(request.user, referral, "resend_message")
    if outbox.requeue(message):
        messages.success(request, _("已重新排队发送给%s的短信。") % mask_phone(message.to))
    else:
        messages.error(request, outbox.NOT_RESENDABLE)
    return redirect("referrals:detail", pk=referral.pk)
