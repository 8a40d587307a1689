"""Deadlines of each stage (DOMAIN.md §4): the rules as data, and the arithmetic that applies them.

Each open state has one clock. The result is stored on the referral (``deadline_kind``, ``due_on``,
``due_at``, ``due_soon_at``, ``deadline_provisional``) so that lists, filters and the reminder sweep
use indexes instead of recomputing; ``apply_deadline`` is called by every workflow step and again
for open referrals whenever the working-day calendar changes.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from referrals.models import DeadlineKind, Referral, State, Suspension
from townships.calendar import DueDate, add_working_days, calendar_period_end, working_days_before

WORKING = "working"
CALENDAR = "calendar"


@dataclass(frozen=True)
class ClockRule:
    kind: str
    unit: str  # WORKING or CALENDAR
    setting: str  # key of settings.FANGDIAO holding the number of days
    start: str  # "received_on", "stage" (the current stage began) or "mediation" (this round began)
    responsible: str  # who must act before it falls due (an audience of referrals/permissions.py)

    @property
    def days(self) -> int:
        return settings.FANGDIAO[self.setting]


RULES: dict[str, ClockRule] = {
    # The petition office refers within 15 days of receiving the petition (信访工作条例 Art. 22).
    State.DRAFT: ClockRule(DeadlineKind.REFER, CALENDAR, "REFER_DAYS", "received_on", "origin"),
    # The receiver accepts or returns within 3 working days; routing onward restarts the clock.
    State.SUBMITTED: ClockRule(DeadlineKind.ACCEPT, WORKING, "ACCEPT_WORKING_DAYS", "stage", "target"),
    # Mediation within 30 calendar days of acceptance, plus consented extensions and pauses.
    State.MEDIATING: ClockRule(DeadlineKind.MEDIATE, CALENDAR, "MEDIATE_DAYS", "mediation", "target"),
    # The petition office reviews an outcome, or a return, within 5 working days.
    State.SUCCEEDED: ClockRule(DeadlineKind.REVIEW, WORKING, "REVIEW_WORKING_DAYS", "stage", "origin_reviewers"),
    State.FAILED: ClockRule(DeadlineKind.REVIEW, WORKING, "REVIEW_WORKING_DAYS", "stage", "origin_reviewers"),
    State.DECLINED: ClockRule(DeadlineKind.REVIEW, WORKING, "REVIEW_WORKING_DAYS", "stage", "origin"),
}


@dataclass(frozen=True)
class Deadline:
    kind: str
    started_on: datetime.date | None
    due_on: datetime.date | None
    due_at: datetime.datetime | None
    due_soon_at: datetime.datetime | None
    provisional: bool
    paused: bool = False


NO_DEADLINE = Deadline("", None, None, None, None, False)


def local_date(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


def start_of_day(date: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(date, datetime.time.min))


def paused_days(referral: Referral, suspensions: Iterable[Suspension] | None = None) -> int:
    """Calendar days the current mediation round stood still (finished suspensions only)."""
    if referral.mediation_started_at is None:
        return 0
    if suspensions is None:
        suspensions = referral.suspensions.filter(started_at__gte=referral.mediation_started_at)
    return sum(s.paused_days for s in suspensions if s.started_at >= referral.mediation_started_at)


def due_date(rule: ClockRule, start: datetime.date, extra_days: int = 0) -> DueDate:
    if rule.unit == WORKING:
        return add_working_days(start, rule.days + extra_days)
    return calendar_period_end(start, rule.days + extra_days)


def compute_deadline(referral: Referral, suspensions: Iterable[Suspension] | None = None) -> Deadline:
    rule = RULES.get(referral.state)
    if rule is None:
        return NO_DEADLINE
    if rule.start == "received_on":
        start = referral.received_on
    elif rule.start == "mediation":
        start = local_date(referral.mediation_started_at)
    else:
        start = local_date(referral.stage_started_at)
    if referral.state == State.MEDIATING and referral.is_suspended:
        # The clock stands still: nothing can fall due until mediation resumes.
        return Deadline(rule.kind, start, None, None, None, False, paused=True)
    extra = referral.extension_days + paused_days(referral, suspensions) if rule.kind == DeadlineKind.MEDIATE else 0
    due = due_date(rule, start, extra)
    if rule.unit == WORKING:
        soon = working_days_before(due.date, settings.FANGDIAO["DUE_SOON_WORKING_DAYS"])
    else:
        soon = due.date - datetime.timedelta(days=settings.FANGDIAO["DUE_SOON_DAYS"])
    return Deadline(
        kind=rule.kind,
        started_on=start,
        due_on=due.date,
        # A deadline day is whole: the case is overdue from the first moment of the next day.
        due_at=start_of_day(due.date + datetime.timedelta(days=1)),
        due_soon_at=start_of_day(max(soon, start)),
        provisional=due.provisional,
    )


def petition_due(referral: Referral) -> DueDate:
    """The whole petition's deadline: 60 days from receipt (信访工作条例 Art. 34)."""
    return calendar_period_end(referral.received_on, settings.FANGDIAO["PETITION_DAYS"])


_DEADLINE_FIELDS = {
    "deadline_kind": "kind",
    "deadline_started_on": "started_on",
    "due_on": "due_on",
    "due_at": "due_at",
    "due_soon_at": "due_soon_at",
    "deadline_provisional": "provisional",
}


def apply_deadline(referral: Referral, suspensions: Iterable[Suspension] | None = None) -> list[str]:
    """Store the current stage's deadline on the referral; returns the fields that changed."""
    deadline = compute_deadline(referral, suspensions)
    changed = []
    for field, attr in _DEADLINE_FIELDS.items():
        value = getattr(deadline, attr)
        if getattr(referral, field) != value:
            setattr(referral, field, value)
            changed.append(field)
    if referral.received_on:
        petition = petition_due(referral)
        if (referral.petition_due_on, referral.petition_provisional) != (petition.date, petition.provisional):
            referral.petition_due_on = petition.date
            referral.petition_provisional = petition.provisional
            changed += ["petition_due_on", "petition_provisional"]
    return changed


def deadline_as_dict(referral: Referral, now: datetime.datetime | None = None) -> dict | None:
    """The ``deadline`` object of the API (DESIGN.md §6)."""
    if not referral.deadline_kind:
        return None
    paused = referral.state == State.MEDIATING and referral.is_suspended
    return {
        "kind": referral.deadline_kind,
        "kind_label": str(DeadlineKind(referral.deadline_kind).label),
        "due_on": referral.due_on.isoformat() if referral.due_on else None,
        "due_at": timezone.localtime(referral.due_at).isoformat() if referral.due_at else None,
        "status": None if paused else referral.deadline_status(now),
        "provisional": referral.deadline_provisional,
        "paused": paused,
    }


def recompute_open_deadlines(*, chunk: int = 1000) -> int:
    """Recompute stored deadlines of open referrals (after the calendar or a clock changed).

    Returns how many referrals changed. Works in chunks, each in its own transaction, locking the
    rows it rewrites so that a workflow step on the same referral waits rather than interleaves.
    """
    changed_total = 0
    last_id = 0
    while True:
        with transaction.atomic():
            batch = list(Referral.objects.open().filter(pk__gt=last_id).order_by("pk").select_for_update()[:chunk])
            if not batch:
                return changed_total
            last_id = batch[-1].pk
            suspensions: dict[int, list[Suspension]] = {}
            for s in Suspension.objects.filter(referral__in=batch, ended_at__isnull=False):
                suspensions.setdefault(s.referral_id, []).append(s)
            dirty = []
            fields: set[str] = set()
            for referral in batch:
                changed = apply_deadline(referral, suspensions.get(referral.pk, []))
                if changed:
                    dirty.append(referral)
                    fields.update(changed)
            if dirty:
                Referral.objects.bulk_update(dirty, sorted(fields))
                changed_total += len(dirty)
