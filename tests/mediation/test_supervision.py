"""Supervision orders (督办): issued within the supervisor's region, answered by the current handler."""

import datetime

import pytest

from mediation.models import SupervisionOrder
from mediation.notices import Notice as MediationNotice
from notifications.models import Notification
from referrals.reminders import run_sweeps
from tests.conftest import HUANSHI, api, login
from tests.factories import day, make_user, org
from tests.mediation.conftest import act, on, post
from townships.models import Organisation, Role

pytestmark = pytest.mark.django_db


def order(user, referral, **overrides):
    body = {"kind": "written_notice", "note": "请加快调解进度，三日内报告进展。", "respond_by": day()}
    body.update(overrides)
    return post(user, referral.pk, "supervisions/", body)


def respond(user, referral, order_id: int, text: str = "已组织双方再次调解，预计本周达成协议。"):
    return post(user, referral.pk, f"supervisions/{order_id}/respond/", {"response": text})


def judicial_office_supervisor(township_code: str):
    office = Organisation.objects.get(region__code=township_code, kind=Organisation.Kind.JUDICIAL_OFFICE)
    return make_user(memberships=[(office, Role.SUPERVISOR)])


def test_a_county_supervisor_orders_the_committee_handling_the_case(people, story):
    referral = story.mediating()
    response = order(people.supervisor, referral, kind="interview")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["addressed_to"] == {"id": people.huanshi.pk, "name": "环市街道人民调解委员会"}
    assert (body["kind"], body["issued_by"]["name"], body["overdue"]) == ("interview", "梁建华", False)
    told = Notification.objects.filter(kind=MediationNotice.SUPERVISION_ORDER)
    assert list(told.values_list("recipient__username", flat=True)) == ["mediator"]


@pytest.mark.parametrize(
    ("state", "addressed_to", "told"),
    [
        ("submitted", "环市街道人民调解委员会", {"mediator"}),
        ("succeeded", "蓬江区信访局", {"reviewer"}),  # the outcome awaits the petition office's review
        ("declined", "蓬江区信访局", {"officer", "reviewer"}),
    ],
)
def test_an_order_goes_to_whoever_must_act_next(people, story, state, addressed_to, told):
    referral = story.at(state)
    response = order(people.city, referral)
    assert response.status_code == 201, response.json()
    assert response.json()["addressed_to"]["name"] == addressed_to
    notified = Notification.objects.filter(kind=MediationNotice.SUPERVISION_ORDER).values_list(
        "recipient__username", flat=True
    )
    assert set(notified) == told


def test_a_judicial_office_supervises_its_own_township_only(people, story):
    referral = story.mediating()
    own = judicial_office_supervisor(HUANSHI)
    neighbour = judicial_office_supervisor("440703002")  # 白沙街道司法所, same county
    assert order(own, referral).status_code == 201
    assert order(neighbour, referral).status_code == 404


def test_a_supervisor_of_another_county_cannot_see_or_order(people, story):
    referral = story.mediating()
    taishan = make_user(memberships=[(org("台山市司法局"), Role.SUPERVISOR)])
    assert order(taishan, referral).status_code == 404
    assert not SupervisionOrder.objects.exists()


def test_a_closed_referral_is_no_longer_supervised(people, story):
    referral = story.closed()
    assert order(people.supervisor, referral).status_code == 409


def test_a_respond_by_date_in_the_past_is_refused(people, story):
    referral = story.mediating()
    response = order(people.supervisor, referral, respond_by=day(-1))
    assert response.status_code == 400
    assert "回复期限" in response.json()["errors"]["respond_by"][0]


def test_only_the_organisation_addressed_may_respond_and_the_issuer_is_told(people, story):
    referral = story.mediating()
    order_id = order(people.supervisor, referral).json()["id"]
    for user, status in ((people.officer, 403), (people.reviewer, 403), (people.city, 403), (people.supervisor, 403)):
        assert respond(user, referral, order_id).status_code == status, user
    assert respond(people.other_mediator, referral, order_id).status_code == 404
    response = respond(people.mediator, referral, order_id)
    assert response.status_code == 200, response.json()
    assert response.json()["response"] == "已组织双方再次调解，预计本周达成协议。"
    assert response.json()["responded_by"]["name"] == "黄丽华"
    told = Notification.objects.filter(kind=MediationNotice.SUPERVISION_RESPONSE)
    assert list(told.values_list("recipient__username", flat=True)) == ["supervisor"]
    assert respond(people.mediator, referral, order_id).status_code == 400  # answered once


def test_an_empty_response_is_refused(people, story):
    referral = story.mediating()
    order_id = order(people.supervisor, referral).json()["id"]
    response = respond(people.mediator, referral, order_id, "   ")
    assert response.status_code == 400
    assert SupervisionOrder.objects.get(pk=order_id).responded_at is None


def test_an_order_of_another_referral_is_not_found_through_this_one(people, story):
    first, second = story.mediating(), story.mediating()
    order_id = order(people.supervisor, second).json()["id"]
    assert respond(people.mediator, first, order_id).status_code == 404
    assert SupervisionOrder.objects.get(pk=order_id).responded_at is None


def test_an_overdue_response_is_visible_to_the_supervisor(people, story):
    with on(datetime.date(2026, 11, 2)):
        referral = story.mediating()
        order(people.supervisor, referral, respond_by="2026-11-05")
    with on(datetime.date(2026, 11, 5)):
        assert api(people.supervisor).get(f"/api/referrals/{referral.pk}/supervisions/").json()[0]["overdue"] is False
    with on(datetime.date(2026, 11, 6)):
        listed = api(people.supervisor).get(f"/api/referrals/{referral.pk}/supervisions/").json()
        page = login(people.supervisor).get(f"/referrals/{referral.pk}/").content.decode()
    assert listed[0]["overdue"] is True
    assert "逾期未回复（期限 2026-11-05）" in page


def test_the_issuer_is_reminded_once_when_the_response_is_overdue(people, story):
    with on(datetime.date(2026, 11, 2)):
        referral = story.mediating()
        late = order(people.supervisor, referral, respond_by="2026-11-04").json()["id"]
        answered = order(people.city, referral, respond_by="2026-11-04").json()["id"]
        respond(people.mediator, referral, answered)
    sent = {}
    for n in range(2, 10):
        day = datetime.date(2026, 11, n)
        with on(day, 8):
            sent[day] = run_sweeps()["supervision_overdue"]
    assert [day for day, count in sent.items() if count] == [datetime.date(2026, 11, 5)]
    reminded = Notification.objects.filter(kind=MediationNotice.SUPERVISION_RESPONSE, title__contains="逾期未回复")
    assert list(reminded.values_list("recipient__username", flat=True)) == ["supervisor"]
    assert "环市街道人民调解委员会" in reminded.get().title
    assert SupervisionOrder.objects.get(pk=late).responded_at is None


def test_an_order_to_a_bureau_that_routed_the_case_on_can_still_be_answered(people, story):
    referral = story.submitted(target=people.bureau)
    order_id = order(people.city, referral).json()["id"]
    assert SupervisionOrder.objects.get(pk=order_id).addressed_to == people.bureau
    assert act(people.supervisor, referral.pk, "dispatch", {"target": people.huanshi.pk}).status_code == 200
    # Today the bureau is refused by the action rule (it is no longer the target) and the committee
    # by the workflow (the order is not addressed to it). Either answering would do.
    answers = [respond(people.supervisor, referral, order_id), respond(people.mediator, referral, order_id)]
    assert 200 in [a.status_code for a in answers]
