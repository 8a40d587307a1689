"""Performance and judicial confirmation (司法确认): the 30-day window of 人民调解法 Art. 33."""

import datetime

import pytest

from mediation.models import Agreement
from mediation.notices import Notice as MediationNotice
from notifications.models import Notification
from referrals.reminders import run_sweeps
from tests.conftest import api, login
from tests.mediation.conftest import act, on, post

pytestmark = pytest.mark.django_db
COURT = "江门市蓬江区人民法院"


def concluded_on(story, day: datetime.date, **kwargs):
    with on(day):
        return story.succeeded(form="written", **kwargs)


def progress(people, referral, **body):
    return post(people.mediator, referral.pk, "agreement/progress/", body)


@pytest.mark.parametrize(
    ("signed", "deadline"),
    [
        (datetime.date(2026, 11, 2), datetime.date(2026, 12, 2)),  # an ordinary weekday
        (datetime.date(2026, 10, 15), datetime.date(2026, 11, 16)),  # 30th day a Saturday → Monday
        (datetime.date(2026, 9, 1), datetime.date(2026, 10, 8)),  # 30th day in the National Day holiday
        (datetime.date(2026, 9, 10), datetime.date(2026, 10, 10)),  # a Saturday made a working day (调休)
    ],
)
def test_the_window_ends_thirty_days_after_the_agreement_takes_effect_rolled_past_rest_days(
    people, story, signed, deadline
):
    referral = concluded_on(story, signed)
    agreement = Agreement.objects.get(referral=referral)
    assert agreement.effective_on == signed
    assert agreement.confirmation_deadline == deadline
    with on(signed):
        shown = api(people.officer).get(f"/api/referrals/{referral.pk}/").json()["agreement"]["confirmation"]
    assert shown == {"deadline": deadline.isoformat(), "applied_on": None, "court": "", "result": "", "ruling_on": None}


def test_an_application_after_the_window_closed_is_refused(people, story):
    referral = concluded_on(story, datetime.date(2026, 9, 1))
    with on(datetime.date(2026, 10, 9)):
        response = progress(people, referral, confirmation_applied_on="2026-10-09", confirmation_court=COURT)
    assert response.status_code == 400
    assert "已超过司法确认申请期限(2026-10-08)" in response.json()["errors"]["confirmation_applied_on"][0]
    assert Agreement.objects.get(referral=referral).confirmation_applied_on is None


def test_an_application_on_the_last_day_is_recorded_and_then_its_ruling(people, story):
    referral = concluded_on(story, datetime.date(2026, 9, 1))
    with on(datetime.date(2026, 10, 8)):
        applied = progress(people, referral, confirmation_applied_on="2026-10-08", confirmation_court=COURT)
    assert applied.status_code == 200, applied.json()
    assert applied.json()["confirmation_result"] == "pending"
    with on(datetime.date(2026, 10, 20)):
        ruled = progress(people, referral, confirmation_result="confirmed", confirmation_ruling_on="2026-10-20")
    assert ruled.status_code == 200, ruled.json()
    agreement = Agreement.objects.get(referral=referral)
    assert (agreement.confirmation_court, agreement.confirmation_result) == (COURT, "confirmed")
    assert agreement.confirmation_ruling_on == datetime.date(2026, 10, 20)
    with on(datetime.date(2026, 10, 21)):
        dossier = api(people.officer).get(f"/api/referrals/{referral.pk}/dossier/").json()
    assert {e["item"]: e["status"] for e in dossier}["judicial_confirmation"] == "present"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"confirmation_applied_on": "2026-11-10"}, "confirmation_court", "受理法院"),
        ({"confirmation_applied_on": "2026-11-01", "confirmation_court": COURT}, "confirmation_applied_on", "早于"),
        ({"confirmation_result": "confirmed"}, "confirmation_applied_on", "请先登记"),
        ({}, "performance", "至少填写一项"),
        ({"performance": "performed", "performance_recorded_on": "2026-11-01"}, "performance_recorded_on", "早于"),
    ],
)
def test_it_refuses_incomplete_or_impossible_confirmation_records(people, story, body, field, message):
    referral = concluded_on(story, datetime.date(2026, 11, 2))
    with on(datetime.date(2026, 11, 10)):
        response = progress(people, referral, **body)
    assert response.status_code == 400
    assert message in response.json()["errors"][field][0]


def test_the_committee_records_how_the_agreement_was_performed(people, story):
    referral = concluded_on(story, datetime.date(2026, 11, 2))
    with on(datetime.date(2026, 11, 12)):
        response = progress(people, referral, performance="partly")
    assert response.status_code == 200, response.json()
    assert (response.json()["performance"], response.json()["performance_recorded_on"]) == ("partly", "2026-11-12")


def test_the_reminder_is_sent_once_before_the_window_closes(people, story):
    referral = concluded_on(story, datetime.date(2026, 9, 1))  # the window closes on 2026-10-08
    sent_on = []
    day = datetime.date(2026, 9, 1)
    while day <= datetime.date(2026, 10, 20):
        with on(day, 8):
            if run_sweeps()["confirmation_window"]:
                sent_on.append(day)
            run_sweeps()  # a second sweep the same day (another worker) sends nothing more
        day += datetime.timedelta(days=1)
    assert sent_on == [datetime.date(2026, 10, 3)]  # five days ahead, before the window closes
    reminders = Notification.objects.filter(kind=MediationNotice.CONFIRMATION_WINDOW, referral_id=referral.pk)
    assert sorted(reminders.values_list("recipient__username", flat=True)) == ["mediator", "officer", "reviewer"]
    assert "2026-10-08" in reminders.first().title


def test_no_reminder_once_the_parties_have_applied(people, story):
    referral = concluded_on(story, datetime.date(2026, 9, 1))
    with on(datetime.date(2026, 9, 20)):
        progress(people, referral, confirmation_applied_on="2026-09-20", confirmation_court=COURT)
    with on(datetime.date(2026, 10, 3), 8):
        assert run_sweeps()["confirmation_window"] == 0
    assert not Notification.objects.filter(kind=MediationNotice.CONFIRMATION_WINDOW).exists()


def test_no_reminder_for_the_agreement_of_a_round_that_was_reopened(people, story):
    referral = concluded_on(story, datetime.date(2026, 9, 1))
    with on(datetime.date(2026, 9, 5)):
        assert act(people.reviewer, referral.pk, "reopen", {"reason": "当事人反悔"}).status_code == 200
    with on(datetime.date(2026, 10, 3), 8):
        assert run_sweeps()["confirmation_window"] == 0


def test_the_outcome_panel_shows_the_window_and_the_days_left(people, story):
    referral = concluded_on(story, datetime.date(2026, 9, 1))
    with on(datetime.date(2026, 10, 3)):
        page = login(people.officer).get(f"/referrals/{referral.pk}/").content.decode()
    assert "可于 2026-10-08 前申请（剩 5 天）" in page
    with on(datetime.date(2026, 10, 9)):
        page = login(people.officer).get(f"/referrals/{referral.pk}/").content.decode()
    assert "申请期已于 2026-10-08 届满，未申请" in page


def test_a_late_application_through_the_page_comes_back_with_the_error_next_to_the_date(people, story):
    referral = concluded_on(story, datetime.date(2026, 9, 1))
    with on(datetime.date(2026, 10, 9)):
        response = login(people.mediator).post(
            f"/referrals/{referral.pk}/actions/record_agreement_progress/",
            {"confirmation_applied_on": "2026-10-09", "confirmation_court": COURT},
        )
    assert response.status_code == 400
    html = response.content.decode()
    field = html[html.index('for="id_record_agreement_progress_confirmation_applied_on"') :]
    assert "已超过司法确认申请期限(2026-10-08)" in field[: field.index("</div>")]
    assert Agreement.objects.get(referral=referral).confirmation_applied_on is None


def test_an_oral_agreement_has_no_confirmation_window_and_an_application_is_refused(people, story):
    # 人民调解法 Art. 33: a court confirms a written agreement; an oral one has nothing to confirm.
    with on(datetime.date(2026, 11, 2)):
        referral = story.succeeded(form="oral")
        agreement = Agreement.objects.get(referral=referral)
        assert agreement.confirmation_deadline is None
        assert not agreement.confirmation_window_open(datetime.date(2026, 11, 3))
        shown = api(people.officer).get(f"/api/referrals/{referral.pk}/").json()["agreement"]["confirmation"]
        assert shown["deadline"] is None
        response = progress(people, referral, confirmation_applied_on="2026-11-02", confirmation_court=COURT)
    assert response.status_code == 400
    assert "口头调解协议不能申请司法确认" in response.json()["errors"]["confirmation_applied_on"][0]
    assert Agreement.objects.get(referral=referral).confirmation_applied_on is None
    page = login(people.mediator).get(f"/referrals/{referral.pk}/").content.decode()
    assert "口头协议，不适用司法确认" in page


def test_no_window_reminder_is_sent_for_an_oral_agreement(people, story):
    with on(datetime.date(2026, 11, 2)):
        referral = story.succeeded(form="oral")
    for day in range(20, 40):
        with on(datetime.date(2026, 11, 2) + datetime.timedelta(days=day)):
            run_sweeps()
    assert not Notification.objects.filter(referral_id=referral.pk, kind=MediationNotice.CONFIRMATION_WINDOW).exists()
