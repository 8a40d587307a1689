"""The statistics cells kept by the workflow equal a recount from scratch, whatever happened."""

import pytest

from referrals import intake, rollup, stats, workflow
from referrals.models import State, StatsCell
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
