"""The embedded (`make run`) mode: the server process itself runs the reminder sweep (config/asgi.py)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.db import connections

import referrals.reminders
from config.asgi import application

pytestmark = pytest.mark.django_db


class Sweep:
    """One recorded sweep: the thread's database connection, and whether it was closed afterwards."""

    def __init__(self) -> None:
        self.conn = connections["default"]
        self.closed = False
        close = self.conn.close

        def closing() -> None:
            # Noted rather than observed: SQLite ignores closing the in-memory test database.
            self.closed = True
            close()

        self.conn.close = closing


@pytest.fixture
def sweeps(monkeypatch):
    """Replace the sweep with a recorder of the thread and connection it ran with."""
    calls: list[Sweep] = []

    def fake_run_sweeps():
        connections["default"].ensure_connection()  # what a real sweep does first
        calls.append(Sweep())
        if len(calls) == 1:
            raise RuntimeError("the first sweep fails")
        return {}

    monkeypatch.setattr(referrals.reminders, "run_sweeps", fake_run_sweeps)
    return calls


async def serve_for(seconds: float) -> None:
    server = ApplicationCommunicator(application, {"type": "lifespan"})
    await server.send_input({"type": "lifespan.startup"})
    assert await server.receive_output(timeout=2) == {"type": "lifespan.startup.complete"}
    await asyncio.sleep(seconds)
    await server.send_input({"type": "lifespan.shutdown"})
    assert await server.receive_output(timeout=2) == {"type": "lifespan.shutdown.complete"}


def test_the_server_sweeps_every_interval_even_after_a_failed_sweep(settings, sweeps):
    settings.REMINDER_LOOP_IN_SERVER = True
    settings.REMINDER_INTERVAL_SECONDS = 0.05
    async_to_sync(serve_for)(0.4)
    assert len(sweeps) >= 3
    stopped_at = len(sweeps)
    async_to_sync(asyncio.sleep)(0.2)
    assert len(sweeps) == stopped_at  # shutdown stopped the loop


def test_each_sweep_gives_its_database_connection_back(settings, sweeps):
    # A sweep runs in a worker thread; a connection left open there is never reused by requests
    # and, with PostgreSQL's pool, would hold a pooled connection for ever.
    settings.REMINDER_LOOP_IN_SERVER = True
    settings.REMINDER_INTERVAL_SECONDS = 0.05
    async_to_sync(serve_for)(0.3)
    assert sweeps
    assert all(sweep.closed for sweep in sweeps)


def test_with_redis_the_separate_command_sweeps_and_the_server_does_not(settings, sweeps):
    settings.REMINDER_LOOP_IN_SERVER = False
    settings.REMINDER_INTERVAL_SECONDS = 0.05
    async_to_sync(serve_for)(0.2)
    assert sweeps == []


def test_the_loop_does_not_run_in_the_test_thread(settings, monkeypatch):
    threads: list[int] = []
    monkeypatch.setattr(referrals.reminders, "run_sweeps", lambda: threads.append(threading.get_ident()) or {})
    settings.REMINDER_LOOP_IN_SERVER = True
    settings.REMINDER_INTERVAL_SECONDS = 0.05
    async_to_sync(serve_for)(0.15)
    # A sweep of many referrals must not block the thread that serves every synchronous view.
    assert threads
    assert threading.get_ident() not in threads
