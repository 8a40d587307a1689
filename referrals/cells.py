"""The statistics' running totals: one row per cell of referrals, kept by ``referrals/rollup.py``.
Apart from ``referrals/models.py`` (the referral and its workflow records), which names them too."""

from __future__ import annotations

from django.db import models


class CellKey(models.Model):
    """The cell a referral counts in for running totals: township or "本级" region, category, month
    received, origin office, draft or not. ``StatsCell`` and other apps' totals (mediation's
    ``MediationCell``) share it, so ``referrals/rollup.py`` keeps them all the same way."""

    KEY = ("area", "category", "month", "origin_id", "draft")

    area = models.CharField(max_length=12)
    category = models.CharField(max_length=32)
    month = models.DateField()
    origin_id = models.BigIntegerField()
    draft = models.BooleanField()

    class Meta:
        abstract = True


class StatsCell(CellKey):
    """Running totals of the clock-free statistics of the referrals in one cell (``CellKey``).

    The workflow adds each referral's change to its cells in the transaction that makes it
    (``referrals/rollup.py``), with the same figure definitions the live count uses; an area's
    summary then sums a few thousand cells instead of reading a hundred thousand referrals.
    Deadline figures (overdue, due soon) change with the clock and are always counted live.
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
