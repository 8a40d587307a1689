"""Mediation's running totals (``MediationCell``) equal a recount, and the live figures, after any
sequence of steps: agreements made, progressed and undone by reopening, follow-ups in any order."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

import pytest

from mediation import stats as mediation_stats
from mediation.models import MediationCell
from mediation.workflow import (
    AgreementInput,
    add_followup,
    record_agreement_progress,
    record_session,
    succeed_referral,
)
from referrals import rollup, stats, workflow
from referrals.models import State
from tests.mediation.conftest import on

pytestmark = pytest.mark.django_db

MEDIATION_KEYS = mediation_stats.CELL_COUNTERS


def cells() -> dict:
    return {
        tuple(getattr(c, k) for k in rollup.KEY): {n: getattr(c, n) for n in MEDIATION_KEYS}
        for c in MediationCell.objects.all()
        if any(getattr(c, n) for n in MEDIATION_KEYS)  # a cell emptied by reopening counts nothing
    }


def check(people) -> None:
    """The kept cells equal a rebuild, and the supervisor's figures from them the live count."""
    kept = cells()
    rollup.rebuild(sources=["mediation"])
    assert cells() == kept
    scope = stats.Scope(user=people.supervisor)
    assert scope.uses_rollup()
    from_cells = stats.Figures(scope).headline
    every_state = stats.Scope(user=people.supervisor, state=",".join(State.values))
    assert not every_state.uses_rollup()
    counted = stats.Figures(every_state).headline
    for key in (*MEDIATION_KEYS, "satisfaction_rate"):
        assert from_cells[key] == counted[key], key
    assert from_cells["agreements"] == from_cells["succeeded"]


def test_the_mediation_counters_are_figures_of_the_statistics():
    assert set(MEDIATION_KEYS) <= set(stats.FIGURES)
    assert "mediation" in rollup.sources()


def conclude(people, referral, rng: random.Random):
    record_session(
        referral,
        by=people.mediator,
        held_on=datetime.date.today(),
        location="调解室",
        participants="双方当事人",
        record="再次调解。",
    )
    form = rng.choice(["written", "oral"])
    agreement = AgreementInput(
        form=form,
        terms="赔偿。",
        amount=rng.choice([None, Decimal("0"), Decimal("1250.50"), Decimal("300")]),
        performance_method="现金支付",
        performance_due=datetime.date.today() + datetime.timedelta(days=10),
        signed_on=datetime.date.today() if form == "written" else None,
    )
    return succeed_referral(referral, by=people.mediator, agreement=agreement)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_running_totals_match_a_recount_after_random_steps(people, story, seed):
    rng = random.Random(seed)
    referrals = []
    for _ in range(24):
        concluded = [r for r in referrals if r.state in (State.SUCCEEDED, State.FAILED, State.CLOSED)]
        succeeded = [r for r in referrals if r.state in (State.SUCCEEDED, State.CLOSED) and r.outcome == "agreement"]
        reopened = [r for r in referrals if r.state == State.MEDIATING]
        step = rng.choice(["new", "new", "followup", "followup", "progress", "reopen", "conclude"])
        if step == "new" or not concluded:
            state = rng.choice(["succeeded", "failed", "closed", "mediating"])
            kwargs = {"form": rng.choice(["written", "oral"])} if state == "succeeded" else {}
            referrals.append(story.at(state, **kwargs))
        elif step == "followup":
            add_followup(
                rng.choice(concluded),
                by=rng.choice([people.mediator, people.officer]),
                visited_on=datetime.date.today(),
                method="phone",
                satisfaction=rng.choice(["satisfied", "basically_satisfied", "dissatisfied"]),
                performance=rng.choice(["", "performed", "partly"]),
            )
        elif step == "progress" and succeeded:
            referral = rng.choice(succeeded)
            # Judicial confirmation is only for written agreements; an oral one gets performance only.
            written = referral.agreements.get(current=True).confirmable
            if rng.random() < 0.5 or not written:
                record_agreement_progress(referral, by=people.mediator, performance=rng.choice(["performed", "partly"]))
            else:
                record_agreement_progress(
                    referral,
                    by=people.mediator,
                    confirmation_applied_on=datetime.date.today(),
                    confirmation_court="蓬江区人民法院",
                    confirmation_result=rng.choice(["confirmed", "pending", "rejected"]),
                )
        elif step == "reopen":
            workflow.reopen_referral(rng.choice(concluded), by=people.reviewer, reason="回访不满意")
        elif step == "conclude" and reopened:
            conclude(people, rng.choice(reopened), rng)
        referrals = [type(r).objects.get(pk=r.pk) for r in referrals]
        check(people)
    check(people)
    assert cells(), "no mediation cells were kept"


def test_an_earlier_visit_recorded_later_does_not_replace_the_latest(people, story):
    with on(datetime.date(2026, 11, 2)):
        referral = story.succeeded(form="written")
    with on(datetime.date(2026, 11, 9)):
        add_followup(
            referral,
            by=people.mediator,
            visited_on=datetime.date(2026, 11, 9),
            method="phone",
            satisfaction="dissatisfied",
        )
    with on(datetime.date(2026, 11, 10)):
        add_followup(
            referral,
            by=people.mediator,
            visited_on=datetime.date(2026, 11, 5),
            method="visit",
            satisfaction="satisfied",
        )
        check(people)
        headline = stats.Figures(stats.Scope(user=people.supervisor)).headline
        assert (headline["followups_visited"], headline["dissatisfied"], headline["satisfied"]) == (1, 1, 0)
        workflow.reopen_referral(referral, by=people.reviewer, reason="回访不满意")
        check(people)
        headline = stats.Figures(stats.Scope(user=people.supervisor)).headline
        assert (headline["agreements"], headline["agreements_written"], headline["followups_visited"]) == (0, 0, 1)
