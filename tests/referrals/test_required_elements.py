"""Each step refuses to happen without its elements (docs/domain.md#required-elements) and names every missing one."""

from __future__ import annotations

import pytest

from referrals import intake, workflow
from referrals.errors import MissingElements
from referrals.models import Exclusion, Party, Referral, State
from tests import factories as f
from tests.conftest import api

pytestmark = pytest.mark.django_db


def submit_codes(people, referral) -> set[str]:
    response = api(people.officer).post(f"/api/referrals/{referral.pk}/actions/submit/", {}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "missing_elements"
    assert all(m["message"] for m in body["missing"])
    return {m["code"] for m in body["missing"]}


def test_an_empty_draft_lists_every_missing_element_at_once(people):
    referral = f.make_referral(
        people.officer,
        origin=people.petition_office,
        target=None,
        summary="",
        claims="",
        scope_ground="",
        exclusions_absent=[],
        parties=[],
    )
    assert submit_codes(people, referral) == {
        "petitioner",
        "respondent",
        "summary",
        "claims",
        "scope_ground",
        "target",
        *(f"exclusion:{e}" for e in Exclusion.values),
    }
    assert Referral.objects.get(pk=referral.pk).state == State.DRAFT


def test_each_party_needs_identity_and_consent(people):
    parties = [
        f.person(Party.Role.PETITIONER, "王大明", serial=1, consent=False),
        intake.PartyInput(
            role=Party.Role.RESPONDENT,
            kind=Party.Kind.PERSON,
            name="李小红",
            consent_given_on=f.today(),
            consent_method="oral",
        ),
    ]
    referral = f.make_referral(people.officer, origin=people.petition_office, target=people.huanshi, parties=parties)
    assert submit_codes(people, referral) == {"consent:1", "party_identity:2"}


def test_an_organisation_party_needs_no_id_number_but_does_need_consent(people):
    parties = [
        f.person(Party.Role.PETITIONER, "王大明", serial=3),
        intake.PartyInput(role=Party.Role.RESPONDENT, kind=Party.Kind.ORGANISATION, name="某物业公司"),
    ]
    referral = f.make_referral(people.officer, origin=people.petition_office, target=people.huanshi, parties=parties)
    assert submit_codes(people, referral) == {"consent:2"}


def test_one_unconfirmed_exclusion_blocks_referral(people):
    absent = [e for e in Exclusion.values if e != "in_legal_proceedings"]
    referral = f.make_referral(
        people.officer, origin=people.petition_office, target=people.huanshi, exclusions_absent=absent
    )
    assert submit_codes(people, referral) == {"exclusion:in_legal_proceedings"}


def test_a_target_that_stopped_taking_referrals_is_a_missing_element(people):
    referral = f.make_referral(people.officer, origin=people.petition_office, target=people.huanshi)
    people.huanshi.active = False
    people.huanshi.save()
    assert submit_codes(people, referral) == {"target"}


def test_a_complete_draft_is_submitted(people, story):
    referral = story.draft()
    assert workflow.missing_elements(referral, "submit") == []
    assert workflow.submit_referral(referral, by=people.officer).state == State.SUBMITTED


def accept_codes(people, referral, body) -> set[str]:
    response = api(people.mediator).post(f"/api/referrals/{referral.pk}/actions/accept/", body, format="json")
    assert response.status_code == 400, response.json()
    return {m["code"] for m in response.json()["missing"]}


def test_accepting_needs_a_lead_mediator_and_the_rights_explained(people, story):
    referral = story.submitted()
    assert accept_codes(people, referral, {}) == {"lead_mediator", "rights_explained"}


def test_the_lead_mediator_must_be_on_this_committees_active_roster(people, story):
    referral = story.submitted()
    assert accept_codes(people, referral, {"mediators": [people.other_lead.pk], "rights_explained": True}) == {
        "mediator_not_on_roster"
    }
    retired = f.make_mediator(people.huanshi, name="退休调解员", active=False)
    assert accept_codes(people, referral, {"mediators": [retired.pk], "rights_explained": True}) == {
        "mediator_not_on_roster"
    }
    assert Referral.objects.get(pk=referral.pk).state == State.SUBMITTED


def test_an_extension_needs_every_partys_consent(people, story):
    referral = story.mediating()
    response = api(people.mediator).post(
        f"/api/referrals/{referral.pk}/actions/extend/", {"days": 10, "reason": "继续协商"}, format="json"
    )
    assert response.status_code == 400
    assert [m["code"] for m in response.json()["missing"]] == [
        f"extension_consent:{p.pk}" for p in referral.parties.all()
    ]


def test_extensions_are_capped_each_and_in_total(people, story, settings):
    referral = story.mediating()
    client = api(people.mediator)
    url = f"/api/referrals/{referral.pk}/actions/extend/"
    consents = f.extension_consents_json(referral)
    too_long = client.post(url, {"days": 31, "reason": "x", "consents": consents}, format="json")
    assert too_long.status_code == 400
    assert "1至30天" in too_long.json()["errors"]["days"][0]
    # Sixty more days of mediation outrun the petition's own 60 days: the office extends it first.
    workflow.extend_petition_referral(referral, by=people.reviewer, days=30, reason="案情复杂", approved_by_name="局长")
    for _ in range(2):
        assert client.post(url, {"days": 30, "reason": "x", "consents": consents}, format="json").status_code == 200
    over = client.post(url, {"days": 1, "reason": "x", "consents": consents}, format="json")
    assert over.status_code == 400
    assert "累计延长不得超过60天" in over.json()["errors"]["days"][0]
    assert Referral.objects.get(pk=referral.pk).extension_days == 60


def test_closing_needs_the_reviewers_note(people, story):
    referral = story.declined()
    response = api(people.reviewer).post(f"/api/referrals/{referral.pk}/actions/close/", {"note": " "}, format="json")
    assert response.status_code == 400
    assert [m["code"] for m in response.json()["missing"]] == ["review_note"]


def test_a_refused_step_changes_nothing(people, story):
    referral = story.submitted()
    before = (referral.events.count(), referral.handlings.count())
    with pytest.raises(MissingElements):
        workflow.accept_referral(referral, by=people.mediator, mediators=[], rights_explained=False)
    referral.refresh_from_db()
    assert referral.state == State.SUBMITTED
    assert (referral.events.count(), referral.handlings.count()) == before
