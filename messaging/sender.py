"""Send what the outbox holds: each message once, retried with back-off, never during quiet hours.

A sender takes the pending messages that are due (``status`` queued or failed, ``next_attempt_at``
passed) and, for each, **claims** it with one conditional UPDATE — ``attempts`` +1 and
``next_attempt_at`` pushed past the claim's lease, only WHERE the row is still pending, due, and at
the attempt count the sender read. Of two senders reading the same row only one changes it; the
other gets 0 rows and moves on, so a message is never given to the gateway twice by two senders.
(A sender killed between the gateway's answer and recording it leaves the claim to expire after
``SMS_CLAIM_SECONDS``: that message is tried once more, with the same ``reference`` for the gateway.)

Then: sent → ``sent`` with the gateway's id. A failure → ``failed`` with the error and the next try
after ``policy.backoff`` — or ``gave_up`` after ``SMS_MAX_ATTEMPTS`` attempts or a permanent refusal.
Before claiming: quiet hours (nothing goes out; the message waits for their end), the number's
daily cap (it waits for the next day) and opt-outs (given up). Three gateway failures in a row end
a run: the rest wait for the next one instead of each waiting for a timeout.

Runs: after each step's commit (``messaging.tasks.deliver``), every minute in the reminder sweep
(``sweep``), and ``manage.py send_messages [--loop]``.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from messaging import policy, texts
from messaging.backends import SendFailed, get_backend
from messaging.links import CODE_MINUTES
from messaging.models import Message

log = logging.getLogger(__name__)

SENT, SKIPPED, FAILED = "sent", "skipped", "failed"
FAILURES_BEFORE_PAUSE = 3


def _pending(message: Message, now: datetime.datetime):
    """The row, only while it is still as this sender read it (pending, due, same attempt count)."""
    return Message.objects.filter(
        pk=message.pk, status__in=Message.PENDING, next_attempt_at__lte=now, attempts=message.attempts
    )


def send_one(message: Message, now: datetime.datetime, backend=None) -> str:
    if policy.opted_out([message.to]):
        _pending(message, now).update(status=Message.Status.GAVE_UP, last_error="号码已退订")
        return SKIPPED
    if message.template not in policy.ON_REQUEST and policy.over_cap(message.to, now):
        _pending(message, now).update(next_attempt_at=policy.next_day(now))
        return SKIPPED
    lease = now + datetime.timedelta(seconds=settings.SMS_CLAIM_SECONDS)
    if not _pending(message, now).update(attempts=F("attempts") + 1, next_attempt_at=lease):
        return SKIPPED  # another sender has it
    attempt = message.attempts + 1
    mine = Message.objects.filter(pk=message.pk, attempts=attempt, next_attempt_at=lease)
    try:
        provider_id = (backend or get_backend()).send(
            to=message.to,
            text=message.text,
            template=message.template,
            params=message.params,
            reference=f"fangdiao-{message.pk}",
        )
    except SendFailed as e:
        error = str(e)[:500]
        if e.permanent or attempt >= settings.SMS_MAX_ATTEMPTS:
            mine.update(status=Message.Status.GAVE_UP, last_error=error)
            log.warning("SMS %s given up after %d attempts: %s", message.pk, attempt, error)
        else:
            retry = policy.first_moment(timezone.now() + policy.backoff(attempt))
            mine.update(status=Message.Status.FAILED, last_error=error, next_attempt_at=retry)
            log.info("SMS %s failed (attempt %d), next at %s: %s", message.pk, attempt, retry, error)
        return FAILED
    done = {"status": Message.Status.SENT, "sent_at": timezone.now(), "provider_message_id": provider_id}
    if message.template == Message.Template.ACCESS_CODE:
        # The code is kept only until it is sent: afterwards staff see that one went out, never which.
        hidden = texts.values(message.template, message.referral, code=texts.CODE_HIDDEN, minutes=CODE_MINUTES)
        done |= {"text": texts.render(message.template, hidden), "params": hidden}
    mine.update(**done, last_error="")
    return SENT


def send_due(
    now: datetime.datetime | None = None,
    *,
    ids: list[int] | None = None,
    limit: int | None = None,
    max_failures: int = FAILURES_BEFORE_PAUSE,
) -> int:
    """Send the messages that are due (only ``ids`` if given); the number sent. The run ends after
    ``max_failures`` gateway failures in a row: the rest wait for the next run."""
    now = now or timezone.now()
    due = Message.objects.filter(status__in=Message.PENDING, next_attempt_at__lte=now)
    if policy.in_quiet_hours(now):
        due = due.filter(template__in=policy.ON_REQUEST)
    if ids is not None:
        due = due.filter(pk__in=ids)
    batch = list(due.order_by("next_attempt_at", "pk")[: limit or settings.SMS_BATCH_SIZE])
    if not batch:
        return 0
    try:
        backend = get_backend()
    except SendFailed as e:
        log.error("SMS backend not usable: %s", e)
        return 0
    sent = failures = 0
    for message in batch:
        outcome = send_one(message, now, backend)
        if outcome == SENT:
            sent, failures = sent + 1, 0
        elif outcome == FAILED:
            failures += 1
            if failures >= max_failures:
                log.warning("SMS gateway failed %d times in a row; the rest wait for the next run", failures)
                break
    return sent


def sweep(now: datetime.datetime) -> int:
    """The reminder loop's entry (``Extension.sweeps``): every minute, whatever is due."""
    return send_due(now)
