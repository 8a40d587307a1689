"""Sending through a real (fake) HTTP gateway: success, the gateway down and back, no double
sending, giving up, quiet hours, the daily cap and opt-outs (docs/sms.md)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from messaging import sender
from messaging.backends import get_backend
from messaging.models import Message, OptOut
from tests.messaging.conftest import local

pytestmark = pytest.mark.django_db
LATER = datetime.timedelta(hours=3)


def test_after_commit_the_messages_go_to_the_gateway_once(
    people, story, gateway, daytime, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        referral = story.submitted()
    rows = Message.objects.filter(referral=referral)
    assert {m.status for m in rows} == {"sent"}
    assert sorted(m["to"] for m in gateway.accepted) == sorted(m.to for m in rows)
    first = gateway.accepted[0]
    assert first["template_id"] == "TPL-1" and referral.number in first["text"]
    assert first["reference"].startswith("fangdiao-")
    assert gateway.headers[0]["Authorization"] == "Bearer test-token"
    assert all(m.provider_message_id.startswith("gw-") and m.attempts == 1 and m.sent_at for m in rows)
    # A later run has nothing left to send.
    assert sender.send_due(timezone.now() + LATER) == 0
    assert len(gateway.accepted) == 2


def test_basic_authentication_when_no_token(people, story, gateway, daytime, settings):
    settings.SMS_HTTP_TOKEN = ""
    settings.SMS_HTTP_USER, settings.SMS_HTTP_PASSWORD = "city", "secret"
    story.submitted()
    assert sender.send_due() == 2
    assert gateway.headers[0]["Authorization"] == "Basic Y2l0eTpzZWNyZXQ="


@pytest.mark.parametrize("how", ["stopped", "503"])
def test_gateway_down_then_up_keeps_the_messages_and_sends_each_once(
    people, story, gateway, daytime, django_capture_on_commit_callbacks, how
):
    if how == "stopped":
        gateway.stop()
    else:
        gateway.status = 503
    with django_capture_on_commit_callbacks(execute=True):
        referral = story.submitted()  # the immediate send after commit fails
    rows = Message.objects.filter(referral=referral).order_by("pk")
    # The send right after the step stops at the first failure (the request waits for one at most).
    assert [(m.status, m.attempts) for m in rows] == [("failed", 1), ("queued", 0)]
    assert rows[0].last_error
    assert rows[0].next_attempt_at > timezone.now() + datetime.timedelta(seconds=50)  # back-off: not at once

    # Still down at the next run of the sweep: one more attempt each, and a longer wait.
    daytime.move_to(rows[0].next_attempt_at + datetime.timedelta(seconds=1))
    assert sender.send_due() == 0
    assert [(m.status, m.attempts) for m in rows.all()] == [("failed", 2), ("failed", 1)]
    assert all(m.last_error for m in rows.all())
    assert rows.all()[0].next_attempt_at - timezone.now() > datetime.timedelta(seconds=110)

    # Back up: the next run sends them, once.
    if how == "stopped":
        gateway.start()
    else:
        gateway.status = 200
    assert sender.send_due() == 0  # not due yet: the back-off holds
    daytime.move_to(timezone.now() + datetime.timedelta(minutes=5))
    assert sender.send_due() == 2
    assert [(m.status, m.attempts) for m in rows.all()] == [("sent", 3), ("sent", 2)]
    assert sender.send_due(timezone.now() + LATER) == 0
    assert sorted(m["to"] for m in gateway.accepted) == sorted(m.to for m in rows)


def test_three_gateway_failures_in_a_row_end_a_run(people, story, gateway, daytime):
    gateway.status = 503
    story.submitted()
    story.submitted()
    assert sender.send_due() == 0
    assert gateway.requests == 3
    assert Message.objects.filter(attempts=0).count() == 1


def test_after_the_last_attempt_the_message_is_given_up(people, story, gateway, daytime, settings):
    settings.SMS_MAX_ATTEMPTS = 3
    gateway.status = 503
    referral = story.submitted()
    for _ in range(5):
        sender.send_due(timezone.now() + datetime.timedelta(days=1))
        daytime.shift(datetime.timedelta(seconds=1))
    rows = Message.objects.filter(referral=referral)
    assert {(m.status, m.attempts) for m in rows} == {("gave_up", 3)}
    assert gateway.requests == 6
    assert "503" in rows.first().last_error


def test_a_number_the_gateway_refuses_is_given_up_at_once(people, story, gateway, daytime):
    gateway.status = 400
    referral = story.submitted()
    sender.send_due()
    assert {(m.status, m.attempts) for m in Message.objects.filter(referral=referral)} == {("gave_up", 1)}


def test_a_sender_that_read_a_message_another_sent_meanwhile_does_not_send_it_again(people, story, gateway, daytime):
    """Two senders on the same rows: B runs while A is at the gateway with its first message; A then
    finds the rows it read have moved on (the claim's conditional UPDATE matches nothing)."""
    referral = story.submitted()
    story.submitted()
    real = get_backend()
    interleaved = []

    class SenderA:
        def send(self, **message):
            if not interleaved:
                interleaved.append(sender.send_due())  # sender B, same moment, same rows
            return real.send(**message)

    now = timezone.now()
    batch = list(Message.objects.filter(status="queued").order_by("pk"))
    assert len(batch) == 4
    outcomes = [sender.send_one(m, now, SenderA()) for m in batch]
    assert interleaved == [3]  # B sent the three A had not claimed yet
    assert outcomes == ["sent", "skipped", "skipped", "skipped"]
    assert sorted(m["to"] for m in gateway.accepted) == sorted(m.to for m in batch)
    assert Message.objects.filter(status="sent", attempts=1).count() == 4
    assert Message.objects.filter(referral=referral).count() == 2


def test_quiet_hours_hold_messages_until_eight(people, story, gateway):
    with time_machine.travel(local(22, 30), tick=False):
        referral = story.submitted()
        assert sender.send_due() == 0
    rows = Message.objects.filter(referral=referral)
    assert {m.next_attempt_at for m in rows} == {local(8, days=1)}
    with time_machine.travel(local(7, 59, days=1), tick=False):
        assert sender.send_due() == 0
    with time_machine.travel(local(8, 0, days=1), tick=False):
        assert sender.send_due() == 2
    assert len(gateway.accepted) == 2


def test_a_retry_that_falls_in_the_quiet_hours_waits_for_their_end(people, story, gateway):
    gateway.status = 503
    with time_machine.travel(local(20, 59), tick=False):
        referral = story.submitted()
        sender.send_due()
    assert {m.next_attempt_at for m in Message.objects.filter(referral=referral)} == {local(8, days=1)}


def test_a_number_gets_at_most_the_daily_cap(people, story, gateway, daytime, settings):
    settings.SMS_DAILY_CAP = 2
    shared = "13912345678"
    for _ in range(3):
        draft = story.draft()
        draft.parties.update(phone=shared)
        from referrals import workflow

        workflow.submit_referral(draft, by=people.officer)
    assert Message.objects.filter(to=shared).count() == 3
    assert sender.send_due() == 2
    held = Message.objects.get(to=shared, status="queued")
    assert held.attempts == 0 and held.next_attempt_at == local(8, days=1)
    with time_machine.travel(local(8, 0, days=1), tick=False):
        assert sender.send_due() == 1
    assert len(gateway.texts_to(shared)) == 3


def test_a_number_that_opts_out_before_sending_gets_nothing(people, story, gateway, daytime):
    referral = story.submitted()
    number = Message.objects.filter(referral=referral).first().to
    OptOut.objects.create(number=number)
    assert sender.send_due() == 1
    assert Message.objects.get(to=number).status == "gave_up"
    assert gateway.texts_to(number) == []


def test_the_console_backend_logs_and_writes_var_sms_log(people, story, daytime, settings, caplog):
    referral = story.submitted()
    with caplog.at_level("INFO", logger="messaging.backends"):
        assert sender.send_due() == 2
    lines = Path(settings.SMS_CONSOLE_FILE).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and all(referral.number in line for line in lines)
    to = Message.objects.filter(referral=referral).first().to
    assert to not in "\n".join(lines) and to[:3] + "****" + to[-4:] in "\n".join(lines)
    assert "SMS" in caplog.text


def test_the_minute_sweep_sends_what_is_due(people, story, gateway, daytime):
    from referrals.reminders import run_sweeps

    story.submitted()
    assert run_sweeps()["sms"] == 2


def test_the_command_sends_what_is_due(people, story, gateway, daytime):
    from io import StringIO

    from django.core.management import call_command

    story.submitted()
    out = StringIO()
    call_command("send_messages", stdout=out)
    assert out.getvalue().strip() == "sent=2"
