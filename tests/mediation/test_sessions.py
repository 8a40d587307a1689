"""Mediation records (人民调解记录): written and corrected by the handling committee while mediating."""

import datetime

import pytest

from mediation.models import MediationSession
from referrals.models import TimelineEvent
from tests.conftest import api, login
from tests.factories import day
from tests.mediation.conftest import act, on, post

pytestmark = pytest.mark.django_db


def record(user, referral, **overrides):
    body = {
        "held_on": day(),
        "location": "环市街道调解室",
        "participants": "王大明、李小红、社区网格员",
        "record": "听取双方陈述，现场查看排水沟。",
    }
    body.update(overrides)
    return post(user, referral.pk, "sessions/", body)


def patch(user, referral, session_id: int, body: dict):
    return api(user).patch(f"/api/referrals/{referral.pk}/sessions/{session_id}/", body, format="json")


def test_the_handling_committee_records_a_session_with_the_lead_mediator_by_default(people, story):
    referral = story.mediating()
    response = record(people.mediator, referral)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["round"], body["mediators"], body["created_by"]["name"]) == (1, [people.lead.pk], "黄丽华")
    listed = api(people.officer).get(f"/api/referrals/{referral.pk}/sessions/").json()
    assert [s["location"] for s in listed] == ["环市街道调解室"]
    event = TimelineEvent.objects.filter(referral=referral).last()
    assert (event.action, event.note) == ("record_session", f"{day()} 于环市街道调解室调解")


def test_several_sessions_are_kept_in_date_order(people, story):
    with on(datetime.date(2026, 11, 2)):
        referral = story.mediating()
    with on(datetime.date(2026, 11, 9)):
        record(people.mediator, referral, held_on="2026-11-06", location="第二次")
        record(people.mediator, referral, held_on="2026-11-03", location="第一次")
        listed = api(people.mediator).get(f"/api/referrals/{referral.pk}/sessions/").json()
    assert [s["location"] for s in listed] == ["第一次", "第二次"]


# Each value is built as its test runs, so a date in it is that day's.
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (lambda: {"held_on": day(1)}, "held_on", "不能晚于今天"),
        (lambda: {"held_on": day(-3)}, "held_on", "不能早于本轮调解开始日期"),
        (lambda: {"location": ""}, "location", ""),
        (lambda: {"record": ""}, "record", ""),
    ],
)
def test_it_refuses_an_impossible_or_incomplete_record(people, story, overrides, field, message):
    referral = story.mediating()
    response = record(people.mediator, referral, **overrides())
    assert response.status_code == 400
    assert message in response.json()["errors"][field][0]
    assert not MediationSession.objects.exists()


def test_the_mediators_present_must_be_on_the_committee(people, story):
    referral = story.mediating()
    response = record(people.mediator, referral, mediators=[people.lead.pk, people.other_lead.pk])
    assert response.status_code == 400
    # Another committee's mediator is named to no one, and answered as an unknown id is.
    assert response.json()["errors"]["mediators"] == ["所选调解员中有不属于本调委会在册调解员的，请重新选择。"]
    unknown = record(people.mediator, referral, mediators=[people.lead.pk, 10**9])
    assert (
        unknown.status_code == 400 and unknown.json()["errors"]["mediators"] == response.json()["errors"]["mediators"]
    )
    assert record(people.mediator, referral, mediators=[people.second.pk]).json()["mediators"] == [people.second.pk]


def test_sessions_are_recorded_only_while_mediating(people, story):
    for referral in (story.submitted(), story.succeeded(), story.failed()):
        assert record(people.mediator, referral).status_code == 409, referral.state


def test_the_committee_corrects_a_record_while_mediating(people, story):
    referral = story.with_session()
    session = MediationSession.objects.get(referral=referral)
    response = patch(
        people.mediator, referral, session.pk, {"record": "更正：双方同意再次协商。", "mediators": [people.second.pk]}
    )
    assert response.status_code == 200, response.json()
    session.refresh_from_db()
    assert session.record == "更正：双方同意再次协商。"
    assert session.location == "村委会调解室"  # what was not sent stays
    assert list(session.mediators.all()) == [people.second]
    assert TimelineEvent.objects.filter(referral=referral).last().action == "update_session"


def test_a_record_cannot_be_corrected_once_mediation_has_concluded(people, story):
    referral = story.succeeded()
    session = MediationSession.objects.get(referral=referral)
    response = patch(people.mediator, referral, session.pk, {"record": "事后补改"})
    assert response.status_code == 409
    session.refresh_from_db()
    assert session.record == "听取双方陈述。"


def test_a_record_of_an_earlier_round_stays_as_it_was_written(people, story):
    referral = story.closed()
    act(people.reviewer, referral.pk, "reopen", {"reason": "回访不满意"})
    first = MediationSession.objects.get(referral=referral, round=1)
    response = patch(people.mediator, referral, first.pk, {"record": "改写历史"})
    assert response.status_code == 400
    assert "只能修改本轮" in response.json()["errors"]["session"][0]


def test_a_record_of_another_referral_is_not_found_through_this_one(people, story):
    mine, other = story.with_session(), story.with_session()
    theirs = MediationSession.objects.get(referral=other)
    assert patch(people.mediator, mine, theirs.pk, {"record": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("persona", "status"),
    [("officer", 403), ("reviewer", 403), ("supervisor", 403), ("city", 403), ("other_mediator", 404)],
)
def test_only_the_handling_committee_may_correct_a_record(people, story, persona, status):
    referral = story.with_session()
    session = MediationSession.objects.get(referral=referral)
    assert patch(getattr(people, persona), referral, session.pk, {"record": "改"}).status_code == status
    assert login(getattr(people, persona)).get(f"/referrals/{referral.pk}/sessions/{session.pk}/edit/").status_code == (
        status
    )
    session.refresh_from_db()
    assert session.record == "听取双方陈述。"


def test_the_committee_corrects_a_record_from_the_page(people, story):
    referral = story.with_session()
    session = MediationSession.objects.get(referral=referral)
    client = login(people.mediator)
    detail = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert f"/referrals/{referral.pk}/sessions/{session.pk}/edit/" in detail
    form = client.get(f"/referrals/{referral.pk}/sessions/{session.pk}/edit/").content.decode()
    assert "村委会调解室" in form
    body = {
        "held_on": day(),
        "location": "",
        "participants": "双方当事人",
        "record": "更正后的记录",
        "mediators": [people.lead.pk],
    }
    refused = client.post(f"/referrals/{referral.pk}/sessions/{session.pk}/edit/", body)
    assert refused.status_code == 400
    assert 'id="id_record_session_location_error"' in refused.content.decode()
    saved = client.post(f"/referrals/{referral.pk}/sessions/{session.pk}/edit/", {**body, "location": "社区服务中心"})
    assert saved.status_code == 302
    session.refresh_from_db()
    assert (session.location, session.record) == ("社区服务中心", "更正后的记录")
