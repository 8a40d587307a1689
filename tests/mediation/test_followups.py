"""Follow-up visits (回访); a dissatisfied party brings the case back to the petition office."""

import datetime

import pytest

from mediation.models import Agreement, FollowUp
from mediation.notices import Notice as MediationNotice
from notifications.models import Notification
from referrals.models import Referral, State
from referrals.notices import Notice as ReferralNotice
from tests.conftest import api, login
from tests.factories import day, today
from tests.mediation.conftest import act, on, post
from townships.calendar import calendar_period_end

pytestmark = pytest.mark.django_db


def visit(user, referral, **overrides):
    body = {
        "visited_on": day(),
        "method": "phone",
        "satisfaction": "satisfied",
        "performance": "performed",
        "note": "电话回访申请人，对调解结果表示认可。",
    }
    body.update(overrides)
    return post(user, referral.pk, "followups/", body)


def test_a_dissatisfied_followup_tells_the_reviewers_of_the_petition_office(
    people, story, django_capture_on_commit_callbacks
):
    referral = story.closed()
    with django_capture_on_commit_callbacks(execute=True):
        response = visit(people.mediator, referral, satisfaction="dissatisfied", note="被申请人未按期付款。")
    assert response.status_code == 201, response.json()
    told = Notification.objects.filter(kind=MediationNotice.FOLLOWUP_DISSATISFIED)
    assert list(told.values_list("recipient__username", flat=True)) == ["reviewer"]
    assert told.get().body == "被申请人未按期付款。"
    assert told.get().url == f"/referrals/{referral.pk}/"


def test_a_satisfied_followup_tells_nobody(people, story):
    referral = story.closed()
    assert visit(people.mediator, referral, satisfaction="basically_satisfied").status_code == 201
    assert not Notification.objects.filter(kind=MediationNotice.FOLLOWUP_DISSATISFIED).exists()


def test_after_a_dissatisfied_followup_the_reviewer_reopens_in_one_step_with_a_new_round(people, story):
    with on(datetime.date(2026, 11, 2)):
        referral = story.closed()
    with on(datetime.date(2026, 11, 9)):
        visit(people.officer, referral, visited_on="2026-11-09", satisfaction="dissatisfied")
    with on(datetime.date(2026, 11, 10)):
        response = act(people.reviewer, referral.pk, "reopen", {"reason": "回访不满意，重新调解"})
        assert response.status_code == 200, response.json()
        reopened = response.json()
        sessions = api(people.mediator).get(f"/api/referrals/{referral.pk}/sessions/").json()
        dossier = api(people.mediator).get(f"/api/referrals/{referral.pk}/dossier/").json()
    assert (reopened["state"], reopened["round"]) == ("mediating", 2)
    assert reopened["agreement"] is None and reopened["outcome"] is None
    assert reopened["deadline"]["kind"] == "mediate"
    assert reopened["deadline"]["due_on"] == calendar_period_end(datetime.date(2026, 11, 10), 30).date.isoformat()
    assert [s["round"] for s in sessions] == [1]  # the first round's record stays on file
    assert {e["item"]: e["status"] for e in dossier}["mediation_record"] == "missing"
    assert Agreement.objects.filter(referral=referral).count() == 1
    assert Notification.objects.filter(kind=ReferralNotice.REFERRAL_REOPENED, recipient=people.mediator).exists()


def test_the_followup_panel_offers_the_reviewer_a_one_click_reopen(people, story):
    referral = story.closed()
    visit(people.mediator, referral, satisfaction="dissatisfied", note="协议未履行。")
    reviewer = login(people.reviewer)
    page = reviewer.get(f"/referrals/{referral.pk}/").content.decode()
    panel = page[page.index('id="followups"') :]
    panel = panel[: panel.index("</section>")]
    assert f'action="/referrals/{referral.pk}/actions/reopen/"' in panel
    reason = panel.split('name="reason" value="')[1].split('"')[0]
    response = reviewer.post(f"/referrals/{referral.pk}/actions/reopen/", {"reason": reason})
    assert response.status_code == 302
    reopened = Referral.objects.get(pk=referral.pk)
    assert (reopened.state, reopened.round) == (State.MEDIATING, 2)
    assert "协议未履行" in reopened.events.last().note


def test_only_the_reviewer_is_offered_the_reopen(people, story):
    referral = story.closed()
    visit(people.mediator, referral, satisfaction="dissatisfied")
    for user in (people.officer, people.mediator, people.supervisor):
        page = login(user).get(f"/referrals/{referral.pk}/").content.decode()
        panel = page[page.index('id="followups"') :]
        assert "/actions/reopen/" not in panel[: panel.index("</section>")]


def test_a_followup_records_how_the_agreement_was_performed(people, story):
    referral = story.closed()
    assert visit(people.mediator, referral, performance="partly").status_code == 201
    agreement = api(people.officer).get(f"/api/referrals/{referral.pk}/").json()["agreement"]
    assert agreement["performance"] == "partly"
    assert Agreement.objects.get(referral=referral).performance_recorded_on == today()


def test_the_petition_office_may_visit_too_and_is_recorded_as_the_visiting_organisation(people, story):
    referral = story.succeeded()
    response = visit(people.officer, referral, method="visit")
    assert response.status_code == 201, response.json()
    assert FollowUp.objects.get().organisation == people.petition_office
    listed = api(people.supervisor).get(f"/api/referrals/{referral.pk}/followups/").json()
    assert [(f["method"], f["satisfaction"], f["by"]["name"]) for f in listed] == [("visit", "satisfied", "陈晓敏")]


# Each value is built as its test runs, so a date in it is that day's.
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (lambda: {"visited_on": day(1)}, "visited_on"),
        (lambda: {"visited_on": day(-1)}, "visited_on"),
        (lambda: {"satisfaction": "delighted"}, "satisfaction"),
        (lambda: {"method": "telepathy"}, "method"),
    ],
)
def test_it_refuses_impossible_followups(people, story, overrides, field):
    referral = story.succeeded()
    response = visit(people.mediator, referral, **overrides())
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not FollowUp.objects.exists()


def test_there_is_no_followup_before_mediation_concludes(people, story):
    referral = story.with_session()
    response = visit(people.mediator, referral)
    assert response.status_code == 409
