"""Stage deadlines with time travel across 2026's holidays and make-up working days, and 2027's statutory
holidays before and after its calendar is published (docs/domain.md#workflow)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from referrals import workflow
from referrals.models import DeadlineKind, Referral
from tests import factories
from tests.townships.calendars import published_2027
from townships.calendar import load_year
from townships.models import CalendarDay

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
d = datetime.date


def moment(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=SH)


def test_acceptance_is_due_three_working_days_after_referral_across_national_day(people, story):
    with time_machine.travel(moment(d(2026, 9, 25)), tick=False):
        draft = story.draft(received_on=d(2026, 9, 25))
    with time_machine.travel(moment(d(2026, 9, 30)), tick=False):
        referral = workflow.submit_referral(draft, by=people.officer)
    # Oct 1–7 are holidays, Sat Oct 10 a make-up working day: Oct 8, 9, 10.
    assert referral.deadline_kind == DeadlineKind.ACCEPT
    assert referral.due_on == d(2026, 10, 10)
    assert not referral.deadline_provisional
    assert referral.deadline_status(moment(d(2026, 10, 8))) == "on_time"
    assert referral.deadline_status(moment(d(2026, 10, 9))) == "due_soon"
    assert referral.deadline_status(moment(d(2026, 10, 10), 23)) == "due_soon"
    assert referral.deadline_status(moment(d(2026, 10, 11), 0)) == "overdue"


def test_routing_onward_restarts_the_acceptance_clock(people, story):
    with time_machine.travel(moment(d(2026, 6, 1)), tick=False):
        referral = workflow.submit_referral(
            story.draft(target=people.bureau, received_on=d(2026, 6, 1)), by=people.officer
        )
    assert referral.due_on == d(2026, 6, 4)
    with time_machine.travel(moment(d(2026, 6, 3)), tick=False):
        referral = workflow.dispatch_referral(referral, by=people.supervisor, target=people.huanshi)
    assert referral.due_on == d(2026, 6, 8)  # Wed + 3 working days, over the weekend


def test_mediation_is_due_thirty_calendar_days_after_acceptance_rolled_past_rest_days(people, story):
    with time_machine.travel(moment(d(2026, 9, 3)), tick=False):
        submitted = story.submitted(received_on=d(2026, 9, 1))
    with time_machine.travel(moment(d(2026, 9, 4)), tick=False):
        referral = workflow.accept_referral(
            submitted, by=people.mediator, mediators=[people.lead], rights_explained=True
        )
    # Sep 4 + 30 = Oct 4 (National Day holiday) → Oct 8.
    assert referral.deadline_kind == DeadlineKind.MEDIATE
    assert referral.due_on == d(2026, 10, 8)
    assert referral.petition_due_on == d(2026, 11, 2)  # Sep 1 + 60 days = Sat Oct 31 → Monday
    with time_machine.travel(moment(d(2026, 9, 10)), tick=False):
        referral = workflow.extend_referral(
            referral, by=people.mediator, days=5, reason="双方同意", consents=factories.extension_consents(referral)
        )
    assert referral.due_on == d(2026, 10, 9)  # Sep 4 + 35 = Oct 9, a working day


def test_a_suspension_stops_the_clock_and_the_paused_days_are_added(people, story):
    with time_machine.travel(moment(d(2026, 6, 1)), tick=False):
        referral = story.mediating(received_on=d(2026, 6, 1))
    assert referral.due_on == d(2026, 7, 1)
    with time_machine.travel(moment(d(2026, 6, 10)), tick=False):
        referral = workflow.suspend_referral(referral, by=people.mediator, reason="等待伤情鉴定")
    assert referral.due_at is None and referral.deadline_kind == DeadlineKind.MEDIATE
    assert not Referral.objects.overdue(moment(d(2026, 12, 1))).filter(pk=referral.pk).exists()
    with time_machine.travel(moment(d(2026, 6, 17)), tick=False):
        referral = workflow.resume_referral(referral, by=people.mediator)
    assert referral.due_on == d(2026, 7, 8)  # seven days later


def test_review_is_due_five_working_days_after_conclusion(people, story):
    with time_machine.travel(moment(d(2026, 9, 28)), tick=False):
        referral = story.succeeded(received_on=d(2026, 9, 20))
    # Tue Sep 29, Wed Sep 30, (Oct 1–7 holidays), Thu Oct 8, Fri Oct 9, Sat Oct 10.
    assert referral.deadline_kind == DeadlineKind.REVIEW
    assert referral.due_on == d(2026, 10, 10)


def test_deadlines_reaching_into_2027_are_provisional(people, story):
    with time_machine.travel(moment(d(2026, 12, 29)), tick=False):
        referral = story.submitted(received_on=d(2026, 12, 28))
    # Dec 30, 31, then Monday Jan 4: 1 January 2027 is 元旦 by the statutory rule, not yet published.
    assert referral.due_on == d(2027, 1, 4)
    assert referral.deadline_provisional
    body_deadline = referral.deadline_status(moment(d(2026, 12, 29)))
    assert body_deadline == "on_time"


def test_entering_the_2027_calendar_moves_stored_deadlines(people, story, django_capture_on_commit_callbacks):
    with time_machine.travel(moment(d(2026, 12, 29)), tick=False):
        referral = story.submitted(received_on=d(2026, 12, 28))
    with django_capture_on_commit_callbacks(execute=True):
        # The administrator enters a bridging rest day from the State Council's notice.
        CalendarDay.objects.create(date=d(2027, 1, 4), is_workday=False, kind="holiday", name="元旦", confirmed=True)
    referral.refresh_from_db()
    assert referral.due_on == d(2027, 1, 5)
    assert referral.deadline_provisional  # Jan 1 and Jan 5 are still unconfirmed


def test_an_acceptance_deadline_across_the_2027_spring_festival_skips_it(people, story):
    with time_machine.travel(moment(d(2027, 2, 3)), tick=False):
        referral = story.submitted(received_on=d(2027, 2, 2))
    # Thu Feb 4; Feb 5–8 are 除夕 to 初三 (Fri–Mon); Tue Feb 9, Wed Feb 10. Monday–Friday would say Feb 8.
    assert referral.due_on == d(2027, 2, 10)
    assert referral.deadline_provisional


def test_loading_the_published_2027_calendar_moves_stored_deadlines(people, story, django_capture_on_commit_callbacks):
    with time_machine.travel(moment(d(2027, 2, 3)), tick=False):
        referral = story.submitted(received_on=d(2027, 2, 2))
        closed = story.closed(received_on=d(2027, 2, 2))
    load_year(2027)  # by rule, as load_reference_data does before the notice: no deadline moves
    referral.refresh_from_db()
    assert (referral.due_on, referral.deadline_provisional) == (d(2027, 2, 10), True)
    with django_capture_on_commit_callbacks(execute=True):
        load_year(2027, official=published_2027())  # a newer chinesecalendar, in bulk: no post_save
    referral.refresh_from_db()
    # Thu Feb 4; Feb 5–13 rest (as published for the test); Mon Feb 15, Tue Feb 16.
    assert (referral.due_on, referral.deadline_provisional) == (d(2027, 2, 16), False)
    closed.refresh_from_db()
    assert closed.due_at is None


def test_closing_ends_the_clock(people, story):
    referral = story.closed()
    assert referral.deadline_kind == "" and referral.due_at is None


def test_the_api_reports_status_and_provisional_flag(people, story):
    from tests.conftest import api

    with time_machine.travel(moment(d(2026, 9, 30)), tick=False):
        referral = story.submitted(received_on=d(2026, 9, 29))
    with time_machine.travel(moment(d(2026, 10, 12)), tick=False):
        body = api(people.mediator).get(f"/api/referrals/{referral.pk}/").json()
        overdue_list = api(people.mediator).get("/api/referrals/?overdue=true").json()["results"]
    assert body["deadline"] == {
        "kind": "accept",
        "kind_label": "受理期限",
        "due_on": "2026-10-10",
        "due_at": "2026-10-11T00:00:00+08:00",
        "status": "overdue",
        "provisional": False,
        "paused": False,
    }
    assert [r["id"] for r in overdue_list] == [referral.pk]
