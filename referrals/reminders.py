"""The reminder sweep: deadlines entering "due soon" or "overdue" are announced exactly once.

Idempotent by construction: each (referral, deadline, level) is claimed by inserting a
``DeadlineReminder`` row under a unique constraint, in the same transaction as its notifications.
Two sweeps at once, or one after a long gap, send each reminder once; a referral already overdue
when the sweep first sees it gets the overdue reminder only. Overdue referrals are escalated to the
supervising justice bureau. Later apps add their own sweeps with ``register_sweep``.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import Kind as NotificationKind
from notifications.service import notify
from referrals import permissions
from referrals.deadlines import RULES
from referrals.models import DeadlineKind, DeadlineReminder, Referral
from referrals.workflow import referral_url
from townships.importers import reap_stalled_imports

log = logging.getLogger(__name__)

Sweep = Callable[[datetime.datetime], int]
_SWEEPS: dict[str, Sweep] = {}


def register_sweep(name: str, sweep: Sweep) -> None:
    _SWEEPS[name] = sweep


# Not a reminder, but the same minute-by-minute loop is where a crashed import is noticed.
register_sweep("stalled_roster_imports", reap_stalled_imports)


def _candidates(level: str, now: datetime.datetime):
    qs = Referral.objects.open()
    if level == DeadlineReminder.Level.DUE_SOON:
        qs = qs.filter(due_soon_at__lte=now, due_at__gt=now)
    else:
        qs = qs.filter(due_at__lte=now)
    sent = DeadlineReminder.objects.filter(
        referral=OuterRef("pk"), kind=OuterRef("deadline_kind"), due_on=OuterRef("due_on"), level=level
    )
    return qs.exclude(Exists(sent)).select_related("origin", "target").order_by("due_at")


def _announce(referral: Referral, level: str) -> bool:
    """Claim and send one reminder; False when another sweep got there first."""
    rule = RULES.get(referral.state)
    if rule is None:
        return False
    try:
        with transaction.atomic():
            DeadlineReminder.objects.create(
                referral=referral, kind=referral.deadline_kind, due_on=referral.due_on, level=level
            )
            label = DeadlineKind(referral.deadline_kind).label
            due = referral.due_on.strftime("%Y-%m-%d")
            people = list(permissions.audience(referral, rule.responsible))
            if level == DeadlineReminder.Level.DUE_SOON:
                kind, title = NotificationKind.DEADLINE_DUE_SOON, _("%(number)s %(label)s将于%(due)s届满")
            else:
                kind, title = NotificationKind.DEADLINE_OVERDUE, _("%(number)s 已超过%(label)s(%(due)s)")
                # Escalation: the supervising bureau hears of every overdue referral.
                people += list(permissions.audience(referral, "supervisors"))
            notify(
                people,
                kind=kind,
                title=title % {"number": referral.number, "label": label, "due": due},
                body=referral.summary[:120],
                url=referral_url(referral),
                referral_id=referral.pk,
            )
    except IntegrityError:
        return False
    return True


def sweep_deadlines(now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    sent = 0
    for level in (DeadlineReminder.Level.OVERDUE, DeadlineReminder.Level.DUE_SOON):
        for referral in _candidates(level, now).iterator(chunk_size=500):
            sent += _announce(referral, level)
    return sent


def run_sweeps(now: datetime.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    results = {"deadlines": sweep_deadlines(now)}
    for name, sweep in _SWEEPS.items():
        results[name] = sweep(now)
    if any(results.values()):
        log.info("reminders sent: %s", results)
    return results
