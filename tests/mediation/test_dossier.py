"""The dossier (卷宗): each standard item's status, and the must-items that block closing."""

import pytest

from mediation.models import MediationSession, Termination
from mediation.workflow import add_attachment
from referrals.models import Party, Referral, State
from tests.conftest import api, login
from tests.files import pdf_upload
from tests.mediation.conftest import act, codes

pytestmark = pytest.mark.django_db


def close(people, referral):
    return act(people.reviewer, referral.pk, "close", {"note": "经审核，同意办结。"})


def attach(people, referral, kind: str) -> None:
    add_attachment(referral, by=people.mediator, kind=kind, upload=pdf_upload())


# Each must-item, and a way a case file ends up without it. The first two are the everyday gaps
# (nothing uploaded); the others cannot arise through the workflow today and are made by editing
# the rows, to prove the rule itself holds should data arrive another way (an import, an admin).
def no_identity_proof(story, people):
    return story.succeeded()


def unsigned_written_agreement(story, people):
    referral = story.succeeded(form="written")
    attach(people, referral, "identity_proof")
    return referral


def no_consent(story, people):
    referral = story.closable()
    Party.objects.filter(referral=referral).update(consent_given_on=None, consent_method="")
    return referral


def no_register_form(story, people):
    referral = story.closable()
    Referral.objects.filter(pk=referral.pk).update(accepted_at=None)
    return referral


def no_rights_notice(story, people):
    referral = story.closable()
    Referral.objects.filter(pk=referral.pk).update(rights_explained=False)
    return referral


def no_mediation_record(story, people):
    referral = story.closable()
    MediationSession.objects.filter(referral=referral).delete()
    return referral


def no_termination_notice(story, people):
    referral = story.failed()
    attach(people, referral, "identity_proof")
    Termination.objects.filter(referral=referral).delete()
    return referral


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (no_identity_proof, "dossier:identity_proof"),
        (unsigned_written_agreement, "dossier:agreement"),
        (no_consent, "dossier:consent"),
        (no_register_form, "dossier:register_form"),
        (no_rights_notice, "dossier:rights_notice"),
        (no_mediation_record, "dossier:mediation_record"),
        (no_termination_notice, "dossier:termination_notice"),
    ],
)
def test_closing_is_blocked_while_a_must_item_of_the_dossier_is_missing(people, story, make, code):
    referral = make(story, people)
    response = close(people, referral)
    assert response.status_code == 400
    assert codes(response) == [code]
    assert response.json()["missing"][0]["message"].startswith("卷宗材料：")
    assert Referral.objects.get(pk=referral.pk).state != State.CLOSED


def test_the_missing_review_note_and_dossier_items_are_named_together(people, story):
    referral = story.succeeded(form="written")
    response = act(people.reviewer, referral.pk, "close", {"note": ""})
    assert response.status_code == 400
    assert codes(response) == ["review_note", "dossier:identity_proof", "dossier:agreement"]


def test_a_complete_dossier_lets_the_reviewer_close(people, story):
    referral = story.closable()
    response = close(people, referral)
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "closed"


def test_uploading_the_signed_agreement_unblocks_closing(people, story):
    referral = unsigned_written_agreement(story, people)
    assert close(people, referral).status_code == 400
    attach(people, referral, "agreement")
    assert close(people, referral).status_code == 200


def test_a_termination_without_any_session_needs_no_mediation_record(people, story):
    referral = story.mediating()
    act(
        people.mediator,
        referral.pk,
        "fail",
        {"reason": "party_unreachable", "routes_explained": ["litigation"], "no_session_note": "当事人失联。"},
    )
    attach(people, referral, "identity_proof")
    entries = {e["item"]: e for e in api(people.officer).get(f"/api/referrals/{referral.pk}/dossier/").json()}
    assert entries["mediation_record"]["status"] == "not_needed"
    assert "当事人失联" in entries["mediation_record"]["source"]
    assert entries["termination_notice"]["status"] == "present"
    assert entries["agreement"]["status"] == "not_needed"
    assert close(people, referral).status_code == 200


def test_a_returned_referral_closes_without_a_dossier(people, story):
    referral = story.declined()
    response = close(people, referral)
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "closed"


def test_the_dossier_lists_every_standard_item_with_its_requirement_and_status(people, story):
    referral = story.succeeded(form="written")
    attach(people, referral, "evidence")
    entries = api(people.officer).get(f"/api/referrals/{referral.pk}/dossier/").json()
    status = {e["item"]: (e["requirement"], e["status"]) for e in entries}
    assert status == {
        "consent": ("must", "present"),
        "register_form": ("must", "present"),
        "rights_notice": ("must", "present"),
        "identity_proof": ("must", "missing"),
        "mediation_record": ("must", "present"),
        "agreement": ("must", "missing"),
        "back_cover": ("must", "present"),
        "power_of_attorney": ("as_needed", "not_needed"),
        "investigation_record": ("as_needed", "not_needed"),
        "evidence": ("as_needed", "present"),
        "performance_proof": ("as_needed", "not_needed"),
        "dossier_note": ("as_needed", "not_needed"),
        "other": ("as_needed", "not_needed"),
        "followup_record": ("as_needed", "not_needed"),
        "judicial_confirmation": ("as_needed", "not_needed"),
    }
    assert {e["item"]: e["label"] for e in entries}["identity_proof"] == "当事人身份证明"


def test_the_closing_form_names_the_missing_items_and_refuses_with_them(people, story):
    referral = story.succeeded(form="written")
    client = login(people.reviewer)
    page = client.get(f"/referrals/{referral.pk}/").content.decode()
    close_form = page[page.index('data-action="close"') :]
    close_form = close_form[: close_form.index("</details>")]
    assert "卷宗材料：当事人身份证明" in close_form
    assert "卷宗材料：调解协议书" in close_form
    refused = client.post(f"/referrals/{referral.pk}/actions/close/", {"note": "同意办结。"})
    assert refused.status_code == 400
    html = refused.content.decode()
    summary = html[html.index('data-action="close"') :]
    summary = summary[summary.index('class="error-summary"') : summary.index("</form>")]
    assert "卷宗材料：当事人身份证明" in summary and "卷宗材料：调解协议书" in summary
    assert Referral.objects.get(pk=referral.pk).state == State.SUCCEEDED
