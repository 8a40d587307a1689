"""The petition's own clock (信访工作条例 2022 Art. 34): 60 days from the office's acceptance, rolled past
rest days, extended once; refusing mediation that would outrun it; its reminders; its API shape.

2026 dates: Aug 20 + 60 = Mon Oct 19; Sep 1 + 60 = Sat Oct 31 → Mon Nov 2; a mediation accepted on
Fri Sep 4 is due Oct 4 (National Day) → Thu Oct 8.
"""

from __future__ import annotations

import datetime
import importlib
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps as django_apps

from notifications.models import Notification
from referrals import workflow
from referrals.deadlines import acceptance_limit, petition_due
from referrals.models import DeadlineKind, DeadlineReminder, Referral
from referrals.reminders import _announce_petition, run_sweeps, sweep_deadlines, sweep_petition_deadlines
from tests import factories
from tests.conftest import api, login
from tests.referrals.test_pages import registration_form

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
d = datetime.date


def moment(day: datetime.date, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


def mediating_since_sep_4(story, **overrides) -> Referral:
    """Received (and accepted by the office) on Aug 20: petition due Oct 19; mediation due Oct 8."""
    overrides.setdefault("received_on", d(2026, 8, 20))
    with time_machine.travel(moment(d(2026, 9, 4)), tick=False):
        referral = story.mediating(**overrides)
    assert referral.petition_due_on == d(2026, 10, 19)
    assert referral.due_on == d(2026, 10, 8)
    return referral


# --- The computation ------------------------------------------------------------------------------


def test_the_clock_counts_sixty_days_from_acceptance_rolled_past_rest_days(people, story):
    with time_machine.travel(moment(d(2026, 9, 2)), tick=False):
        referral = story.draft(received_on=d(2026, 8, 20), petition_accepted_on=d(2026, 9, 1))
    assert referral.petition_accepted_on == d(2026, 9, 1)
    assert referral.petition_due_on == d(2026, 11, 2)  # Sep 1 + 60 = Sat Oct 31 → Monday
    assert not referral.petition_provisional


def test_without_an_acceptance_date_the_clock_starts_on_receipt(people, story):
    with time_machine.travel(moment(d(2026, 8, 21)), tick=False):
        referral = story.draft(received_on=d(2026, 8, 20))
    assert referral.petition_accepted_on == d(2026, 8, 20)
    assert referral.petition_due_on == d(2026, 10, 19)


def test_the_clock_runs_through_every_stage_and_steps_keep_it(people, story):
    referral = mediating_since_sep_4(story)
    assert Referral.objects.get(pk=referral.pk).petition_due_on == d(2026, 10, 19)


def test_the_acceptance_limit_is_fifteen_days_rolled_past_rest_days():
    assert acceptance_limit(d(2026, 8, 1)) == d(2026, 8, 17)  # Aug 16 is a Sunday
    assert acceptance_limit(d(2026, 9, 25)) == d(2026, 10, 10)  # Oct 10 2026: a make-up working Saturday


def test_existing_referrals_are_taken_as_accepted_on_receipt(people, story):
    referral = story.submitted(received_on=d(2026, 8, 20))
    due = referral.petition_due_on
    Referral.objects.filter(pk=referral.pk).update(petition_accepted_on=None)
    migration = importlib.import_module("referrals.migrations.0012_petition_clock")
    migration.accepted_when_received(django_apps, None)
    referral.refresh_from_db()
    assert referral.petition_accepted_on == d(2026, 8, 20)
    assert petition_due(referral).date == due == d(2026, 10, 19)


# --- Intake: the page and the API ---------------------------------------------------------------


def test_the_api_takes_an_acceptance_date_and_shows_the_clock(people):
    with time_machine.travel(moment(d(2026, 9, 10)), tick=False):
        body = {"received_on": "2026-08-20", "petition_accepted_on": "2026-09-01", "category": "neighbour"}
        response = api(people.officer).post("/api/referrals/", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["petition_due_on"] == "2026-11-02"
    assert data["petition_clock"] == {
        "accepted_on": "2026-09-01",
        "due_on": "2026-11-02",
        "extended_days": 0,
        "status": "on_time",
    }
    assert data["warnings"] == []


def test_an_acceptance_before_receipt_is_refused_in_chinese(people, story):
    body = {"received_on": "2026-08-20", "petition_accepted_on": "2026-08-19", "category": "neighbour"}
    response = api(people.officer).post("/api/referrals/", body, format="json")
    assert response.status_code == 400
    message = response.json()["errors"]["petition_accepted_on"][0]
    assert "不能早于" in message and "2026-08-19" in message and "2026-08-20" in message
    page = login(people.officer).post(
        "/referrals/new/", registration_form(people, received_on="2026-08-20", petition_accepted_on="2026-08-19")
    )
    assert page.status_code == 200 and "不能早于" in page.content.decode()
    assert not Referral.objects.exists()


def test_a_late_acceptance_is_kept_with_a_warning(people, story):
    body = {"received_on": "2026-08-01", "petition_accepted_on": "2026-08-20", "category": "neighbour"}
    response = api(people.officer).post("/api/referrals/", body, format="json")
    assert response.status_code == 201
    (warning,) = response.json()["warnings"]
    assert warning["code"] == "late_petition_acceptance"
    assert "15日" in warning["message"] and "2026-08-17" in warning["message"]
    on_the_last_day = {**body, "petition_accepted_on": "2026-08-17"}
    assert api(people.officer).post("/api/referrals/", on_the_last_day, format="json").json()["warnings"] == []

    client = login(people.officer)
    page = client.post(
        "/referrals/new/",
        registration_form(people, received_on="2026-08-01", petition_accepted_on="2026-08-20"),
        follow=True,
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "已登记案件" in text and "15日" in text
    assert Referral.objects.filter(petition_accepted_on=d(2026, 8, 20)).count() == 2


def test_editing_a_draft_keeps_an_acceptance_set_apart_and_lets_a_default_one_follow(people, story):
    kept = story.draft(received_on=d(2026, 8, 20), petition_accepted_on=d(2026, 9, 1))
    client = api(people.officer)
    assert client.patch(f"/api/referrals/{kept.pk}/", {"summary": "更正"}, format="json").status_code == 200
    assert Referral.objects.get(pk=kept.pk).petition_accepted_on == d(2026, 9, 1)
    following = story.draft(received_on=d(2026, 8, 20))
    response = client.patch(f"/api/referrals/{following.pk}/", {"received_on": "2026-08-25"}, format="json")
    assert response.status_code == 200
    assert response.json()["petition_clock"]["accepted_on"] == "2026-08-25"
    # The page's form shows the date only when it is set apart from the receipt.
    form = login(people.officer).get(f"/referrals/{kept.pk}/edit/").content.decode()
    assert 'name="petition_accepted_on" value="2026-09-01"' in form


# --- Status ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "hour", "status"),
    [
        (d(2026, 10, 15), 10, "on_time"),
        (d(2026, 10, 16), 0, "due_soon"),  # three days before Oct 19
        (d(2026, 10, 19), 23, "due_soon"),  # the deadline day is whole
        (d(2026, 10, 20), 0, "overdue"),
    ],
)
def test_the_status_follows_the_petition_deadline(people, story, day, hour, status):
    referral = mediating_since_sep_4(story)
    with time_machine.travel(moment(day, hour), tick=False):
        body = api(people.reviewer).get(f"/api/referrals/{referral.pk}/").json()
    assert body["petition_clock"]["status"] == status
    assert body["petition_clock"]["due_on"] == body["petition_due_on"] == "2026-10-19"


def test_a_closed_petition_keeps_the_status_it_was_closed_with(people, story):
    with time_machine.travel(moment(d(2026, 9, 4)), tick=False):
        referral = story.closed(received_on=d(2026, 8, 20))
    with time_machine.travel(moment(d(2027, 1, 4)), tick=False):
        clock = api(people.reviewer).get(f"/api/referrals/{referral.pk}/").json()["petition_clock"]
    assert clock["status"] == "on_time"


def test_the_referral_page_shows_both_clocks(people, story):
    referral = mediating_since_sep_4(story)
    with time_machine.travel(moment(d(2026, 9, 10)), tick=False):
        page = login(people.mediator).get(f"/referrals/{referral.pk}/").content.decode()
    stage = page[page.index('data-clock="stage"') : page.index('data-clock="petition"')]
    petition = page[page.index('data-clock="petition"') :]
    assert "2026-10-08" in stage and "调解期限" in stage
    assert "2026-10-19" in petition[: petition.index("</dl>")] and "2026-08-20" in petition[: petition.index("</dl>")]


# --- Mediation may not outrun the petition ----------------------------------------------------------


def test_a_mediation_extension_past_the_petition_deadline_is_refused_naming_both_dates(people, story):
    referral = mediating_since_sep_4(story)
    client = api(people.mediator)
    url = f"/api/referrals/{referral.pk}/actions/extend/"
    with time_machine.travel(moment(d(2026, 9, 10)), tick=False):
        response = client.post(
            url,
            {"days": 16, "reason": "继续协商", "consents": factories.extension_consents_json(referral)},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["code"] == "beyond_petition_deadline"
        message = response.json()["errors"]["days"][0]
        assert "2026-10-20" in message and "2026-10-19" in message and "信访办理期限" in message
        page = login(people.mediator).post(
            f"/referrals/{referral.pk}/actions/extend/",
            {"days": 16, "reason": "继续协商", **factories.extension_consents_form(referral)},
        )
        assert page.status_code == 400 and "2026-10-20" in page.content.decode()
        assert Referral.objects.get(pk=referral.pk).extension_days == 0
        # Up to the petition's deadline itself is allowed.
        ok = client.post(
            url,
            {"days": 15, "reason": "继续协商", "consents": factories.extension_consents_json(referral)},
            format="json",
        )
    assert ok.status_code == 200
    assert ok.json()["deadline"]["due_on"] == "2026-10-19"


def test_a_suspension_without_a_day_to_spare_is_refused_naming_both_dates(people, story):
    referral = mediating_since_sep_4(story)
    with time_machine.travel(moment(d(2026, 9, 10)), tick=False):
        referral = workflow.extend_referral(
            referral, by=people.mediator, days=15, reason="继续协商", consents=factories.extension_consents(referral)
        )
        response = api(people.mediator).post(
            f"/api/referrals/{referral.pk}/actions/suspend/", {"reason": "等待鉴定"}, format="json"
        )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "beyond_petition_deadline"
    assert "2026-10-20" in body["detail"] and "2026-10-19" in body["detail"]
    assert not Referral.objects.get(pk=referral.pk).is_suspended


def test_with_room_a_suspension_is_allowed(people, story):
    referral = mediating_since_sep_4(story)
    with time_machine.travel(moment(d(2026, 9, 10)), tick=False):
        assert workflow.suspend_referral(referral, by=people.mediator, reason="等待鉴定").is_suspended


def test_once_the_office_has_extended_the_petition_clock_mediation_may_use_the_room(people, story):
    referral = mediating_since_sep_4(story)
    with time_machine.travel(moment(d(2026, 9, 10)), tick=False):
        workflow.extend_petition_referral(
            referral, by=people.reviewer, days=10, reason="需补充调查", approved_by_name="陈局长"
        )
        client = api(people.mediator)
        url = f"/api/referrals/{referral.pk}/actions/extend/"
        # Aug 20 + 70 = Thu Oct 29 = Sep 4 + 55.
        assert (
            client.post(
                url, {"days": 25, "reason": "x", "consents": factories.extension_consents_json(referral)}, format="json"
            ).status_code
            == 200
        )
        again = client.post(
            url, {"days": 1, "reason": "x", "consents": factories.extension_consents_json(referral)}, format="json"
        )
    assert again.status_code == 400
    message = again.json()["errors"]["days"][0]
    assert "2026-10-30" in message and "2026-10-29" in message and "已延长过一次" in message


# --- Reminders ----------------------------------------------------------------------------------------


def petition_reminders(kind: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for n in Notification.objects.filter(kind=kind, title__contains="信访办理期限").select_related("recipient"):
        found[n.recipient.username] = found.get(n.recipient.username, 0) + 1
    return found


def test_due_soon_goes_to_the_office_once_and_overdue_to_the_office_and_supervisors_once(people, story):
    referral = mediating_since_sep_4(story)
    with time_machine.travel(moment(d(2026, 10, 15)), tick=False):
        assert sweep_petition_deadlines() == 0
    with time_machine.travel(moment(d(2026, 10, 16), 0, 5), tick=False):
        assert sweep_petition_deadlines() == 1
        assert sweep_petition_deadlines() == 0
        run_sweeps()
    assert petition_reminders("deadline_due_soon") == {"officer": 1, "reviewer": 1}
    with time_machine.travel(moment(d(2026, 10, 19), 23, 59), tick=False):
        assert sweep_petition_deadlines() == 0
    with time_machine.travel(moment(d(2026, 10, 20), 0, 5), tick=False):
        assert sweep_petition_deadlines() == 1
        run_sweeps()
        assert sweep_petition_deadlines() == 0
    assert petition_reminders("deadline_overdue") == {"officer": 1, "reviewer": 1, "supervisor": 1, "city": 1}
    notice = Notification.objects.filter(kind="deadline_overdue", title__contains="信访办理期限").first()
    assert referral.number in notice.title and "2026-10-19" in notice.title
    assert notice.url == f"/referrals/{referral.pk}/"


def test_the_deadline_sweep_covers_the_petition_clock_beside_the_stage(people, story):
    mediating_since_sep_4(story)
    with time_machine.travel(moment(d(2026, 10, 20), 9), tick=False):
        sweep_deadlines()
        sweep_deadlines()
    assert petition_reminders("deadline_overdue") == {"officer": 1, "reviewer": 1, "supervisor": 1, "city": 1}
    stage = Notification.objects.filter(kind="deadline_overdue", title__contains="调解期限")
    assert {n.recipient.username for n in stage} == {"mediator", "supervisor", "city"}


def test_a_claimed_reminder_is_never_sent_twice(people, story):
    referral = mediating_since_sep_4(story)
    assert _announce_petition(referral, DeadlineReminder.Level.OVERDUE)
    assert not _announce_petition(referral, DeadlineReminder.Level.OVERDUE)
    assert DeadlineReminder.objects.filter(referral=referral, kind=DeadlineKind.PETITION).count() == 1


def test_first_seen_overdue_gets_only_the_overdue_reminder(people, story):
    mediating_since_sep_4(story)
    with time_machine.travel(moment(d(2026, 11, 1)), tick=False):
        sweep_petition_deadlines()
    assert petition_reminders("deadline_due_soon") == {}
    assert petition_reminders("deadline_overdue") == {"officer": 1, "reviewer": 1, "supervisor": 1, "city": 1}


def test_an_extension_of_the_petition_clock_earns_fresh_reminders(people, story):
    referral = mediating_since_sep_4(story)
    with time_machine.travel(moment(d(2026, 10, 16)), tick=False):
        sweep_petition_deadlines()
        workflow.extend_petition_referral(
            referral, by=people.reviewer, days=10, reason="需补充调查", approved_by_name="陈局长"
        )
    with time_machine.travel(moment(d(2026, 10, 27)), tick=False):  # Oct 29 - 2
        sweep_petition_deadlines()
        sweep_petition_deadlines()
    assert petition_reminders("deadline_due_soon") == {"officer": 2, "reviewer": 2}


def test_a_draft_is_reminded_to_its_office_only(people, story):
    with time_machine.travel(moment(d(2026, 8, 21)), tick=False):
        story.draft(received_on=d(2026, 8, 20))
    with time_machine.travel(moment(d(2026, 10, 20), 9), tick=False):
        sweep_petition_deadlines()
    assert petition_reminders("deadline_overdue") == {"officer": 1, "reviewer": 1}


def test_a_closed_petition_gets_no_reminders(people, story):
    with time_machine.travel(moment(d(2026, 9, 4)), tick=False):
        story.closed(received_on=d(2026, 8, 20))
    with time_machine.travel(moment(d(2026, 12, 1)), tick=False):
        assert sweep_petition_deadlines() == 0


# --- The API schema -----------------------------------------------------------------------------------


def test_the_schema_documents_the_clock(people):
    schema = api(people.officer).get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    referral = components["Referral"]["properties"]
    assert "petition_clock" in referral and "petition_due_on" in referral and "warnings" in referral
    clock = components["PetitionClockOut"]
    assert set(clock["properties"]) == {"accepted_on", "due_on", "extended_days", "status"}
    assert set(clock["required"]) == {"accepted_on", "due_on", "extended_days", "status"}
    write = components["ReferralWriteRequest"]["properties"]
    assert write["petition_accepted_on"]["format"] == "date"
