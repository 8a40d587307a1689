"""催办 (``urge``): the petition office reminds the handler of a referral it sent once the handler's
clock has run out; each reminder is recorded, counted (``urge_count``, 催办次数) and notified."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from notifications.models import Notification
from referrals import workflow
from referrals.errors import Forbidden, NotAvailable
from referrals.models import Referral, TimelineEvent
from referrals.notices import Notice
from tests.conftest import api, login

pytestmark = pytest.mark.django_db
NOTE = "已超过受理期限，请尽快受理或退回。"


def weeks_ago(weeks: int = 2):
    """Noon in Jiangmen, ``weeks`` ago (the local and the machine's date agree at noon)."""
    day = timezone.localdate() - datetime.timedelta(weeks=weeks)
    return time_machine.travel(timezone.make_aware(datetime.datetime.combine(day, datetime.time(12))), tick=False)


def overdue_submitted(story):
    with weeks_ago():
        return story.submitted()


def overdue_mediating(story):
    with weeks_ago(6):
        return story.mediating()


def urge(user, referral, note: str = NOTE):
    return api(user).post(f"/api/referrals/{referral.pk}/actions/urge/", {"note": note}, format="json")


def urged() -> list[tuple[str, str]]:
    rows = Notification.objects.filter(kind=Notice.REFERRAL_URGED).order_by("id")
    return list(rows.values_list("recipient__username", "title"))


def test_the_office_urges_an_overdue_referral_and_each_time_is_counted_and_told(people, story):
    referral = overdue_submitted(story)
    assert referral.deadline_status() == "overdue"
    response = urge(people.officer, referral)
    assert response.status_code == 200, response.json()
    assert response.json()["urge_count"] == 1
    assert urge(people.reviewer, referral, "").json()["urge_count"] == 2
    assert Referral.objects.get(pk=referral.pk).urge_count == 2
    events = list(TimelineEvent.objects.filter(referral=referral, action="urge").order_by("id"))
    assert [(e.get_action_label(), e.note, e.data["count"]) for e in events] == [("催办", NOTE, 1), ("催办", "", 2)]
    assert [(e.from_state, e.to_state) for e in events] == [("submitted", "submitted")] * 2
    # The handler hears of each, numbered; never the office itself.
    sent = urged()
    assert [u for u, _t in sent] == ["mediator", "mediator"]
    assert "受理期限" in sent[0][1] and "第1次" in sent[0][1] and "第2次" in sent[1][1]
    notice = Notification.objects.filter(kind=Notice.REFERRAL_URGED).order_by("id").first()
    assert (notice.body, notice.url) == (NOTE, f"/referrals/{referral.pk}/")


def test_an_overdue_mediation_may_be_urged_too(people, story):
    referral = overdue_mediating(story)
    assert urge(people.officer, referral).status_code == 200
    assert "调解期限" in urged()[0][1]


def suspended_overdue(story):
    with weeks_ago(6):
        referral = story.mediating()
        return workflow.suspend_referral(referral, by=story.p.mediator, reason="等待鉴定")


def overdue_succeeded(story):
    with weeks_ago():
        return story.succeeded()


@pytest.mark.parametrize(
    "make",
    [
        lambda story: story.submitted(),  # within its clock
        lambda story: story.mediating(),
        suspended_overdue,  # the clock stands still
        overdue_succeeded,  # the office's own clock: nobody to urge but itself
        lambda story: story.closed(),
    ],
    ids=["submitted-on-time", "mediating-on-time", "suspended", "concluded", "closed"],
)
def test_only_a_referral_late_at_its_handler_can_be_urged(people, story, make):
    referral = make(story)
    response = urge(people.officer, referral)
    assert response.status_code == 409
    assert response.json()["detail"] == "只能对已移交、在接收单位办理且已超期的案件催办。"
    assert Referral.objects.get(pk=referral.pk).urge_count == 0
    assert not TimelineEvent.objects.filter(referral=referral, action="urge").exists()
    assert urged() == []


@pytest.mark.parametrize(
    ("persona", "status"),
    [("mediator", 403), ("supervisor", 403), ("city", 403), ("other_mediator", 404), ("outsider", 404)],
)
def test_only_the_origin_office_may_urge(people, story, persona, status):
    referral = overdue_submitted(story)
    assert urge(getattr(people, persona), referral).status_code == status
    assert Referral.objects.get(pk=referral.pk).urge_count == 0
    assert urged() == []


def test_the_workflow_checks_who_and_when_itself(people, story):
    with pytest.raises(Forbidden):
        workflow.urge_referral(overdue_submitted(story), by=people.mediator)
    with pytest.raises(NotAvailable):
        workflow.urge_referral(story.submitted(), by=people.officer)


def test_the_button_is_there_only_when_overdue_and_the_page_shows_the_count(people, story):
    on_time, late = story.submitted(), overdue_submitted(story)
    officer = login(people.officer)
    assert 'data-action="urge"' not in officer.get(f"/referrals/{on_time.pk}/").content.decode()
    page = officer.get(f"/referrals/{late.pk}/").content.decode()
    assert 'data-action="urge"' in page and "data-urge-count" not in page
    assert 'data-action="urge"' not in login(people.mediator).get(f"/referrals/{late.pk}/").content.decode()
    response = officer.post(f"/referrals/{late.pk}/actions/urge/", {"note": NOTE})
    assert response.status_code == 302
    page = officer.get(f"/referrals/{late.pk}/").content.decode()
    assert "催办次数" in page and "<dd data-urge-count>1</dd>" in page
    assert urged()[0][0] == "mediator"


def test_the_office_home_page_lists_what_it_may_urge(people, story):
    late = overdue_submitted(story)
    story.submitted()
    home = login(people.officer).get("/").content.decode()
    chase = home[home.index("已移交但超期未办（可催办）") :]
    assert late.number in chase[: chase.index("</section>")]
