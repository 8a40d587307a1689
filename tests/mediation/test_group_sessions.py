"""类案合并调解: one meeting with the parties of several referrals of a group, recorded as a session on
each of them — all or none — by the committee mediating them."""

from __future__ import annotations

import pytest
from django.utils import timezone

from mediation.group_sessions import record_group_session
from mediation.models import MediationSession
from referrals import case_groups
from referrals.errors import Forbidden, InvalidInput
from referrals.models import TimelineEvent
from tests.conftest import api, login

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(people, story):
    group = case_groups.create_group(
        by=people.officer, name="江南花园小区物业纠纷", lead_organisation=people.petition_office
    )
    people.group = group
    people.members = [story.mediating(), story.mediating()]
    people.waiting = story.submitted()  # not mediating yet: no session for it
    for referral in (*people.members, people.waiting):
        case_groups.join_case_group(referral, by=people.officer, group=group)
    return people


def body(referrals, **extra):
    return {
        "referrals": [r.pk for r in referrals],
        "held_on": timezone.localdate().isoformat(),
        "location": "江南花园小区会议室",
        "participants": "业主代表及物业公司负责人",
        "record": "召集双方就公共收益分配方案协商。",
        **extra,
    }


def test_one_meeting_is_recorded_on_each_chosen_member(scene):
    p = scene
    response = api(p.mediator).post(
        f"/api/case-groups/{p.group.pk}/sessions/", body(p.members, mediators=[p.lead.pk, p.second.pk]), format="json"
    )
    assert response.status_code == 201, response.json()
    assert sorted(s["id"] for s in response.json()) == sorted(
        MediationSession.objects.filter(referral__in=p.members).values_list("pk", flat=True)
    )
    for referral in p.members:
        session = MediationSession.objects.get(referral=referral)
        assert (session.location, set(session.mediators.all())) == ("江南花园小区会议室", {p.lead, p.second})
        assert TimelineEvent.objects.filter(referral=referral, action="record_session").count() == 1


def test_all_or_none_and_each_refusal_named(scene):
    p = scene
    mixed = api(p.mediator).post(
        f"/api/case-groups/{p.group.pk}/sessions/", body([*p.members, p.waiting]), format="json"
    )
    assert mixed.status_code == 400
    assert p.waiting.number in mixed.json()["errors"]["referrals"][0]
    assert not MediationSession.objects.exists()
    # A bad date for all: none recorded either.
    future = body(p.members, held_on="2999-01-01")
    assert api(p.mediator).post(f"/api/case-groups/{p.group.pk}/sessions/", future, format="json").status_code == 400
    assert not MediationSession.objects.exists()
    with pytest.raises(InvalidInput):
        record_group_session(
            p.group,
            by=p.mediator,
            referrals=[],
            held_on=timezone.localdate(),
            location="x",
            participants="x",
            record="x",
        )


def test_only_the_committee_mediating_them_records_it(scene):
    p = scene
    for user in (p.officer, p.supervisor):
        response = api(user).post(f"/api/case-groups/{p.group.pk}/sessions/", body(p.members), format="json")
        assert response.status_code == 403, user
    assert api(p.other_mediator).post(f"/api/case-groups/{p.group.pk}/sessions/", body(p.members)).status_code == 404
    with pytest.raises(Forbidden):
        record_group_session(
            p.group,
            by=p.officer,
            referrals=p.members,
            held_on=timezone.localdate(),
            location="x",
            participants="x",
            record="x",
        )
    assert not MediationSession.objects.exists()


def test_the_group_page_offers_it_to_the_committee_and_records_it(scene):
    p = scene
    page = login(p.mediator).get(f"/referrals/groups/{p.group.pk}/").content.decode()
    assert "data-group-session-panel" in page
    assert p.members[0].number in page and f'value="{p.waiting.pk}"' not in page
    assert "data-group-session-panel" not in login(p.officer).get(f"/referrals/groups/{p.group.pk}/").content.decode()
    url = f"/referrals/groups/{p.group.pk}/session/"
    empty = login(p.mediator).post(url, {**body(p.members), "record": ""})
    assert empty.status_code == 400 and "data-group-session-panel" in empty.content.decode()
    assert not MediationSession.objects.exists()
    done = login(p.mediator).post(url, {**body(p.members), "mediators": [p.lead.pk]})
    assert done.status_code == 302
    assert MediationSession.objects.filter(referral__in=p.members).count() == 2
