"""PostgreSQL's estimate of "reminders of this kind at this level" (migration 0027): every sweep asks
it, and with the columns' shares multiplied it guessed about one row for thousands, compared each
candidate with every reminder, and took 0.93 s at 10⁵ referrals instead of 0.05 s (BENCHMARKS.md)."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection

from referrals.models import DeadlineReminder

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_the_planner_knows_which_kinds_go_with_which_levels(story):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the statistics are PostgreSQL's")
    referral = story.submitted()
    day = datetime.date(2026, 1, 1)
    # Correlated, as in life: petition reminders here are all overdue, stage reminders all due soon.
    DeadlineReminder.objects.bulk_create(
        [
            DeadlineReminder(referral=referral, kind="petition", level="overdue", due_on=day + datetime.timedelta(i))
            for i in range(100)
        ]
        + [
            DeadlineReminder(referral=referral, kind="mediate", level="due_soon", due_on=day + datetime.timedelta(i))
            for i in range(200)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE referrals_deadlinereminder")
        cursor.execute(
            "EXPLAIN (FORMAT JSON) SELECT 1 FROM referrals_deadlinereminder "
            "WHERE kind = 'petition' AND level = 'overdue'"
        )
        plan = cursor.fetchone()[0]
    estimate = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]["Plan Rows"]
    # Multiplying the shares (1/3 × 1/3) would say 33.
    assert 90 <= estimate <= 110, estimate
