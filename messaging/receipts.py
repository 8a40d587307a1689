"""What the SMS platform tells us afterwards: whether a text reached the phone (delivery receipts)
and what a party texted back (an opt-out, 回复TD退订). Both come through the platform's callbacks
(``messaging/api.py``, docs/sms.md); these functions apply them.

A receipt only moves a message that was ``sent`` (or already had a receipt: platforms repeat
them), so a late or repeated receipt never undoes a resend that is already under way.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging.models import Message, OptOut
from townships.validators import validate_mobile

# A reply that asks for no more texts: what mainland platforms tell recipients to send.
STOP_WORDS = {"TD", "T", "退订", "N"}
RECEIVED = (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.UNDELIVERED)


@dataclass(frozen=True)
class Receipt:
    message_id: str
    delivered: bool
    at: datetime.datetime | None = None
    error: str = ""


def apply_receipts(receipts: Iterable[Receipt]) -> dict[str, int]:
    """Mark each message the platform reported on: ``delivered`` or ``undelivered`` (with the
    platform's reason, and then one staff may send again). Unknown ids are counted, not an error:
    the platform may report texts of another system sharing the account."""
    counts = {"delivered": 0, "undelivered": 0, "unknown": 0}
    now = timezone.now()
    with transaction.atomic():
        for receipt in receipts:
            mine = Message.objects.filter(provider_message_id=receipt.message_id, status__in=RECEIVED)
            if receipt.delivered:
                found = mine.update(status=Message.Status.DELIVERED, delivered_at=receipt.at or now, last_error="")
            else:
                found = mine.update(
                    status=Message.Status.UNDELIVERED,
                    delivered_at=None,
                    last_error=(receipt.error or _("运营商回执：未送达"))[:500],
                )
            counts["unknown" if not found else "delivered" if receipt.delivered else "undelivered"] += 1
    return counts


def is_stop(text: str) -> bool:
    return text.strip().upper() in STOP_WORDS


def apply_replies(replies: Iterable[tuple[str, str]]) -> int:
    """Each (number, text) a party sent back: an opt-out word puts the number on the opt-out list
    (one entry per number, kept if it is there already). Anything else is not read by anyone here:
    the texts say to call the committee. Returns how many numbers were newly opted out."""
    added = 0
    day = timezone.localdate().isoformat()
    for number, text in replies:
        if not is_stop(text):
            continue
        try:
            mobile = validate_mobile(number)
        except ValidationError:
            continue  # not a mobile of ours: nothing of ours goes to it
        _row, created = OptOut.objects.get_or_create(
            number=mobile, defaults={"note": _("%(day)s 短信回复“%(text)s”退订") % {"day": day, "text": text.strip()}}
        )
        added += created
    return added
