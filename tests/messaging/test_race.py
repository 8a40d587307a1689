"""Two senders in two threads at once, on PostgreSQL (SQLite serialises writers: there is no race to
lose there; test_sender.py interleaves two senders on any database instead)."""

from __future__ import annotations

import threading

import pytest
import time_machine
from django.db import connection, connections

from messaging import sender
from messaging.models import Message
from tests.messaging.conftest import local
from tests.messaging.gateway import FakeGateway


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_senders_racing_in_threads_send_each_message_once(committed_story, settings):
    gateway = FakeGateway().start()
    gateway.delay = 0.02
    settings.SMS_BACKEND, settings.SMS_HTTP_URL = "http", gateway.url
    try:
        with time_machine.travel(local(10), tick=True):
            for _ in range(10):
                committed_story.submitted()
            start = threading.Barrier(2)
            errors: list[BaseException] = []

            def run() -> None:
                try:
                    start.wait()
                    sender.send_due()
                except BaseException as exc:
                    errors.append(exc)
                finally:
                    connections.close_all()

            threads = [threading.Thread(target=run) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        assert not errors
        assert connection.vendor == "postgresql"
        assert Message.objects.filter(status="sent", attempts=1).count() == 20
        assert gateway.requests == 20
        assert len({m["reference"] for m in gateway.accepted}) == 20
    finally:
        gateway.stop()
