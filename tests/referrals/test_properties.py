"""Property tests (hypothesis): deadline arithmetic, validators and the state machine.

The number of examples is small in CI and large under `make fuzz` (FUZZ_EXAMPLES).
"""

from __future__ import annotations

import datetime
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from referrals.models import Referral, State, TimelineEvent
from tests.conftest import Story, api
from tests.factories import extension_consents_json
from townships.calendar import add_working_days, calendar_period_end, default_calendar, working_days_between
from townships.validators import id_check_digit, make_id_number, mask_id_number, mask_phone, validate_id_number

pytestmark = pytest.mark.fuzz
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
dates = st.dates(min_value=datetime.date(2020, 1, 1), max_value=datetime.date(2028, 12, 31))


@pytest.mark.django_db
@fuzz
@given(start=dates, n=st.integers(min_value=1, max_value=40))
def test_working_days_land_on_a_working_day_after_the_start_and_count_exactly_n(start, n):
    due = add_working_days(start, n)
    assert due.date > start
    assert default_calendar().is_workday(due.date)
    assert working_days_between(start, due.date) == n
    assert add_working_days(start, n + 1).date > due.date  # monotone in n
    assert add_working_days(start + datetime.timedelta(days=1), n).date >= due.date  # monotone in the start


@pytest.mark.django_db
@fuzz
@given(start=dates, days=st.integers(min_value=1, max_value=120))
def test_a_calendar_period_ends_on_the_first_working_day_on_or_after_its_last_day(start, days):
    end = calendar_period_end(start, days)
    last = start + datetime.timedelta(days=days)
    assert end.date >= last
    assert default_calendar().is_workday(end.date)
    current = last
    while current < end.date:  # every day rolled over was a rest day
        assert not default_calendar().is_workday(current)
        current += datetime.timedelta(days=1)


@pytest.mark.django_db
@fuzz
@given(start=dates, a=st.integers(min_value=1, max_value=60), b=st.integers(min_value=1, max_value=60))
def test_extensions_add_up(start, a, b):
    assert calendar_period_end(start, a + b).date >= calendar_period_end(start, a).date
    # Extending twice is extending once by the sum (the period is counted from the same start).
    assert calendar_period_end(start, 30 + a + b) == calendar_period_end(start, 30 + (a + b))


@pytest.mark.django_db
@fuzz
@given(
    start=st.dates(min_value=datetime.date(2027, 1, 1), max_value=datetime.date(2028, 12, 1)),
    n=st.integers(min_value=1, max_value=20),
)
def test_deadlines_in_years_without_an_official_calendar_are_provisional(start, n):
    assert add_working_days(start, n).provisional
    assert calendar_period_end(start, n).provisional


@fuzz
@given(
    born=st.dates(min_value=datetime.date(1920, 1, 1), max_value=datetime.date(2010, 12, 31)),
    serial=st.integers(min_value=0, max_value=999),
    male=st.booleans(),
    region=st.sampled_from(["440703", "440781", "110105", "440785"]),
)
def test_every_generated_id_number_validates_and_any_single_digit_error_is_caught(born, serial, male, region):
    number = make_id_number(region, born, serial, male=male)
    assert validate_id_number(number) == number
    for position in range(17):
        digit = int(number[position])
        wrong = number[:position] + str((digit + 1) % 10) + number[position + 1 : 17]
        assert id_check_digit(wrong) != number[17]  # GB 11643 detects every single-digit error


@fuzz
@given(text=st.text(alphabet="0123456789X", min_size=11, max_size=18))
def test_masks_never_show_the_middle(text):
    masked = mask_id_number(text)
    assert len(masked) == len(text)
    assert text[6:-4] == "" or set(masked[6:-4]) == {"*"}
    assert set(mask_phone(text)[3:-4] or "*") <= {"*"}


# --- The state machine under random use --------------------------------------------------------

ACTIONS = [
    "submit",
    "accept",
    "decline",
    "redirect",
    "extend",
    "suspend",
    "resume",
    "succeed",
    "fail",
    "close",
    "reopen",
]
PERSONAS = ["officer", "reviewer", "mediator", "other_mediator", "supervisor", "city", "outsider"]


def body_for(action: str, people, draw, referral: Referral) -> dict:
    today = datetime.date.today().isoformat()
    complete = draw(st.booleans())
    if action == "accept":
        return {"mediators": [people.lead.pk] if complete else [], "rights_explained": complete}
    if action == "decline":
        return {"reason": draw(st.sampled_from(["party_refused", "out_of_scope", "other"])), "note": ""}
    if action == "redirect":
        return {"target": draw(st.sampled_from([people.huanshi.pk, people.taicheng.pk]))}
    if action == "extend":
        # Every party's consent, or all but the last one (the extension is then refused, naming it).
        consents = extension_consents_json(referral)
        return {
            "days": draw(st.integers(-1, 40)),
            "reason": "继续协商",
            "consents": consents[: None if complete else -1],
        }
    if action in ("suspend", "reopen"):
        return {"reason": "等待鉴定" if complete else ""}
    if action == "succeed":
        return {
            "agreement": {
                "form": "oral",
                "terms": "赔偿" if complete else "",
                "performance_method": "现金",
                "performance_due": today,
            }
        }
    if action == "fail":
        return {"reason": "views_too_far_apart", "routes_explained": ["litigation"] if complete else []}
    if action == "close":
        return {"note": "同意" if complete else ""}
    return {}


def check_invariants(referral: Referral) -> None:
    """What must hold of any referral the workflow produced, whatever happened before."""
    assert referral.state in State.values
    if referral.state != State.DRAFT:
        parties = list(referral.parties.all())
        assert parties and all(p.has_consent for p in parties)
        assert referral.target is not None and referral.target.accepts_referrals
    if referral.state in (State.MEDIATING, State.SUCCEEDED, State.FAILED):
        assert referral.lead_mediator is not None and referral.rights_explained
        assert referral.lead_mediator.committee_id == referral.target_id
    if referral.state == State.SUCCEEDED:
        assert referral.agreements.filter(round=referral.round).exists()
        assert referral.sessions.filter(round=referral.round).exists()
    if referral.state == State.FAILED:
        assert referral.terminations.filter(round=referral.round).exclude(routes_explained=[]).exists()
    if referral.state in (State.SUBMITTED, State.MEDIATING) or referral.state in (State.SUCCEEDED, State.FAILED):
        assert referral.due_at is not None or referral.is_suspended
    if referral.state == State.CLOSED:
        assert referral.due_at is None and referral.review_note.strip()


@pytest.mark.django_db
@fuzz
@given(data=st.data())
def test_random_actions_by_random_people_never_break_the_rules(people, data):
    story = Story(people)
    referral = story.with_session() if data.draw(st.booleans()) else story.draft()
    events_before = TimelineEvent.objects.filter(referral=referral).count()
    accepted_steps = 0
    for _ in range(data.draw(st.integers(min_value=1, max_value=8))):
        action = data.draw(st.sampled_from(ACTIONS))
        persona = data.draw(st.sampled_from(PERSONAS))
        before = Referral.objects.get(pk=referral.pk).state
        response = api(getattr(people, persona)).post(
            f"/api/referrals/{referral.pk}/actions/{action}/",
            body_for(action, people, data.draw, referral),
            format="json",
        )
        assert response.status_code in (200, 400, 403, 404, 409), response.content
        after = Referral.objects.get(pk=referral.pk)
        if response.status_code == 200:
            accepted_steps += 1
        else:
            assert after.state == before  # a refused step changes nothing
        check_invariants(after)
    # One timeline event per step that happened, none for refused ones.
    assert TimelineEvent.objects.filter(referral=referral).count() - events_before == accepted_steps
