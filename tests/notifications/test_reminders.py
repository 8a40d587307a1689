"""Deadline reminders arrive exactly once: twice in a row, after downtime, and with two sweepers at once."""

from __future__ import annotations

import datetime
import threading
from collections import Counter

import pytest
import time_machine
from django.db import connection, connections
from django.utils import timezone

from mediation.workflow import issue_supervision
from notifications.models import Notification
from referrals import workflow
from referrals.models import DeadlineReminder, Referral
from referrals.permissions import referrals_visible_to
from referrals.reminders import run_sweeps, sweep_deadlines
from tests import factories

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


def reminders(kind: str) -> Counter:
    """How many reminders of this kind each user got."""
    return Counter(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def test_two_sweeps_in_a_row_send_each_reminder_once(people, story):
    referral = story.submitted()
    with time_machine.travel(referral.due_soon_at + HOUR, tick=False):
        run_sweeps()
        run_sweeps()
    assert reminders("deadline_due_soon") == {"mediator": 1}
    with time_machine.travel(referral.due_at + HOUR, tick=False):
        run_sweeps()
        run_sweeps()
    assert reminders("deadline_due_soon") == {"mediator": 1}
    assert reminders("deadline_overdue") == {"mediator": 1, "supervisor": 1, "city": 1}
    assert DeadlineReminder.objects.filter(referral=referral).count() == 2


def test_a_sweep_before_the_warning_time_sends_nothing(people, story):
    referral = story.submitted()
    with time_machine.travel(referral.due_soon_at - HOUR, tick=False):
        assert run_sweeps()["deadlines"] == 0
    assert not Notification.objects.filter(kind__startswith="deadline_").exists()


def test_a_catch_up_after_downtime_sends_the_overdue_reminder_only(people, story):
    referral = story.submitted()
    # The server was down through the whole due-soon window: "due soon" would be stale news.
    with time_machine.travel(referral.due_at + datetime.timedelta(days=4), tick=False):
        assert sweep_deadlines() == 1
    assert reminders("deadline_due_soon") == {}
    assert reminders("deadline_overdue") == {"mediator": 1, "supervisor": 1, "city": 1}


def test_overdue_escalates_to_the_supervising_bureaus_who_can_all_see_the_referral(people, story):
    referral = story.mediating()
    with time_machine.travel(referral.due_at + HOUR, tick=False):
        sweep_deadlines()
    overdue = Notification.objects.filter(kind="deadline_overdue").select_related("recipient")
    assert {n.recipient.username for n in overdue} == {"mediator", "supervisor", "city"}
    for n in overdue:
        assert referrals_visible_to(n.recipient).filter(pk=referral.pk).exists()
        assert n.url == f"/referrals/{referral.pk}/"
        assert referral.number in n.title


def test_due_soon_goes_to_whoever_must_act_and_not_yet_to_supervisors(people, story):
    referral = story.succeeded()  # now the petition office's reviewers must review the outcome
    with time_machine.travel(referral.due_soon_at + HOUR, tick=False):
        sweep_deadlines()
    assert reminders("deadline_due_soon") == {"reviewer": 1}


def test_an_extension_that_moves_the_deadline_earns_fresh_reminders(people, story):
    referral = story.mediating()
    with time_machine.travel(referral.due_soon_at + HOUR, tick=False):
        sweep_deadlines()
        extended = workflow.extend_referral(
            referral,
            by=people.mediator,
            days=10,
            reason="双方同意延长",
            consents=factories.extension_consents(referral),
        )
    with time_machine.travel(extended.due_soon_at + HOUR, tick=False):
        sweep_deadlines()
        sweep_deadlines()
    assert reminders("deadline_due_soon") == {"mediator": 2}


def test_a_closed_referral_gets_no_reminders(people, story):
    referral = story.closed()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=90), tick=False):
        sweep_deadlines()
    assert not Notification.objects.filter(referral_id=referral.pk, kind__startswith="deadline_").exists()


def test_the_confirmation_window_reminder_is_sent_once(people, story):
    referral = story.succeeded(form="written")
    agreement = referral.agreements.get()
    with time_machine.travel(
        timezone.make_aware(datetime.datetime.combine(agreement.confirmation_deadline, datetime.time(9)))
        - 2 * 24 * HOUR,
        tick=False,
    ):
        run_sweeps()
        run_sweeps()
    assert reminders("confirmation_window") == {"mediator": 1, "officer": 1, "reviewer": 1}


def test_an_unanswered_supervision_order_is_reported_to_its_issuer_once(people, story):
    referral = story.mediating()
    issue_supervision(referral, by=people.supervisor, note="请说明进展。", respond_by=timezone.localdate())
    with time_machine.travel(timezone.now() + 2 * 24 * HOUR, tick=False):
        run_sweeps()
        run_sweeps()
    late = Notification.objects.filter(kind="supervision_response", title__contains="逾期")
    assert [n.recipient.username for n in late] == ["supervisor"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_at_the_same_moment_send_each_reminder_once(committed_people, committed_story):
    people, story = committed_people, committed_story
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to lose")
    referrals = [story.submitted() for _ in range(12)]
    moment = max(r.due_at for r in referrals) + HOUR
    start = threading.Barrier(2)
    sent: list[int] = []
    errors: list[BaseException] = []

    def sweeper() -> None:
        try:
            start.wait()
            sent.append(sweep_deadlines(moment))
        except BaseException as exc:  # reported below: a thread's exception would vanish
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sum(sent) == len(referrals)  # every claim won by exactly one of the two
    per_referral = Counter(
        Notification.objects.filter(kind="deadline_overdue", recipient=people.mediator).values_list(
            "referral_id", flat=True
        )
    )
    assert per_referral == {r.pk: 1 for r in referrals}
    assert DeadlineReminder.objects.count() == len(referrals)
    assert Referral.objects.count() == len(referrals)
