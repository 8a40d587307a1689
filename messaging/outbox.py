"""Write the parties' messages inside the workflow step, send them once it commits.

``queue(referral, template)`` runs as an ``after`` hook of the step (``messaging/extensions.py``): in
the step's transaction, on the locked referral, after the state changed. A step that fails later
rolls its messages back with everything else; one that commits hands their ids to the sender
(``messaging.tasks.deliver``: immediately by default, a worker's queue with ``TASKS_BACKEND=database``).
Whatever the sender cannot do now stays queued for ``send_messages`` and the minute sweep.

Who gets one: each party who consented to mediation and has a mobile number (a landline cannot take
a text), once per number and step, unless the number opted out (``OptOut``). Each message ends with
the party's personal link (``messaging/links.py``).

``direct`` writes one message to one party that staff or the party asked for (the link, a code).
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from messaging import policy, texts
from messaging.models import Message
from referrals.models import Party, Referral

log = logging.getLogger(__name__)


def _with_link(template: str, referral: Referral, party: Party, now: datetime.datetime) -> dict[str, str]:
    """The template's values, ending with the party's personal link."""
    from messaging import links

    return texts.values(template, referral, url=links.url(links.live_link(party, now=now)))


def _message(
    referral: Referral,
    party: Party,
    template: str,
    params: dict[str, str],
    number: str,
    *,
    now: datetime.datetime,
    next_attempt_at: datetime.datetime,
) -> Message:
    """A message not saved yet: its text is the template filled with ``params``, kept beside it."""
    return Message(
        referral=referral,
        party=party,
        template=template,
        text=texts.render(template, params),
        params=params,
        to=number,
        created_at=now,
        next_attempt_at=next_attempt_at,
    )


def queue(referral: Referral, template: str) -> list[Message]:
    """Store one message per eligible party; deliver them after commit."""
    now = timezone.now()
    recipients: dict[str, int] = {}  # number → party id (the first party with that number)
    for party in referral.parties.all():
        number = policy.mobile_of(party) if party.has_consent else None
        if number and number not in recipients:
            recipients[number] = party.pk
    for number in policy.opted_out(set(recipients)):
        del recipients[number]
    if not recipients:
        return []
    parties = {p.pk: p for p in referral.parties.all()}
    messages = []
    for number, party_id in recipients.items():
        party = parties[party_id]
        params = _with_link(template, referral, party, now)
        messages.append(
            _message(referral, party, template, params, number, now=now, next_attempt_at=policy.first_moment(now))
        )
    rows = Message.objects.bulk_create(messages)
    ids = [m.pk for m in rows]
    transaction.on_commit(lambda: deliver_soon(ids), robust=True)
    return rows


def direct(party, template: str, number: str, *, code: str = "") -> Message:
    """One message to one party, asked for now (``policy.ON_REQUEST`` ones ignore quiet hours)."""
    from messaging import links

    now = timezone.now()
    referral = party.referral
    if template == Message.Template.ACCESS_CODE:
        params = texts.values(template, referral, code=code, minutes=links.CODE_MINUTES)
    else:
        params = _with_link(template, referral, party, now)
    message = _message(
        referral,
        party,
        template,
        params,
        number,
        now=now,
        next_attempt_at=now if template in policy.ON_REQUEST else policy.first_moment(now),
    )
    message.save(force_insert=True)
    transaction.on_commit(lambda: deliver_soon([message.pk]), robust=True)
    return message


def deliver_soon(ids: list[int]) -> None:
    """After commit: hand the new messages to the sender; a failure leaves them queued."""
    from messaging.tasks import deliver

    try:
        deliver.enqueue(ids)
    except Exception:
        log.warning("could not hand messages %s to the sender; they stay queued", ids, exc_info=True)


# What staff may send again: a text on its way, or delivered, is not sent twice.
RESENDABLE = (Message.Status.FAILED, Message.Status.GAVE_UP, Message.Status.UNDELIVERED)
# What the page and the API say when a message is not one of those.
NOT_RESENDABLE = _("只有发送失败、已放弃或未送达的短信可以重新发送。")


def requeue(message: Message) -> bool:
    """Queue a failed, abandoned or undelivered message again (a fresh set of attempts); False if it was not."""
    now = timezone.now()
    done = Message.objects.filter(pk=message.pk, status__in=RESENDABLE).update(
        status=Message.Status.QUEUED, attempts=0, next_attempt_at=policy.first_moment(now), last_error=""
    )
    if done:
        transaction.on_commit(lambda: deliver_soon([message.pk]), robust=True)
    return bool(done)
