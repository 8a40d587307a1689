"""The reminder sweep: deadlines entering "due soon" or "overdue" are announced exactly once.

Idempotent by construction: each (referral, deadline, level) is claimed by inserting a
``DeadlineReminder`` row under a unique constraint, in the same transaction as its notifications.
Two sweeps at once, or one after a long gap, send each reminder once; a referral already overdue
when the sweep first sees it gets the overdue reminder only. Overdue referrals are escalated to the
supervising justice bureau. The petition's own clock (``petition_due_on``) is swept the same way, under
the kind ``petition``: due soon to the origin office, overdue to the office and the supervisors. The follow-up clock
after conclusion (``followup_due_on``) likewise, under the kind ``followup`` (``sweep_followups``): due
soon to the handling committee, overdue to the committee and the origin office. Later apps add their
own sweeps through their ``Extension``.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.service import notify
from referrals import permissions
from referrals.deadlines import FOLLOWUP_STATES, RULES, followup_overdue_q
from referrals.models import DeadlineKind, DeadlineReminder, Referral, due_soon_q, overdue_q
from referrals.notices import Notice
from referrals.steps import referral_url

log = logging.getLogger(__name__)


def _candidates(level: str, now: datetime.datetime):
    due = due_soon_q(now) if level == DeadlineReminder.Level.DUE_SOON else overdue_q(now)
    qs = Referral.objects.open().filter(due)
    sent = DeadlineReminder.objects.filter(
        referral=OuterRef("pk"), kind=OuterRef("deadline_kind"), due_on=OuterRef("due_on"), level=level
    )
    return qs.exclude(Exists(sent)).select_related("origin", "target").order_by("due_at")


def _announce(referral: Referral, level: str) -> bool:
    """Claim and send one reminder of the stage's clock; False when another sweep got there first.
    Due soon to whoever must act now, overdue to the supervising bureau as well (escalation)."""
    rule = RULES.get(referral.state)
    if rule is None:
        return False
    return announce_clock(
        referral,
        level,
        kind=referral.deadline_kind,
        due_on=referral.due_on,
        audiences=(rule.responsible, "supervisors"),
        titles=(_("%(number)s %(label)s将于%(due)s届满"), _("%(number)s 已超过%(label)s(%(due)s)")),
    )


def day_clock_q(field: str, level: str, today: datetime.date) -> Q:
    """The referrals whose last day ``field`` reaches ``level`` by ``today``, as
    ``deadlines.day_status`` tells it: due soon from ``CLOCK_DUE_SOON_DAYS`` days before that day,
    overdue from the next (a deadline day is whole)."""
    if level == DeadlineReminder.Level.DUE_SOON:
        soon = today + datetime.timedelta(days=settings.FANGDIAO["DUE_SOON_DAYS"])
        return Q(**{f"{field}__gte": today, f"{field}__lte": soon})
    return Q(**{f"{field}__lt": today})


def told(kind: str, field: str, level: str) -> Exists:
    """The referral's reminder of this kind and level is claimed for the day now in ``field``: a day
    that moves earns fresh reminders."""
    return Exists(
        DeadlineReminder.objects.filter(referral=OuterRef("pk"), kind=kind, due_on=OuterRef(field), level=level)
    )


def _petition_candidates(level: str, today: datetime.date):
    return (
        Referral.objects.open()
        # A merged referral's petition is answered in its survivor.
        .filter(day_clock_q("petition_due_on", level, today), merged_into__isnull=True)
        .exclude(told(DeadlineKind.PETITION, "petition_due_on", level))
        .select_related("origin", "target")
        .order_by("petition_due_on", "pk")
    )


def announce_clock(
    referral: Referral, level: str, *, kind: str, due_on: datetime.date, audiences: tuple[str, str], titles: tuple
) -> bool:
    """Claim and send one reminder of a clock (the stage's, the petition's, the follow-up's...); False
    when another sweep got there first. ``audiences``: told when due soon, added when overdue;
    ``titles``: the due-soon and the overdue title, given the number, the clock's label and the day."""
    try:
        with transaction.atomic():
            DeadlineReminder.objects.create(referral=referral, kind=kind, due_on=due_on, level=level)
            people = list(permissions.audience(referral, audiences[0]))
            if level == DeadlineReminder.Level.DUE_SOON:
                notice, title = Notice.DEADLINE_DUE_SOON, titles[0]
            else:
                notice, title = Notice.DEADLINE_OVERDUE, titles[1]
                people += list(permissions.audience(referral, audiences[1]))
            notify(
                people,
                kind=notice,
                title=title
                % {"number": referral.number, "label": DeadlineKind(kind).label, "due": due_on.strftime("%Y-%m-%d")},
                body=referral.summary[:120],
                url=referral_url(referral),
                referral_id=referral.pk,
            )
    except IntegrityError:
        return False
    return True


def _announce_petition(referral: Referral, level: str) -> bool:
    return announce_clock(
        referral,
        level,
        kind=DeadlineKind.PETITION,
        due_on=referral.petition_due_on,
        audiences=("origin", "supervisors"),
        titles=(_("%(number)s 信访办理期限将于%(due)s届满"), _("%(number)s 已超过信访办理期限(%(due)s)")),
    )


def sweep_clock(candidates: Callable[[str], QuerySet[Referral]], announce: Callable[[Referral, str], bool]) -> int:
    """One clock's reminders: the overdue ones first (a referral already late when first seen gets
    only that one), then the due-soon ones; ``candidates(level)`` are the referrals not yet told."""
    sent = 0
    for level in (DeadlineReminder.Level.OVERDUE, DeadlineReminder.Level.DUE_SOON):
        for referral in candidates(level).iterator(chunk_size=500):
            sent += announce(referral, level)
    return sent


def sweep_petition_deadlines(now: datetime.datetime | None = None) -> int:
    """The petition clock (信访工作条例 Art. 34) entering "due soon" or "overdue", announced once per
    deadline: an extension that moves ``petition_due_on`` earns fresh reminders."""
    today = timezone.localtime(now or timezone.now()).date()
    return sweep_clock(lambda level: _petition_candidates(level, today), _announce_petition)


def _followup_candidates(level: str, now: datetime.datetime):
    if level == DeadlineReminder.Level.DUE_SOON:
        due = day_clock_q("followup_due_on", level, timezone.localtime(now).date()) & Q(followed_up_on__isnull=True)
    else:
        due = followup_overdue_q(now)
    return (
        Referral.objects.filter(due, state__in=FOLLOWUP_STATES, merged_into__isnull=True)
        .exclude(told(DeadlineKind.FOLLOWUP, "followup_due_on", level))
        .select_related("origin", "target")
        .order_by("followup_due_on", "pk")
    )


def _announce_followup(referral: Referral, level: str) -> bool:
    return announce_clock(
        referral,
        level,
        kind=DeadlineKind.FOLLOWUP,
        due_on=referral.followup_due_on,
        audiences=("target", "origin"),
        titles=(_("%(number)s 回访期限将于%(due)s届满"), _("%(number)s 已超过回访期限(%(due)s)，尚未回访")),
    )


def sweep_followups(now: datetime.datetime | None = None) -> int:
    """The follow-up clock (回访期限) entering "due soon" (to the handling committee) or "overdue" (to
    the committee and the origin office), announced once per ``followup_due_on`` and level; a visit
    (``followed_up_on``) ends it, and a new round's conclusion earns fresh reminders."""
    now = now or timezone.now()
    return sweep_clock(lambda level: _followup_candidates(level, now), _announce_followup)


def sweep_deadlines(now: datetime.datetime | None = None) -> int:
    """Every clock of open referrals: the current stage's, then the petition's own."""
    now = now or timezone.now()
    return sweep_clock(lambda level: _candidates(level, now), _announce) + sweep_petition_deadlines(now)


def unannounced(now: datetime.datetime) -> list[tuple[str, str | None, str, QuerySet[Referral]]]:
    """Per clock of ``sweep_deadlines`` and ``sweep_followups`` and per level: (level, the reminder's
    kind, or None where it is the referral's ``deadline_kind``, the field holding the due day, the
    referrals not yet told). What a sweep would announce now; the benchmark marks them as told to
    start from a running system's steady state."""
    today = timezone.localtime(now).date()
    found: list[tuple[str, str | None, str, QuerySet[Referral]]] = []
    for level in (DeadlineReminder.Level.OVERDUE, DeadlineReminder.Level.DUE_SOON):
        found += [
            (level, None, "due_on", _candidates(level, now)),
            (level, DeadlineKind.PETITION, "petition_due_on", _petition_candidates(level, today)),
            (level, DeadlineKind.FOLLOWUP, "followup_due_on", _followup_candidates(level, now)),
        ]
    return found


def run_sweeps(now: datetime.datetime | None = None) -> dict[str, int]:
    """Every app's sweep (``Extension.sweeps``), once: what the minute loop and the command run."""
    from referrals.registry import registry

    now = now or timezone.now()
    results = {name: sweep(now) for name, sweep in registry.sweeps.items()}
    if any(results.values()):
        log.info("reminders sent: %s", results)
    return results
