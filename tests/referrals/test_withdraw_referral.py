"""撤回 (``withdraw``): the origin office takes back a referral its receiver has not accepted yet.

The referral becomes the office's draft again; the receiver is told why and loses sight of it — in
lists, on its page and in the API — until the office submits it again.
"""

from __future__ import annotations

import pytest

from notifications.models import Notification
from referrals import workflow
from referrals.errors import Forbidden, NotAvailable
from referrals.models import Handling, Referral, State, TimelineEvent
from referrals.notices import Notice
from tests.conftest import api, login

pytestmark = pytest.mark.django_db
REASON = "当事人信息登记有误，需更正后重新移交。"


def withdraw(user, referral, body: dict | None = None):
    return api(user).post(
        f"/api/referrals/{referral.pk}/actions/withdraw/", {"reason": REASON} if body is None else body, format="json"
    )


def seen_by(user) -> set[int]:
    return {r["id"] for r in api(user).get("/api/referrals/").json()["results"]}


def test_the_officer_withdraws_and_the_committee_loses_sight_of_it(people, story):
    referral = story.submitted()
    assert referral.pk in seen_by(people.mediator)
    response = withdraw(people.officer, referral)
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "draft"
    referral = Referral.objects.get(pk=referral.pk)
    assert (referral.state, referral.submitted_at) == (State.DRAFT, None)
    assert referral.deadline_kind == "refer"  # the office's own clock again
    assert Handling.objects.get(referral=referral).result == Handling.Result.WITHDRAWN
    event = TimelineEvent.objects.filter(referral=referral).last()
    assert (event.action, event.get_action_label(), event.note) == ("withdraw", "撤回", REASON)
    # The committee is told why, without a link it could no longer open.
    notice = Notification.objects.get(kind=Notice.REFERRAL_WITHDRAWN)
    assert (notice.recipient, notice.body, notice.url) == (people.mediator, REASON, "")
    assert referral.number in notice.title
    # ... and no longer sees it anywhere; the office still does.
    assert referral.pk not in seen_by(people.mediator)
    assert api(people.mediator).get(f"/api/referrals/{referral.pk}/").status_code == 404
    assert login(people.mediator).get(f"/referrals/{referral.pk}/").status_code == 404
    for user in (people.supervisor, people.city):
        assert api(user).get(f"/api/referrals/{referral.pk}/").status_code == 404
    assert referral.pk in seen_by(people.officer) and referral.pk in seen_by(people.reviewer)


def test_a_bureau_that_routed_it_on_loses_sight_too(people, story):
    referral = workflow.submit_referral(story.draft(target=people.bureau), by=people.officer)
    referral = workflow.dispatch_referral(referral, by=people.supervisor, target=people.huanshi)
    assert withdraw(people.officer, referral).status_code == 200
    assert referral.pk not in seen_by(people.supervisor)
    assert referral.pk not in seen_by(people.mediator)
    assert list(Handling.objects.filter(referral=referral).order_by("id").values_list("result", flat=True)) == [
        "dispatched",
        "withdrawn",
    ]


def test_submitted_again_the_receiver_sees_it_again(people, story):
    referral = story.submitted()
    workflow.withdraw_referral(referral, by=people.officer, reason=REASON)
    workflow.submit_referral(Referral.objects.get(pk=referral.pk), by=people.officer)
    assert referral.pk in seen_by(people.mediator)
    assert Handling.objects.filter(referral=referral, result=Handling.Result.PENDING).count() == 1


@pytest.mark.parametrize("state", ["mediating", "declined", "draft", "succeeded"])
def test_only_a_referral_not_yet_accepted_can_be_withdrawn(people, story, state):
    referral = story.at(state)
    events = TimelineEvent.objects.filter(referral=referral).count()
    response = withdraw(people.officer, referral)
    assert response.status_code == 409
    assert response.json()["detail"] == "只能撤回已移交、尚未受理的案件。"
    assert Referral.objects.get(pk=referral.pk).state == state
    assert TimelineEvent.objects.filter(referral=referral).count() == events
    assert not Notification.objects.filter(kind=Notice.REFERRAL_WITHDRAWN).exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("reviewer", 403), ("mediator", 403), ("supervisor", 403), ("other_mediator", 404), ("outsider", 404)],
)
def test_only_the_origin_offices_officer_may_withdraw(people, story, persona, status):
    referral = story.submitted()
    assert withdraw(getattr(people, persona), referral).status_code == status
    assert Referral.objects.get(pk=referral.pk).state == State.SUBMITTED


def test_a_reason_is_required_and_nothing_is_half_written(people, story):
    referral = story.submitted()
    response = withdraw(people.officer, referral, {"reason": ""})
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    with pytest.raises(Exception) as caught:
        workflow.withdraw_referral(referral, by=people.officer, reason="   ")
    assert "请填写撤回原因" in str(caught.value)
    referral = Referral.objects.get(pk=referral.pk)
    assert referral.state == State.SUBMITTED
    assert Handling.objects.get(referral=referral).result == Handling.Result.PENDING
    assert not Notification.objects.filter(kind=Notice.REFERRAL_WITHDRAWN).exists()


def test_the_workflow_checks_who_and_when_itself(people, story):
    with pytest.raises(Forbidden):
        workflow.withdraw_referral(story.submitted(), by=people.reviewer, reason=REASON)
    with pytest.raises(NotAvailable):
        workflow.withdraw_referral(story.mediating(), by=people.officer, reason=REASON)


def test_the_page_offers_it_to_the_officer_only_and_it_works_there(people, story):
    referral = story.submitted()
    officer = login(people.officer)
    page = officer.get(f"/referrals/{referral.pk}/").content.decode()
    assert 'data-action="withdraw"' in page
    assert "确认撤回本案" in page  # asked before it runs
    for user in (people.reviewer, people.mediator):
        assert 'data-action="withdraw"' not in login(user).get(f"/referrals/{referral.pk}/").content.decode()
    url = f"/referrals/{referral.pk}/actions/withdraw/"
    assert login(people.mediator).post(url, {"reason": REASON}).status_code == 403
    response = officer.post(url, {"reason": REASON})
    assert response.status_code == 302
    assert Referral.objects.get(pk=referral.pk).state == State.DRAFT
    page = officer.get(f"/referrals/{referral.pk}/").content.decode()
    assert 'data-action="submit"' in page and 'data-action="withdraw"' not in page


def test_the_page_form_without_a_reason_comes_back_with_the_error(people, story):
    referral = story.submitted()
    response = login(people.officer).post(f"/referrals/{referral.pk}/actions/withdraw/", {"reason": ""})
    assert response.status_code == 400
    assert Referral.objects.get(pk=referral.pk).state == State.SUBMITTED
