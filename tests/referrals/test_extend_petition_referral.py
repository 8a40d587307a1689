"""延长信访办理期限 (``extend_petition``): the origin office's reviewer, once, at most 30 days, with the
approver's name; it moves ``petition_due_on``, is on the timeline, and the notice to the petitioner prints.
(Who else gets 403 or 404: tests/referrals/test_permission_matrix.py.)"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from notifications.models import Notification
from referrals import workflow
from referrals.errors import NotAvailable
from referrals.models import PetitionExtension, Referral, TimelineEvent
from tests.conftest import api, login

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
d = datetime.date
BODY = {"days": 29, "reason": "涉及多个部门，需补充调查", "approved_by_name": "陈国强"}


def at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, 10, tzinfo=SH)


def mediating(story) -> Referral:
    with time_machine.travel(at(d(2026, 9, 4)), tick=False):
        return story.mediating(received_on=d(2026, 8, 20), petition_accepted_on=d(2026, 9, 1))


def test_the_reviewer_extends_the_petition_clock(people, story):
    referral = mediating(story)
    assert referral.petition_due_on == d(2026, 11, 2)
    with time_machine.travel(at(d(2026, 9, 10)), tick=False):
        response = api(people.reviewer).post(
            f"/api/referrals/{referral.pk}/actions/extend_petition/", BODY, format="json"
        )
    assert response.status_code == 200, response.json()
    # Sep 1 + 60 + 29 = Sun Nov 29 → Monday Nov 30.
    assert response.json()["petition_due_on"] == "2026-11-30"
    assert response.json()["petition_clock"] == {
        "accepted_on": "2026-09-01",
        "due_on": "2026-11-30",
        "extended_days": 29,
        "status": "on_time",
    }
    assert "extend_petition" not in response.json()["available_actions"]
    extension = PetitionExtension.objects.get(referral=referral)
    assert (extension.days, extension.approved_by_name, extension.previous_due_on, extension.due_on) == (
        29,
        "陈国强",
        d(2026, 11, 2),
        d(2026, 11, 30),
    )
    event = TimelineEvent.objects.get(referral=referral, action="extend_petition")
    assert event.note == BODY["reason"] and event.actor == people.reviewer
    assert event.data == {"days": 29, "previous_due_on": "2026-11-02", "due_on": "2026-11-30", "approved_by": "陈国强"}
    assert event.get_action_label() == "延长信访办理期限"
    told = set(
        Notification.objects.filter(referral_id=referral.pk, title__contains="信访办理期限延长29天").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {"officer", "mediator"}


@pytest.mark.parametrize("days", [0, 31, 90])
def test_at_most_thirty_days(people, story, days):
    referral = mediating(story)
    response = api(people.reviewer).post(
        f"/api/referrals/{referral.pk}/actions/extend_petition/", {**BODY, "days": days}, format="json"
    )
    assert response.status_code == 400
    assert "1至30天" in response.json()["errors"]["days"][0]
    page = login(people.reviewer).post(f"/referrals/{referral.pk}/actions/extend_petition/", {**BODY, "days": days})
    assert page.status_code == 400 and "1至30天" in page.content.decode()
    assert Referral.objects.get(pk=referral.pk).petition_extension_days == 0


def test_thirty_days_is_allowed(people, story):
    referral = mediating(story)
    response = api(people.reviewer).post(
        f"/api/referrals/{referral.pk}/actions/extend_petition/", {**BODY, "days": 30}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["petition_due_on"] == "2026-11-30"  # Sep 1 + 90 = Mon Nov 30


@pytest.mark.parametrize("missing", ["reason", "approved_by_name"])
def test_the_reason_and_the_approver_are_required(people, story, missing):
    referral = mediating(story)
    for blank in ({**BODY, missing: "  "}, {k: v for k, v in BODY.items() if k != missing}):
        response = api(people.reviewer).post(
            f"/api/referrals/{referral.pk}/actions/extend_petition/", blank, format="json"
        )
        assert response.status_code == 400
        assert missing in response.json()["errors"]


def test_only_once(people, story):
    referral = mediating(story)
    url = f"/api/referrals/{referral.pk}/actions/extend_petition/"
    assert api(people.reviewer).post(url, {**BODY, "days": 5}, format="json").status_code == 200
    again = api(people.reviewer).post(url, {**BODY, "days": 5}, format="json")
    assert again.status_code == 409 and "只能延长一次" in again.json()["detail"]
    with pytest.raises(NotAvailable):
        workflow.extend_petition_referral(referral, by=people.reviewer, days=5, reason="x", approved_by_name="y")
    assert Referral.objects.get(pk=referral.pk).petition_extension_days == 5
    assert PetitionExtension.objects.filter(referral=referral).count() == 1


def test_not_after_closing(people, story):
    referral = story.closed()
    response = api(people.reviewer).post(f"/api/referrals/{referral.pk}/actions/extend_petition/", BODY, format="json")
    assert response.status_code == 409


def test_a_draft_may_be_extended(people, story):
    referral = story.draft()
    assert workflow.extend_petition_referral(referral, by=people.reviewer, **BODY).petition_extension_days == 29


def test_the_page_offers_the_form_to_the_reviewer_only_and_then_the_notice(people, story):
    referral = mediating(story)
    page = login(people.reviewer).get(f"/referrals/{referral.pk}/").content.decode()
    assert f'action="/referrals/{referral.pk}/actions/extend_petition/"' in page
    assert 'name="approved_by_name"' in page
    assert "actions/extend_petition/" not in login(people.officer).get(f"/referrals/{referral.pk}/").content.decode()
    assert "actions/extend_petition/" not in login(people.mediator).get(f"/referrals/{referral.pk}/").content.decode()
    notice_url = f"/referrals/{referral.pk}/petition-extension/notice/"
    assert login(people.reviewer).get(notice_url).status_code == 404  # nothing to tell yet
    with time_machine.travel(at(d(2026, 9, 10)), tick=False):
        response = login(people.reviewer).post(f"/referrals/{referral.pk}/actions/extend_petition/", BODY)
    assert response.status_code == 302
    page = login(people.reviewer).get(f"/referrals/{referral.pk}/").content.decode()
    assert notice_url in page and "陈国强" in page
    assert "actions/extend_petition/" not in page


def test_the_notice_to_the_petitioner_prints(people, story):
    referral = mediating(story)
    with time_machine.travel(at(d(2026, 9, 10)), tick=False):
        workflow.extend_petition_referral(referral, by=people.reviewer, **BODY)
    url = f"/referrals/{referral.pk}/petition-extension/notice/"
    response = login(people.officer).get(url)
    assert response.status_code == 200
    text = response.content.decode()
    assert "信访事项延期办理告知书" in text
    assert "王大明" in text  # the petitioner, addressed by name
    assert "李小红" not in text  # not the respondent
    assert "2026年9月1日" in text and "2026年11月2日" in text and "2026年11月30日" in text
    assert BODY["reason"] in text and "第三十四条" in text and "29日" in text
    assert referral.origin.name in text and "data-print" in text
    # Whoever may see the referral may print it; others do not learn it exists.
    assert login(people.mediator).get(url).status_code == 200
    assert login(people.other_mediator).get(url).status_code == 404
    assert login(people.outsider).get(url).status_code == 404
