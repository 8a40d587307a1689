"""When a message may go out: quiet hours, the per-number daily cap, opt-outs, who may get one.

Settings (config/settings.py, docs/sms.md): ``SMS_QUIET_HOURS`` ("21:00-08:00", local time; empty:
none), ``SMS_DAILY_CAP`` (messages per number per local day), ``SMS_MAX_ATTEMPTS``,
``SMS_RETRY_BASE_SECONDS`` and ``SMS_RETRY_MAX_SECONDS`` (the back-off).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from messaging.models import Message, OptOut
from referrals.models import Party
from townships.validators import validate_mobile

# Asked for by the party this minute (a code to open their link): sent at once whatever the hour,
# and not counted against the daily cap, which the links' own limits replace (messaging/links.py).
ON_REQUEST = frozenset({Message.Template.ACCESS_CODE})


def _quiet() -> tuple[datetime.time, datetime.time] | None:
    raw = (settings.SMS_QUIET_HOURS or "").strip()
    if not raw:
        return None
    start, end = (datetime.time.fromisoformat(part.strip()) for part in raw.split("-"))
    return (start, end) if start != end else None


def in_quiet_hours(at: datetime.datetime) -> bool:
    window = _quiet()
    if window is None:
        return False
    start, end = window
    t = timezone.localtime(at).time()
    return (start <= t or t < end) if start > end else (start <= t < end)


def _next_local(at: datetime.datetime, when: datetime.time) -> datetime.datetime:
    """The first moment at or after ``at`` whose local time of day is ``when``."""
    local = timezone.localtime(at)
    candidate = timezone.make_aware(datetime.datetime.combine(local.date(), when))
    if candidate < local:
        candidate = timezone.make_aware(datetime.datetime.combine(local.date() + datetime.timedelta(days=1), when))
    return candidate


def first_moment(at: datetime.datetime) -> datetime.datetime:
    """``at``, or the end of the quiet hours it falls in."""
    window = _quiet()
    if window is None or not in_quiet_hours(at):
        return at
    return _next_local(at, window[1])


def next_day(at: datetime.datetime) -> datetime.datetime:
    """The first moment of the next local day a message may go out (after a full daily cap)."""
    tomorrow = timezone.localtime(at).date() + datetime.timedelta(days=1)
    return first_moment(timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time())))


def backoff(attempts: int) -> datetime.timedelta:
    """How long to wait after the ``attempts``-th failed attempt: base × 2^(n-1), at most the maximum."""
    seconds = settings.SMS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, settings.SMS_RETRY_MAX_SECONDS))


def sent_today(number: str, at: datetime.datetime) -> int:
    local = timezone.localtime(at)
    midnight = timezone.make_aware(datetime.datetime.combine(local.date(), datetime.time()))
    # Whatever its receipt said since: a text the platform took counts against the day.
    return Message.objects.filter(to=number, sent_at__gte=midnight).count()


def over_cap(number: str, at: datetime.datetime) -> bool:
    return sent_today(number, at) >= settings.SMS_DAILY_CAP


def mobile_of(party: Party) -> str | None:
    """The party's mobile number if it has one (a landline cannot take a text message)."""
    try:
        return validate_mobile(party.phone) if party.phone else None
    except ValidationError:
        return None


def opted_out(numbers: set[str] | list[str]) -> set[str]:
    return set(OptOut.objects.filter(number__in=list(numbers)).values_list("number", flat=True))
