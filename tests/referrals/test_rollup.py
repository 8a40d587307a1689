"""The statistics cells kept by the workflow equal a recount from scratch, whatever happened."""

import datetime

import pytest
import time_machine
from django.db.models import Q

from lib.sql import Recompiled
from referrals import intake, rollup, stats, workflow
from referrals.models import Referral, State, StatsCell
from tests import factories as f

pytestmark = pytest.mark.django_db


def cells() -> dict:
    return {
        tuple(getattr(c, k) for k in rollup.KEY): {n: round(getattr(c, n), 6) for n in rollup.COUNTERS}
        for c in StatsCell.objects.all()
        if any(getattr(c, n) for n in rollup.COUNTERS)  # a cell emptied by moves counts nothing
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
    rollup.rebuild()
    assert cells() == kept


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
        "state_mediating",
    ):
        assert from_cells[key] == counted[key], key


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
