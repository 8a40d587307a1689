"""The follow-up clock (回访期限, docs/clocks.md): 30 calendar days from each conclusion, rolled past rest
days, cleared on reopening and computed again at the next conclusion; satisfied by a follow-up visit,
reminded exactly once, counted and listed on the dashboard (``followup_overdue``)."""

from __future__ import annotations

import datetime
import importlib
import re
from collections import Counter

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mediation.workflow import add_followup, fail_referral
from notifications.models import Notification
from referrals import workflow
from referrals.deadlines import followup_status, recompute_open_deadlines
from referrals.models import DeadlineReminder, Referral, State
from referrals.reminders import run_sweeps, sweep_followups
from tests.conftest import api, login
from tests.mediation.conftest import SHANGHAI, act, on, post
from tests.referrals.test_stats_support import fresh, listed

pytestmark = pytest.mark.django_db
d = datetime.date


def reminders(kind: str) -> Counter:
    return Counter(
        Notification.objects.filter(kind=kind, title__contains="回访期限").values_list("recipient__username", flat=True)
    )


def on_moment(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)


def visit(user, referral, day: datetime.date):
    return add_followup(referral, by=user, visited_on=day, method="phone", satisfaction="satisfied")


# --- The clock ----------------------------------------------------------------------------------------


def test_an_agreement_is_followed_up_within_30_days_rolled_past_the_national_day_holiday(people, story):
    with on(d(2026, 9, 1)):
        referral = story.succeeded()
    # Sep 1 + 30 = Thu Oct 1, National Day: the holiday runs to Oct 7, so the last day is Oct 8.
    assert referral.followup_due_on == d(2026, 10, 8)
    assert not referral.followup_provisional
    assert referral.followed_up_on is None
    assert followup_status(referral, on_moment(d(2026, 10, 4))) == "on_time"
    assert followup_status(referral, on_moment(d(2026, 10, 5))) == "due_soon"
    assert followup_status(referral, on_moment(d(2026, 10, 8))) == "due_soon"
    assert followup_status(referral, on_moment(d(2026, 10, 9))) == "overdue"


def test_a_termination_is_followed_up_too_on_a_working_day_without_roll_over(people, story):
    with on(d(2026, 6, 1)):
        referral = story.failed()
    assert referral.followup_due_on == d(2026, 7, 1)  # Mon Jun 1 + 30 = Wed Jul 1


def test_there_is_no_follow_up_clock_before_a_conclusion_or_after_a_return(people, story):
    assert story.mediating().followup_due_on is None
    declined = story.declined()
    closed = workflow.close_referral(declined, by=people.reviewer, note="退回后直接办结。")
    assert closed.state == State.CLOSED and closed.followup_due_on is None


def test_closing_keeps_the_clock_of_the_conclusion(people, story):
    with on(d(2026, 9, 1)):
        referral = story.closed()
    assert referral.state == State.CLOSED
    assert Referral.objects.get(pk=referral.pk).followup_due_on == d(2026, 10, 8)


def test_reopening_clears_the_clock_and_the_visit_and_concluding_again_computes_it_afresh(people, story):
    with on(d(2026, 9, 1)):
        referral = story.succeeded()
    with on(d(2026, 9, 5)):
        visit(people.mediator, referral, d(2026, 9, 5))
    referral.refresh_from_db()
    assert referral.followed_up_on == d(2026, 9, 5) and followup_status(referral) == "done"
    with on(d(2026, 9, 10)):
        reopened = workflow.reopen_referral(referral, by=people.reviewer, reason="回访不满意")
    assert reopened.state == State.MEDIATING
    assert (reopened.followup_due_on, reopened.followed_up_on) == (None, None)
    with on(d(2026, 9, 20)):
        again = fail_referral(
            reopened,
            by=people.mediator,
            reason="views_too_far_apart",
            routes_explained=["litigation"],
            no_session_note="双方拒绝再次到场。",
        )
    # Sun Sep 20 + 30 = Tue Oct 20; the earlier round's visit does not count for this one.
    assert (again.followup_due_on, again.followed_up_on) == (d(2026, 10, 20), None)
    assert Referral.objects.filter(pk=referral.pk, followup_due_on=d(2026, 10, 20)).exists()


def test_the_first_visit_satisfies_the_clock_whoever_makes_it_even_late(people, story):
    with on(d(2026, 9, 1)):
        referral = story.closed()
    with on(d(2026, 10, 12)):
        response = post(
            people.officer,
            referral.pk,
            "followups/",
            {"visited_on": "2026-10-12", "method": "visit", "satisfaction": "satisfied"},
        )
        assert response.status_code == 201, response.json()
        visit(people.mediator, referral, d(2026, 10, 12))
    referral.refresh_from_db()
    assert referral.followed_up_on == d(2026, 10, 12)
    assert followup_status(referral, on_moment(d(2026, 12, 1))) == "done"


# --- Reminders ----------------------------------------------------------------------------------------


def test_due_soon_goes_once_to_the_committee_and_overdue_once_to_the_committee_and_the_office(people, story):
    with on(d(2026, 9, 1)):
        referral = story.closed()
    with on(d(2026, 10, 4)):  # four days before Oct 8: not yet
        assert run_sweeps()["followup"] == 0
    with on(d(2026, 10, 5)):
        assert run_sweeps()["followup"] == 1
        assert run_sweeps()["followup"] == 0  # another sweep, or another worker: nothing more
    assert reminders("deadline_due_soon") == {"mediator": 1}
    with on(d(2026, 10, 8), 23):  # the last day is whole
        assert sweep_followups() == 0
    with on(d(2026, 10, 9), 0):
        assert sweep_followups() == 1
        assert sweep_followups() == 0
    assert reminders("deadline_overdue") == {"mediator": 1, "officer": 1, "reviewer": 1}
    overdue = Notification.objects.get(kind="deadline_overdue", recipient=people.officer)
    assert referral.number in overdue.title and "2026-10-08" in overdue.title
    assert overdue.url == f"/referrals/{referral.pk}/"
    assert set(DeadlineReminder.objects.filter(referral=referral).values_list("kind", "level")) == {
        ("followup", "due_soon"),
        ("followup", "overdue"),
    }


def test_a_catch_up_after_downtime_sends_the_overdue_reminder_only_and_a_visit_stops_them(people, story):
    with on(d(2026, 9, 1)):
        late = story.succeeded()
        visited = story.succeeded()
    with on(d(2026, 9, 3)):
        visit(people.mediator, visited, d(2026, 9, 3))
    with on(d(2026, 11, 1)):
        assert sweep_followups() == 1
    assert reminders("deadline_due_soon") == {}
    assert set(Notification.objects.filter(kind="deadline_overdue").values_list("referral_id", flat=True)) == {late.pk}


def test_a_new_round_earns_fresh_reminders(people, story):
    with on(d(2026, 9, 1)):
        referral = story.succeeded()
    with on(d(2026, 10, 9)):
        assert sweep_followups() == 1
        reopened = workflow.reopen_referral(referral, by=people.reviewer, reason="履行争议")
    with on(d(2026, 10, 12)):
        fail_referral(
            reopened,
            by=people.mediator,
            reason="views_too_far_apart",
            routes_explained=["litigation"],
            no_session_note="双方拒绝再次到场。",
        )
    with on(d(2026, 11, 12)):  # Oct 12 + 30 = Wed Nov 11
        assert sweep_followups() == 1
    assert reminders("deadline_overdue") == {"mediator": 2, "officer": 2, "reviewer": 2}


# --- The dashboard and the list -----------------------------------------------------------------------


def _overdue_followups_story(people, story) -> dict[str, Referral]:
    with on(d(2026, 6, 1)):
        cases = {
            "late": story.succeeded(),
            "late_closed": story.closed(),
            "visited": story.succeeded(),
            "reopened": story.succeeded(),
        }
    with on(d(2026, 6, 20)):
        visit(people.officer, cases["visited"], d(2026, 6, 20))
        workflow.reopen_referral(cases["reopened"], by=people.reviewer, reason="履行争议")
    with on(d(2026, 8, 25)):
        cases["recent"] = story.failed()  # due Sep 24: not yet overdue on Sep 1
    return cases


def test_the_overdue_figure_equals_its_list_on_the_dashboard_and_in_the_referral_list(people, story):
    cases = _overdue_followups_story(people, story)
    with on(d(2026, 9, 1)):
        figures = api(fresh(people.supervisor)).get("/api/stats/summary/").json()["figures"]
        assert figures["followup_overdue"] == 2
        html = login(fresh(people.supervisor)).get("/").content.decode()
        listing = re.search(
            r'<h3 title="[^"]*"><a href="([^"]+)">回访逾期</a> <a class="count" href="[^"]+" data-count="(\d+)">', html
        )
        assert listing is not None
        href, count = listing.group(1).replace("&amp;", "&"), int(listing.group(2))
        assert "figure=followup_overdue" in href
        assert count == figures["followup_overdue"] == listed(people.supervisor, href)
        shown = api(fresh(people.supervisor)).get("/api/referrals/", {"figure": "followup_overdue"}).json()
        assert {r["id"] for r in shown["results"]} == {cases["late"].pk, cases["late_closed"].pk}
        # The committee and the office see the same list on their own workbenches.
        for user in (people.mediator, people.officer):
            page = login(fresh(user)).get("/").content.decode()
            assert re.search(r'回访逾期</a> <a class="count" href="[^"]+" data-count="2">', page), user


def test_the_summary_still_costs_a_fixed_number_of_queries(people, story):
    _overdue_followups_story(people, story)
    client = api(fresh(people.city))
    with on(d(2026, 9, 1)), CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/stats/summary/").status_code == 200
    before = len(ctx.captured_queries)
    with on(d(2026, 6, 1)):
        story.succeeded()
    client = api(fresh(people.city))
    with on(d(2026, 9, 1)), CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/stats/summary/").status_code == 200
    assert len(ctx.captured_queries) == before


# --- API, page, calendar changes, existing rows ---------------------------------------------------------


def test_the_api_shows_the_follow_up_clock_and_the_schema_documents_it(people, story):
    with on(d(2026, 9, 1)):
        referral = story.succeeded()
    with on(d(2026, 10, 6)):
        body = api(people.reviewer).get(f"/api/referrals/{referral.pk}/").json()
    assert body["followup_due_on"] == "2026-10-08"
    assert body["followup_clock"] == {
        "due_on": "2026-10-08",
        "provisional": False,
        "followed_up_on": None,
        "status": "due_soon",
    }
    with on(d(2026, 10, 6)):
        visit(people.mediator, referral, d(2026, 10, 6))
        clock = api(people.supervisor).get(f"/api/referrals/{referral.pk}/").json()["followup_clock"]
    assert clock["followed_up_on"] == "2026-10-06" and clock["status"] == "done"
    mediating = api(people.mediator).get(f"/api/referrals/{story.mediating().pk}/").json()
    assert mediating["followup_due_on"] is None and mediating["followup_clock"] is None
    schema = api(people.officer).get("/api/schema/?format=json").json()["components"]["schemas"]
    assert schema["Referral"]["properties"]["followup_due_on"]["format"] == "date"
    assert "followup_clock" in schema["Referral"]["properties"]
    assert set(schema["FollowupClockOut"]["properties"]) == {"due_on", "provisional", "followed_up_on", "status"}
    status = schema["FollowupClockOut"]["properties"]["status"]
    status = schema[status["allOf"][0]["$ref"].rsplit("/", 1)[1]]
    assert set(status["enum"]) == {"on_time", "due_soon", "overdue", "done"}


def test_the_referral_page_shows_the_clock_in_the_follow_up_panel(people, story):
    with on(d(2026, 9, 1)):
        referral = story.closed()
    with on(d(2026, 10, 9)):
        page = login(people.supervisor).get(f"/referrals/{referral.pk}/").content.decode()
    panel = page[page.index('id="followups"') :]
    panel = panel[: panel.index("</section>")]
    assert 'data-clock="followup"' in panel and 'data-status="overdue"' in panel
    assert "2026-10-08" in panel and "逾期未回访" in panel


def test_a_calendar_change_moves_the_clock_of_a_closed_referral_still_to_be_followed_up(people, story):
    with on(d(2026, 9, 1)):
        referral = story.closed()
    Referral.objects.filter(pk=referral.pk).update(followup_due_on=d(2026, 10, 1))  # as an old calendar said
    with on(d(2026, 9, 2)):
        assert recompute_open_deadlines() >= 1
    assert Referral.objects.get(pk=referral.pk).followup_due_on == d(2026, 10, 8)


def test_the_data_migration_fills_concluded_referrals_and_does_not_flood_old_reminders(people, story):
    with on(d(2026, 6, 1)):
        old = story.closed()
        visited = story.succeeded()
    with on(d(2026, 6, 10)):
        visit(people.mediator, visited, d(2026, 6, 10))
    with on(d(2026, 9, 1)):
        recent = story.failed()
    mediating = story.mediating()
    Referral.objects.update(followup_due_on=None, followup_provisional=False, followed_up_on=None)
    migration = importlib.import_module("mediation.migrations.0005_followup_clock")
    with on(d(2026, 9, 10)):
        migration.fill_followup_clock(apps, None)
    rows = {r.pk: r for r in Referral.objects.all()}
    assert (rows[old.pk].followup_due_on, rows[old.pk].followed_up_on) == (d(2026, 7, 1), None)
    assert (rows[visited.pk].followup_due_on, rows[visited.pk].followed_up_on) == (d(2026, 7, 1), d(2026, 6, 10))
    assert rows[recent.pk].followup_due_on == d(2026, 10, 8)
    assert rows[mediating.pk].followup_due_on is None
    # Missed before the clock existed: listed, never announced; the recent one is still reminded.
    assert list(DeadlineReminder.objects.values_list("referral_id", "kind", "level")) == [
        (old.pk, "followup", "overdue")
    ]
    with on(d(2026, 10, 9)):
        assert sweep_followups() == 1
    assert set(Notification.objects.filter(kind="deadline_overdue").values_list("referral_id", flat=True)) == {
        recent.pk
    }


def test_reopening_through_the_api_clears_the_clock(people, story):
    with on(d(2026, 9, 1)):
        referral = story.succeeded()
    with on(d(2026, 9, 2)):
        body = act(people.reviewer, referral.pk, "reopen", {"reason": "重新调解"}).json()
    assert body["followup_due_on"] is None and body["followup_clock"] is None
