"""Terminating mediation without agreement (终止调解): a reason, the routes explained, a record or a note."""

import pytest

from mediation.models import Termination
from notifications.models import Notification
from referrals.models import Referral, State
from referrals.notices import Notice as ReferralNotice
from tests.conftest import api, login
from tests.mediation.conftest import act, codes

pytestmark = pytest.mark.django_db

COMPLETE = {"reason": "views_too_far_apart", "note": "双方就赔偿数额分歧较大。", "routes_explained": ["litigation"]}


@pytest.mark.parametrize(
    ("left_out", "code"),
    [("reason", "termination_reason"), ("routes_explained", "routes_explained")],
)
def test_it_refuses_to_terminate_without_each_element(people, story, left_out, code):
    referral = story.with_session()
    body = {k: v for k, v in COMPLETE.items() if k != left_out}
    response = act(people.mediator, referral.pk, "fail", body)
    assert response.status_code == 400
    assert codes(response) == [code]
    assert Referral.objects.get(pk=referral.pk).state == State.MEDIATING
    assert not Termination.objects.exists()


def test_it_refuses_to_terminate_without_a_session_record_or_a_note_why_none_was_held(people, story):
    referral = story.mediating()
    response = act(people.mediator, referral.pk, "fail", COMPLETE)
    assert response.status_code == 400
    assert codes(response) == ["session_or_note"]


def test_it_names_every_missing_termination_element_at_once(people, story):
    referral = story.mediating()
    response = act(people.mediator, referral.pk, "fail", {"no_session_note": "  "})
    assert response.status_code == 400
    assert codes(response) == ["termination_reason", "routes_explained", "session_or_note"]
    assert "诉讼" in response.json()["missing"][1]["message"]


def test_a_note_why_no_session_was_held_stands_in_for_a_record(people, story):
    referral = story.mediating()
    body = {**COMPLETE, "reason": "party_unreachable", "no_session_note": "被申请人外出务工，多次联系未果。"}
    response = act(people.mediator, referral.pk, "fail", body)
    assert response.status_code == 200, response.json()
    assert Termination.objects.get(referral=referral).no_session_note == "被申请人外出务工，多次联系未果。"


def test_the_reason_other_needs_a_note(people, story):
    referral = story.with_session()
    response = act(people.mediator, referral.pk, "fail", {**COMPLETE, "reason": "other", "note": ""})
    assert response.status_code == 400
    assert "须填写说明" in response.json()["errors"]["note"][0]


@pytest.mark.parametrize("body", [{"reason": "bored"}, {"routes_explained": ["lottery"]}])
def test_it_refuses_unknown_reason_and_route_codes(people, story, body):
    referral = story.with_session()
    response = act(people.mediator, referral.pk, "fail", {**COMPLETE, **body})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not Termination.objects.exists()


def test_the_outcome_records_the_reason_and_the_routes_explained(people, story):
    referral = story.with_session(category="contract")  # a contract dispute may go to arbitration
    body = {**COMPLETE, "routes_explained": ["litigation", "arbitration", "litigation"]}
    response = act(people.mediator, referral.pk, "fail", body)
    assert response.status_code == 200
    outcome = api(people.officer).get(f"/api/referrals/{referral.pk}/").json()["outcome"]
    assert outcome["result"] == "terminated"
    assert outcome["reason"] == "views_too_far_apart"
    assert outcome["reason_label"] == "双方分歧较大，难以达成协议"
    assert outcome["routes_explained"] == ["litigation", "arbitration"]
    assert set(
        Notification.objects.filter(kind=ReferralNotice.REFERRAL_CONCLUDED).values_list(
            "recipient__username", flat=True
        )
    ) == {"officer", "reviewer"}


def test_a_suspended_mediation_may_still_be_terminated_and_the_pause_ends(people, story):
    referral = story.with_session()
    act(people.mediator, referral.pk, "suspend", {"reason": "等待伤情鉴定"})
    response = act(people.mediator, referral.pk, "fail", {**COMPLETE, "reason": "party_withdrew"})
    assert response.status_code == 200, response.json()
    assert Referral.objects.get(pk=referral.pk).suspended_since is None


@pytest.mark.parametrize(
    ("category", "route"),
    [
        ("marriage_family", "administrative_review"),  # no 行政复议 for a 赡养 or divorce dispute
        ("neighbour", "arbitration"),  # nothing to arbitrate between neighbours
        ("contract", "petition"),  # the petition channel is not a route once a civil dispute is mediated
    ],
)
def test_only_the_routes_open_to_the_dispute_type_may_be_explained(people, story, category, route):
    referral = story.with_session(category=category)
    response = act(people.mediator, referral.pk, "fail", {**COMPLETE, "routes_explained": ["litigation", route]})
    assert response.status_code == 400
    assert "routes_explained" in response.json()["errors"]
    assert not Termination.objects.exists()
    # The page offers only the routes that apply.
    page = login(people.mediator).get(f"/referrals/{referral.pk}/").content.decode()
    assert 'name="routes_explained" value="litigation"' in page
    assert f'name="routes_explained" value="{route}"' not in page


def test_a_land_dispute_offers_the_administrative_ruling_and_arbitration(people, story):
    referral = story.with_session(category="forest_land")
    body = {**COMPLETE, "routes_explained": ["litigation", "arbitration", "administrative_review"]}
    assert act(people.mediator, referral.pk, "fail", body).status_code == 200
