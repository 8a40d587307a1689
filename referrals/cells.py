"""The statistics' running totals: one row per cell of referrals, kept by ``referrals/rollup.py``.
Apart from ``referrals/models.py`` (the referral and its workflow records), which names them too."""

from __future__ import annotations

import datetime

from django.db import models


class CellKey(models.Model):
    """The cell a referral counts in for running totals: township or "本级" region, category, month
    received, origin office, receiving organisation (0: none yet), draft or not. ``StatsCell`` and
    other apps' totals (mediation's ``MediationCell``) share it, so ``referrals/rollup.py`` keeps
    them all the same way. The two organisations let an office's and a committee's own figures be
    read from them as well as an area's."""

    KEY = ("area", "category", "month", "origin_id", "receiver", "draft")

    area = models.CharField(max_length=12)
    category = models.CharField(max_length=32)
    month = models.DateField()
    origin_id = models.BigIntegerField()
    receiver = models.BigIntegerField(default=0)  # the target's id (named apart from the referral's field)
    draft = models.BooleanField()

    class Meta:
        abstract = True


class StatsCell(CellKey):
    """Running totals of the clock-free statistics of the referrals in one cell (``CellKey``).

    The workflow adds each referral's change to its cells in the transaction that makes it
    (``referrals/rollup.py``), with the same figure definitions the live count uses; an area's
    summary then sums a few thousand cells instead of reading a hundred thousand referrals.
    Deadline figures (overdue, due soon) change with the clock: ``ClockCell`` keeps them.
    """

    total = models.IntegerField(default=0)
    submitted = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    returned = models.IntegerField(default=0)
    ping_pong = models.IntegerField(default=0)
    concluded = models.IntegerField(default=0)
    succeeded = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    open = models.IntegerField(default=0)
    closed_on_time = models.IntegerField(default=0)
    petition_on_time = models.IntegerField(default=0)
    accepted_on_time = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    answered_on_time = models.IntegerField(default=0)
    concluded_on_time = models.IntegerField(default=0)
    escalated = models.IntegerField(default=0)
    township_concluded = models.IntegerField(default=0)
    township_succeeded = models.IntegerField(default=0)
    county_concluded = models.IntegerField(default=0)
    county_succeeded = models.IntegerField(default=0)
    city_concluded = models.IntegerField(default=0)
    city_succeeded = models.IntegerField(default=0)
    state_draft = models.IntegerField(default=0)
    state_submitted = models.IntegerField(default=0)
    state_mediating = models.IntegerField(default=0)
    state_declined = models.IntegerField(default=0)
    state_succeeded = models.IntegerField(default=0)
    state_failed = models.IntegerField(default=0)
    state_closed = models.IntegerField(default=0)
    days_to_accept = models.FloatField(default=0)
    n_to_accept = models.IntegerField(default=0)
    days_to_conclude = models.FloatField(default=0)
    n_to_conclude = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=CellKey.KEY, name="stats_cell_key"),
        ]


# The day of a ``ClockCell`` that stands for "any day up to today": what has already happened is
# folded into one row per cell (``rollup.fold_clock``), so a summary sums one row per cell, not one
# per deadline day.
SINCE_EVER = datetime.date(1, 1, 1)


class ClockCell(CellKey):
    """The deadline figures of one cell (``CellKey``) as changes that take effect on ``day``.

    The figures of the clock (overdue, due soon, …) move with time, but only at the instants a
    referral stores (its ``due_at``, ``due_soon_at``, the day after its petition deadline), all
    known when a step writes them. So each referral adds, at the first day-start at or after each
    such instant, how its figures differ from the day before; the sum of a cell's rows up to today
    is then exactly its figures at today's first moment, and a summary counts live only the few
    referrals whose instant fell between that moment and now (``stats.compute``). Steps keep the
    rows (``referrals/rollup.py``) as they keep ``StatsCell``; days already past are kept as
    ``SINCE_EVER``, and the minute sweep folds the days that have passed since into it.
    """

    KEY = (*CellKey.KEY, "day")
    SINCE_EVER = SINCE_EVER

    day = models.DateField()
    overdue = models.IntegerField(default=0)
    due_soon = models.IntegerField(default=0)
    accept_overdue = models.IntegerField(default=0)
    mediate_overdue = models.IntegerField(default=0)
    handler_overdue = models.IntegerField(default=0)
    review_overdue = models.IntegerField(default=0)
    petition_overdue = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=(*CellKey.KEY, "day"), name="clock_cell_key"),
        ]
        indexes = [models.Index(fields=["day"], name="clock_cell_day")]


class DurationCell(models.Model):
    """How many stored durations (``days_to_accept``, ``days_to_conclude``) of the referrals of one
    township or "本级" region registered by one office and referred to one organisation fall in
    each quarter of a day (``bucket`` =
    ⌊days × 4⌋): where a median lies, so that a median reads the values of one quarter-day from the
    duration's index instead of walking to the middle of all of them
    (``stats.compute.Figures.medians``). A quarter being a power of two, a bucket's bounds are
    exact in floating point. Kept by ``referrals/rollup.py`` like ``StatsCell``; without month and
    category, it answers the scopes without those filters."""

    KEY = ("area", "origin_id", "receiver", "bucket")
    PER_DAY = 4

    area = models.CharField(max_length=12)
    origin_id = models.BigIntegerField()
    receiver = models.BigIntegerField(default=0)
    bucket = models.IntegerField()
    accepts = models.IntegerField(default=0)
    concludes = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("area", "origin_id", "receiver", "bucket"), name="duration_cell_key"),
        ]
