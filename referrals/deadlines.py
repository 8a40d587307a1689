"""Deadlines of each stage (docs/domain.md#workflow): the rules as data, and the arithmetic that applies them.

Each open state has one clock. The result is stored on the referral (``deadline_kind``, ``due_on``,
``due_at``, ``due_soon_at``, ``deadline_provisional``) so that lists, filters and the reminder sweep
use indexes instead of recomputing; ``apply_deadline`` is called by every workflow step and again
for open referrals whenever the working-day calendar changes. Beside the stage's clock it keeps the
petition's own (``petition_due_on``) and, once mediation has concluded, the follow-up clock
(``followup_due_on``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from referrals.models import DeadlineKind, DeadlineStatus, Referral, State, Suspension
from townships.calendar import DueDate, add_working_days, calendar_period_end, working_days_before

WORKING = "working"
CALENDAR = "calendar"

# The keys of settings.FANGDIAO that hold a stage clock's number of days.
ClockSetting = Literal["REFER_DAYS", "ACCEPT_WORKING_DAYS", "MEDIATE_DAYS", "REVIEW_WORKING_DAYS"]


@dataclass(frozen=True)
class ClockRule:
    kind: str
    unit: str  # WORKING or CALENDAR
    setting: ClockSetting  # key of settings.FANGDIAO holding the number of days
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
    if rule is None or referral.merged_into_id is not None:  # a merged referral runs no clock
        return NO_DEADLINE
    if rule.start == "received_on":
        start = referral.received_on
    elif rule.start == "mediation":
        # A start never recorded counts from today (what ``timezone.localtime(None)`` gives).
        start = local_date(referral.mediation_started_at or timezone.now())
    else:
        start = local_date(referral.stage_started_at or timezone.now())
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


def correction_due(requested_on: datetime.date) -> DueDate:
    """The last day for a committee to send the dossier papers a reviewer asked for (退回补正):
    ``CLOCK_CORRECTION_WORKING_DAYS`` (3) working days. A clock of its own, kept on the request
    (``mediation.CorrectionRequest``): the referral's own clock, the review's, keeps running."""
    return add_working_days(requested_on, settings.FANGDIAO["CORRECTION_WORKING_DAYS"])


# --- The petition's own clock (信访工作条例 2022 Art. 34) ------------------------------------------
# Beside the stage clocks above, the whole petition runs on one clock of its own: 60 calendar days from
# the office's acceptance (受理), extended at most once by at most 30 days, rolled past rest days like
# every calendar-day clock. It is stored as ``petition_due_on`` (kept by ``apply_deadline``).


def petition_start(referral: Referral) -> datetime.date:
    """The first day of the petition clock: the office's acceptance (受理日期), else the receipt."""
    accepted: datetime.date | None = getattr(referral, "petition_accepted_on", None)
    return accepted or referral.received_on


def petition_due(referral: Referral) -> DueDate:
    """The whole petition's deadline: 60 calendar days from acceptance plus its one extension, the last
    day rolled past rest days (信访工作条例 Art. 34)."""
    extra: int = getattr(referral, "petition_extension_days", 0) or 0
    return calendar_period_end(petition_start(referral), settings.FANGDIAO["PETITION_DAYS"] + extra)


def acceptance_limit(received_on: datetime.date) -> datetime.date:
    """The last day on which the office should decide to accept a petition received on ``received_on``:
    ``CLOCK_PETITION_ACCEPT_DAYS`` (15) calendar days, rolled past rest days."""
    return calendar_period_end(received_on, settings.FANGDIAO["PETITION_ACCEPT_DAYS"]).date


def late_acceptance(received_on: datetime.date, accepted_on: datetime.date | None) -> bool:
    """Accepted later than the 15 days after receipt: a warning, never a refusal."""
    return accepted_on is not None and accepted_on > acceptance_limit(received_on)


def day_status(due: datetime.date, today: datetime.date) -> str:
    """A clock whose last day is ``due`` (a whole day), on ``today``: ``overdue`` from the day after,
    ``due_soon`` from ``CLOCK_DUE_SOON_DAYS`` days before, ``on_time`` until then."""
    if today > due:
        return DeadlineStatus.OVERDUE
    if today >= due - datetime.timedelta(days=settings.FANGDIAO["DUE_SOON_DAYS"]):
        return DeadlineStatus.DUE_SOON
    return DeadlineStatus.ON_TIME


def petition_status(referral: Referral, now: datetime.datetime | None = None) -> str:
    """``on_time``, ``due_soon`` (from ``CLOCK_DUE_SOON_DAYS`` days before) or ``overdue`` (from the day
    after the deadline). A closed petition's clock stopped when it was closed: on time or overdue then."""
    due = referral.petition_due_on or petition_due(referral).date
    if referral.state == State.CLOSED and referral.closed_at is not None:
        return DeadlineStatus.ON_TIME if local_date(referral.closed_at) <= due else DeadlineStatus.OVERDUE
    return day_status(due, local_date(now or timezone.now()))


def petition_clock_as_dict(referral: Referral, now: datetime.datetime | None = None) -> dict[str, object]:
    """The ``petition_clock`` object of the API."""
    due = referral.petition_due_on or petition_due(referral).date
    return {
        "accepted_on": petition_start(referral).isoformat(),
        "due_on": due.isoformat(),
        "extended_days": referral.petition_extension_days,
        "status": str(petition_status(referral, now)),
    }


# --- The follow-up clock (回访) ------------------------------------------------------------------
# Each concluded round (agreement or termination) is followed up within ``CLOCK_FOLLOWUP_DAYS`` (30)
# calendar days of its conclusion, the last day rolled past rest days like every calendar-day clock.
# Stored as ``followup_due_on`` (kept by ``apply_deadline``): set while the round stays concluded
# (succeeded, failed, or closed after a conclusion), cleared with ``followed_up_on`` when the referral
# is reopened, computed again at the next conclusion. The round's first follow-up visit
# (``followed_up_on``, mediation's ``add_followup``) satisfies it.

FOLLOWUP_STATES = (State.SUCCEEDED, State.FAILED, State.CLOSED)
FOLLOWED_UP = "done"  # the status of a follow-up clock satisfied by a visit


def followup_due(referral: Referral) -> DueDate | None:
    """The last day to follow up the current round, or None when no round is concluded (never
    mediated, mediating again, or closed after a return)."""
    if referral.state not in FOLLOWUP_STATES or referral.concluded_at is None:
        return None
    return calendar_period_end(local_date(referral.concluded_at), settings.FANGDIAO["FOLLOWUP_DAYS"])


def apply_followup_due(referral: Referral) -> list[str]:
    """Store the follow-up clock on the referral; returns the fields that changed."""
    due = followup_due(referral)
    values: dict[str, object] = {
        "followup_due_on": due.date if due else None,
        "followup_provisional": due.provisional if due else False,
    }
    if due is None:
        values["followed_up_on"] = None  # a new round needs a new visit
    changed = []
    for field, value in values.items():
        if getattr(referral, field) != value:
            setattr(referral, field, value)
            changed.append(field)
    return changed


def followup_overdue_q(now: datetime.datetime) -> Q:
    """Follow-ups not made by their last day (a whole day: overdue from the next one). The sweep, the
    figure ``followup_overdue`` and its list all use this one expression."""
    return Q(followup_due_on__lt=local_date(now), followed_up_on__isnull=True)


def followup_status(referral: Referral, now: datetime.datetime | None = None) -> str | None:
    """``done`` once visited; else ``on_time``, ``due_soon`` (from ``CLOCK_DUE_SOON_DAYS`` days before)
    or ``overdue`` (from the day after); None without a follow-up clock."""
    due = referral.followup_due_on
    if due is None:
        return None
    if referral.followed_up_on is not None:
        return FOLLOWED_UP
    return day_status(due, local_date(now or timezone.now()))


def followup_clock_as_dict(referral: Referral, now: datetime.datetime | None = None) -> dict[str, object] | None:
    """The ``followup_clock`` object of the API (null without a follow-up clock)."""
    if referral.followup_due_on is None:
        return None
    return {
        "due_on": referral.followup_due_on.isoformat(),
        "provisional": referral.followup_provisional,
        "followed_up_on": referral.followed_up_on.isoformat() if referral.followed_up_on else None,
        "status": str(followup_status(referral, now)),
    }


def mediation_due_if_longer(referral: Referral, more_days: int) -> datetime.date:
    """The current round's mediation deadline if its period were ``more_days`` longer (an extension of
    that many days, or a pause of that many whole days)."""
    rule = RULES[State.MEDIATING]
    start = local_date(referral.mediation_started_at) if referral.mediation_started_at else timezone.localdate()
    return due_date(rule, start, referral.extension_days + paused_days(referral) + more_days).date


def beyond_petition_deadline(referral: Referral, more_days: int) -> tuple[datetime.date, datetime.date] | None:
    """(mediation deadline, petition deadline) when lengthening mediation by ``more_days`` would carry
    it past the petition's deadline; None when it still fits."""
    petition = referral.petition_due_on
    mediation = mediation_due_if_longer(referral, more_days)
    if petition is not None and mediation > petition:
        return mediation, petition
    return None


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
    changed += apply_followup_due(referral)
    return changed


def deadline_as_dict(referral: Referral, now: datetime.datetime | None = None) -> dict[str, object] | None:
    """The ``deadline`` object of the API (docs/api.md)."""
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
    Closed referrals keep their stage and petition deadlines as they were closed with; only a
    follow-up still to be made (``followup_due_on``) is recomputed for them.
    """
    changed_total = 0
    last_id = 0
    while True:
        with transaction.atomic():
            batch = list(
                Referral.objects.open().filter(pk__gt=last_id).order_by("pk").select_for_update(no_key=True)[:chunk]
            )
            if not batch:
                break
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
    return changed_total + _recompute_closed_followups(chunk)


def _recompute_closed_followups(chunk: int) -> int:
    """The follow-up clocks of closed referrals not yet followed up, after a calendar change."""
    changed_total = 0
    last_id = 0
    pending = Referral.objects.filter(state=State.CLOSED, followup_due_on__isnull=False, followed_up_on__isnull=True)
    while True:
        with transaction.atomic():
            batch = list(pending.filter(pk__gt=last_id).order_by("pk").select_for_update(no_key=True)[:chunk])
            if not batch:
                return changed_total
            last_id = batch[-1].pk
            dirty = [r for r in batch if apply_followup_due(r)]
            if dirty:
                Referral.objects.bulk_update(dirty, ["followup_due_on", "followup_provisional"])
                changed_total += len(dirty)
