"""The clock's running totals (``ClockCell``): a summary's overdue and due-soon figures read from
them equal a live count at any moment, whatever the deadlines' times of day and whenever the days
are folded; the steps keep them as a rebuild would; and what is still counted live is read through
the deadline indexes."""

import datetime
import random

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from referrals import rollup, stats, workflow
from referrals.deadlines import start_of_day
from referrals.models import ClockCell, DeadlineKind, Referral, State
from referrals.stats.compute import clock_moved
from referrals.stats.figures import CLOCK_FIGURES, FIGURES, ROW_FIGURES, clock_values
from tests import factories as f

pytestmark = pytest.mark.django_db

STATES = ("draft", "submitted", "mediating", "declined", "succeeded", "failed", "closed")
AROUND = start_of_day(datetime.date(2026, 3, 16))


def _scatter(referrals: list[Referral], seed: int) -> None:
    """Deadlines of every shape the rules should survive: whole days and times of day, due soon
    before the deadline, after it or not at all, no deadline, petition deadlines past and to come."""
    rng = random.Random(seed)
    for referral in referrals:
        due = AROUND + datetime.timedelta(
            days=rng.randint(-4, 4), hours=rng.choice((0, 0, 9, 17)), minutes=rng.choice((0, 0, 30))
        )
        soon = due - datetime.timedelta(days=rng.randint(-1, 3), hours=rng.choice((0, 0, 5)))
        Referral.objects.filter(pk=referral.pk).update(
            due_at=rng.choice((None, due, due, due)),
            due_soon_at=rng.choice((None, soon, soon)),
            deadline_kind=rng.choice(("", *DeadlineKind.values)),
            petition_due_on=rng.choice((None, (AROUND + datetime.timedelta(days=rng.randint(-4, 4))).date())),
        )


def _instants(seed: int, count: int = 24) -> list[datetime.datetime]:
    """Moments over the days the deadlines fall on: day starts, the deadlines' own times, others."""
    rng = random.Random(seed)
    found = set()
    for _ in range(count):
        day = AROUND + datetime.timedelta(days=rng.randint(-5, 5))
        found.add(day + datetime.timedelta(hours=rng.choice((0, 0, 5, 9, 17, 23)), minutes=rng.choice((0, 1, 30))))
    return sorted(found)


def _referrals(story, people) -> list[Referral]:
    found = [story.at(state) for state in STATES for _ in range(2)]
    found.append(story.submitted(target=f.committee("440703002")))  # another township
    found.append(story.draft(category="labour"))
    return found


def test_the_clock_values_worked_out_in_python_are_the_figures_own_conditions(people, story):
    referrals = _referrals(story, people)
    _scatter(referrals, seed=1)
    rows = list(Referral.objects.values("pk", *rollup.ClockSource.FIELDS))
    for now in _instants(seed=2):
        for key in CLOCK_FIGURES:
            counted = set(Referral.objects.filter(FIGURES[key].where(now)).values_list("pk", flat=True))
            worked_out = {row["pk"] for row in rows if clock_values(row, now)[key]}
            assert worked_out == counted, (key, now)


def _clock_figures(scope: stats.Scope, now: datetime.datetime) -> dict:
    figures = stats.Figures(scope, now)
    rows = {"headline": {k: figures.headline[k] for k in CLOCK_FIGURES}}
    clock_rows = [k for k in CLOCK_FIGURES if k in ROW_FIGURES]
    for name in ("by_region", "by_category", "by_month"):
        rows[name] = [{k: row[k] for k in ("code", "month", *clock_rows) if k in row} for row in getattr(figures, name)]
    return rows


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_a_summary_from_the_clock_cells_equals_the_live_count_at_any_moment(people, story, seed):
    referrals = _referrals(story, people)
    _scatter(referrals, seed=seed)
    instants = _instants(seed=seed + 100)
    with time_machine.travel(instants[0], tick=False):
        rollup.rebuild(sources=["clock"])
    assert ClockCell.objects.exists()
    from_cells = stats.Scope(user=people.supervisor)
    assert from_cells.uses_rollup()
    counted = stats.Scope(user=people.supervisor, state=",".join(State.values))
    assert not counted.uses_rollup()
    rng = random.Random(seed)
    for now in instants:
        if rng.random() < 0.5:
            rollup.fold_clock(now)
        assert _clock_figures(from_cells, now) == _clock_figures(counted, now), now
    # Folding every day begun leaves one row per cell up to today, and the same figures.
    rollup.fold_clock(instants[-1])
    assert not ClockCell.objects.filter(day__gt=ClockCell.SINCE_EVER, day__lte=instants[-1].date()).exists()
    assert _clock_figures(from_cells, instants[-1]) == _clock_figures(counted, instants[-1])


def _clock_cells() -> dict:
    return {
        tuple(getattr(c, k) for k in ClockCell.KEY): {n: getattr(c, n) for n in CLOCK_FIGURES}
        for c in ClockCell.objects.all()
        if any(getattr(c, n) for n in CLOCK_FIGURES)
    }


def test_the_steps_keep_the_clock_cells_as_a_rebuild_would_over_the_days(people, story):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        submitted = story.submitted()
        mediating = story.mediating()
        closable = story.closable()
        story.draft()
    with time_machine.travel(start + datetime.timedelta(days=5), tick=False):
        workflow.accept_referral(
            submitted, by=people.mediator, mediators=[people.lead, people.second], rights_explained=True
        )
        suspended = workflow.suspend_referral(mediating, by=people.mediator, reason="鉴定")
        story.declined()
    with time_machine.travel(start + datetime.timedelta(days=40), tick=False):
        workflow.resume_referral(suspended, by=people.mediator)
        story.at("closed")
        rollup.fold_clock()
        workflow.close_referral(closable, by=people.reviewer, note="已回访")
        kept = _clock_cells()
        assert kept, "the steps kept no clock cells"
        rollup.rebuild(sources=["clock"])
        assert _clock_cells() == kept


def test_what_the_summary_still_counts_live_is_read_through_the_deadline_indexes(people, story):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://...)")
    one = story.mediating()
    now = timezone.now()
    moved = Referral.objects.filter(clock_moved(now - datetime.timedelta(hours=3), now)).order_by().only("pk")
    sql, params = moved.query.sql_with_params()
    columns = [
        f.column for f in Referral._meta.concrete_fields if f.column != "id" and not getattr(f, "generated", False)
    ]
    names = ", ".join(f'"{c}"' for c in columns)
    copied = names.replace('"number"', "%s || g || number")
    with connection.cursor() as cursor:
        # Thousands of referrals with deadlines on other days, as the planner would know them from
        # the table's statistics; in a temporary copy with the same indexes, gone with the test
        # (ANALYZE writes a table's size past a rollback).
        cursor.execute("CREATE TEMPORARY TABLE clock_copy (LIKE referrals_referral INCLUDING ALL) ON COMMIT DROP")
        cursor.execute(
            f'INSERT INTO clock_copy ("id", {names}) '  # noqa: S608 - names from the model
            f"SELECT 100 + g, {copied} FROM referrals_referral, generate_series(1, 3000) AS g WHERE id = %s",
            ["C", one.pk],
        )
        cursor.execute("UPDATE clock_copy SET due_at = due_at - (id || ' hours')::interval, due_soon_at = NULL")
        cursor.execute("ANALYZE clock_copy")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql.replace('"referrals_referral"', "clock_copy"), params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Cond: ((due_at >" in plan and "Index Cond: ((due_soon_at >" in plan, plan
