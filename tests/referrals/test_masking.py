"""Full personal data only for the origin office and the current handler.

The rule: docs/architecture.md#core-rules and docs/domain.md#personal-data.
"""

import pytest

from referrals import workflow
from tests.conftest import api, login

pytestmark = pytest.mark.django_db


def parties_seen_by(user, referral_id):
    body = api(user).get(f"/api/referrals/{referral_id}/").json()
    return body["personal_data"], body["parties"][0]


def test_the_origin_office_and_the_current_handler_see_full_data(people, story):
    referral = story.mediating()
    petitioner = referral.parties.get(role="petitioner")
    for user in (people.officer, people.reviewer, people.mediator):
        mode, party = parties_seen_by(user, referral.pk)
        assert mode == "full"
        assert party["id_number"] == petitioner.id_number
        assert party["phone"] == petitioner.phone
        assert party["address"] == petitioner.address


def test_supervisors_see_masked_data(people, story):
    referral = story.mediating()
    petitioner = referral.parties.get(role="petitioner")
    for user in (people.supervisor, people.city):
        mode, party = parties_seen_by(user, referral.pk)
        assert mode == "masked"
        assert party["id_number"] == petitioner.id_number[:6] + "********" + petitioner.id_number[-4:]
        assert party["phone"] == petitioner.phone[:3] + "****" + petitioner.phone[-4:]
        assert petitioner.address not in party["address"]
        assert party["name"] == petitioner.name  # names are how supervisors talk about a case


def test_a_past_handler_sees_masked_data_once_the_referral_moves_on(people, story):
    referral = story.declined()
    workflow.redirect_referral(referral, by=people.officer, target=people.taicheng)
    mode, party = parties_seen_by(people.mediator, referral.pk)
    assert mode == "masked"
    assert "****" in party["phone"]
    assert parties_seen_by(people.other_mediator, referral.pk)[0] == "full"


def test_the_page_masks_too(people, story):
    referral = story.mediating()
    petitioner = referral.parties.get(role="petitioner")
    supervisor_page = login(people.supervisor).get(f"/referrals/{referral.pk}/").content.decode()
    assert petitioner.id_number not in supervisor_page
    assert petitioner.phone not in supervisor_page
    assert "个人信息已脱敏" in supervisor_page
    mediator_page = login(people.mediator).get(f"/referrals/{referral.pk}/").content.decode()
    assert petitioner.id_number in mediator_page


def test_lists_mask_per_referral(people, story):
    mine = story.mediating()
    results = api(people.supervisor).get("/api/referrals/").json()["results"]
    row = next(r for r in results if r["id"] == mine.pk)
    assert row["personal_data"] == "masked"
    assert "*" in row["parties"][0]["id_number"]


def test_a_committee_that_returned_a_referral_sees_it_as_any_past_handler(people, story):
    from mediation.workflow import add_attachment
    from tests.files import pdf_upload

    referral = story.submitted()
    attachment = add_attachment(referral, by=people.officer, kind="identity_proof", upload=pdf_upload())
    workflow.decline_referral(referral, by=people.mediator, reason="party_refused")
    body = api(people.mediator).get(f"/api/referrals/{referral.pk}/").json()
    assert body["personal_data"] == "masked"
    assert body["available_actions"] == []
    petitioner = referral.parties.get(role="petitioner")
    assert petitioner.id_number not in str(body)
    assert (
        api(people.mediator)
        .post(
            f"/api/referrals/{referral.pk}/attachments/", {"kind": "evidence", "file": pdf_upload()}, format="multipart"
        )
        .status_code
        == 403
    )
    assert login(people.mediator).get(f"/referrals/{referral.pk}/attachments/{attachment.pk}/").status_code in (
        403,
        404,
    )
    # The office that received it back still sees everything.
    assert api(people.officer).get(f"/api/referrals/{referral.pk}/").json()["personal_data"] == "full"
