"""The statistics cells kept by the workflow equal a recount from scratch, whatever happened."""

import collections
import datetime
import math
import random
import statistics

import pytest
import time_machine
from django.db.models import Q

from lib.sql import Recompiled
from referrals import intake, rollup, stats, workflow
from referrals.models import DurationCell, Referral, State, StatsCell
from referrals.stats.sql import median_in_buckets
from tests import factories as f

pytestmark = pytest.mark.django_db


def cells() -> dict:
    return {
        tuple(getattr(c, k) for k in rollup.KEY): {n: round(getattr(c, n), 6) for n in rollup.COUNTERS}
        for c in StatsCell.objects.all()
        if any(getattr(c, n) for n in rollup.COUNTERS)  # a cell emptied by moves counts nothing
    }


def every_table() -> dict:
    """Every source's running totals (``StatsCell``, ``ClockCell``, ``DurationCell``, mediation's)."""
    return {
        name: {
            tuple(getattr(c, k) for k in source.key): {n: round(getattr(c, n), 6) for n in source.counters}
            for c in source.model.objects.all()
            if any(getattr(c, n) for n in source.counters)
        }
        for name, source in rollup.sources().items()
    }


def test_every_counter_but_the_duration_sums_is_a_figure_of_the_statistics():
    assert set(rollup.COUNTERS) - rollup.SUMS <= set(stats.FIGURES)
    assert "overdue" not in rollup.COUNTERS  # figures of the clock are always counted live


def test_running_totals_match_a_rebuild_after_every_kind_of_step(people, story):
    draft = story.draft()
    intake.update_draft(draft, by=people.officer, data=f.referral_input(people.taicheng, category="labour"))
    story.declined()
    redirected = workflow.redirect_referral(story.declined(), by=people.officer, target=people.taicheng)
    workflow.decline_referral(redirected, by=people.other_mediator, reason="out_of_scope")
    suspended = workflow.suspend_referral(story.mediating(), by=people.mediator, reason="鉴定")
    workflow.resume_referral(suspended, by=people.mediator)
    story.failed()
    closed = story.closed()
    workflow.reopen_referral(closed, by=people.reviewer, reason="回访不满意")
    kept = cells()
    assert kept, "the workflow kept no cells"
    every = every_table()
    assert every["clock"] and every["durations"]
    rollup.rebuild()
    assert cells() == kept
    assert every_table() == every


def test_a_county_summary_from_the_cells_equals_the_live_count(people, story):
    for state in ("draft", "submitted", "mediating", "declined", "succeeded", "failed", "closed"):
        story.at(state)
    scope = stats.Scope(user=people.supervisor)
    assert scope.uses_rollup()
    from_cells = stats.Figures(scope).headline
    # Naming every state selects the same referrals but is a filter the totals do not keep, so
    # this one is counted from the referrals themselves.
    every_state = stats.Scope(user=people.supervisor, state=",".join(s for s, _ in State.choices))
    assert not every_state.uses_rollup()
    counted = stats.Figures(every_state).headline
    for key in (
        "total",
        "accepted",
        "concluded",
        "succeeded",
        "failed",
        "closed",
        "returned",
        "overdue",
        "accepted_on_time",
        "concluded_on_time",
        "avg_days_to_accept",
        "median_days_to_accept",
        "median_days_to_conclude",
        "state_mediating",
    ):
        assert from_cells[key] == counted[key], key


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_areas_medians_from_the_duration_buckets_equal_the_live_ones(people, story, seed):
    for state in ("mediating", "succeeded", "failed", "closed", "declined"):
        for _ in range(3):
            story.at(state)
    workflow.accept_referral(  # the city's, not the county's
        story.submitted(target=people.taicheng),
        by=people.other_mediator,
        mediators=[people.other_lead],
        rights_explained=True,
    )
    rng = random.Random(seed)
    # Durations on and around the quarter-days the buckets split at, some equal, over weeks.
    for referral in Referral.objects.filter(accepted_at__isnull=False):
        accepted = referral.submitted_at + datetime.timedelta(hours=rng.choice((0, 6, 6, 7.5, 12, 30, 47.999)))
        concluded = accepted + datetime.timedelta(days=rng.randint(0, 40), hours=rng.choice((0, 6, 18)))
        Referral.objects.filter(pk=referral.pk).update(
            accepted_at=accepted, concluded_at=concluded if referral.concluded_at else None
        )
    rollup.rebuild()
    every_state = ",".join(s for s, _ in State.choices)
    for user in (people.supervisor, people.city, people.officer):  # two areas, one office's own
        scope = stats.Scope(user=user)
        assert scope.uses_rollup()
        from_buckets = stats.Figures(scope).medians(0, 0)  # the counts serve only the walks
        counted = stats.Figures(stats.Scope(user=user, state=every_state)).headline
        for key, value in from_buckets.items():
            assert value is not None and value == counted[key], (user, key)


# --- A step's share of the totals: its SQL compiled once (lib.sql.Recompiled) --------------------


def test_a_referrals_share_read_through_the_compiled_sql_equals_the_query_itself(people, story):
    referrals = [story.at(state) for state in ("draft", "mediating", "succeeded", "failed", "closed")]
    for source in rollup.sources().values():
        for referral in referrals:
            compiled = list(source.rows(referral.pk))
            assert compiled == [row for q in source.queries(referral.pk) for row in q], (source.name, referral.state)
    assert any(rollup.REFERRALS.rows(r.pk) for r in referrals)


def test_the_shares_sql_does_not_depend_on_the_moment_it_was_compiled(people):
    # Recompiled keeps the SQL of the first call: nothing but the referral's id may vary in it.
    def compiled() -> list:
        return [q.query.sql_with_params() for s in rollup.sources().values() for q in s.queries(42)]

    with time_machine.travel(datetime.datetime(2025, 1, 31, 23, 59, tzinfo=datetime.UTC), tick=False):
        before = compiled()
    with time_machine.travel(datetime.datetime(2026, 7, 1, 8, 0, tzinfo=datetime.UTC), tick=False):
        assert compiled() == before


def test_steps_after_the_first_compile_no_rollup_query(people, story, monkeypatch):
    story.mediating()  # compiles the shares' SQL if no test in this process has yet

    def compile_again(self, alias):
        raise AssertionError("a step compiled its share's SQL again")

    monkeypatch.setattr(Recompiled, "_compile", compile_again)
    story.closed()


def test_a_value_that_does_not_stand_once_in_the_query_is_refused(db):
    with pytest.raises(ValueError, match="once"):
        Recompiled(lambda pk: Referral.objects.filter(Q(pk=pk) | Q(repeat_of_id=pk)).values("pk")).rows(1)


def test_a_median_read_inside_its_buckets_is_the_middle_of_the_values_from_either_end(people, story):
    """Every count of values, the middle in the first half of its buckets or the second (read
    from the far end), one bucket or two, values equal or not."""
    hours = (1, 2, 2, 5, 7, 13, 13, 14, 30, 31, 50, 70, 71, 72, 90)
    referrals = [story.mediating() for _ in hours]
    for referral, h in zip(referrals, hours, strict=True):
        Referral.objects.filter(pk=referral.pk).update(accepted_at=referral.submitted_at + datetime.timedelta(hours=h))
    values = dict(Referral.objects.filter(pk__in=[r.pk for r in referrals]).values_list("pk", "days_to_accept"))
    for count in range(1, len(hours) + 1):
        chosen = [r.pk for r in referrals[:count]]
        mine = sorted(values[pk] for pk in chosen)
        buckets = collections.Counter(math.floor(v * DurationCell.PER_DAY) for v in mine)
        found = median_in_buckets(
            Referral.objects.filter(pk__in=chosen), "days_to_accept", sorted(buckets.items()), DurationCell.PER_DAY
        )
        assert found == pytest.approx(statistics.median(mine)), count
    assert median_in_buckets(Referral.objects.none(), "days_to_accept", [], DurationCell.PER_DAY) is None
