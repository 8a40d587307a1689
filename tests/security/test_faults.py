"""Faults: the database dropping every connection, Redis going away, an import process killed mid-write.

What a user must see in each case: a clear answer (never a half-written referral or roster), and the
system working again by itself once the fault is gone, with no restart.

The database "restart" is made the way clients experience one: every connection to the test database
is terminated and, for the outage, new ones are refused (``ALLOW_CONNECTIONS false``); stopping the
shared cluster itself would also kill the test runner's own connection. Redis goes away behind a TCP
proxy that the test cuts and restores, so the real Redis server is never touched; a Redis that
restarts empty is a private ``redis-server`` of the test's own, killed and started again (where none is
installed, the shared Redis behind the proxy, cut while the test's own keys are deleted).
"""

from __future__ import annotations

import asyncio
import datetime
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager, suppress

import psycopg
import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from django.db import connection

from mediation.notices import Notice as MediationNotice
from notifications.models import Notification
from referrals.models import Handling, TimelineEvent
from tests.conftest import Story, api, make_personas
from tests.fixtures.rosters import builders as b
from tests.notifications.conftest import browser, consumer_shares_test_connection, in_test_thread, session_cookie  # noqa: F401 - fixture
from townships import importers
from townships.models import Mediator, RosterImport

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


# --- The database going away ---------------------------------------------------------------------


def admin_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    params = {k: v for k, v in params.items() if k in ("host", "port", "user", "password")}
    return psycopg.connect(dbname="postgres", autocommit=True, **params)


@contextmanager
def database_down():
    """Drop every connection to the test database and refuse new ones until the block ends."""
    name = connection.settings_dict["NAME"]
    with admin_connection() as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def drop_connections_now() -> None:
    name = connection.settings_dict["NAME"]
    with admin_connection() as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )


def served(response):
    """What the server does after every response (``request_finished``): close a connection that
    failed, so that the pool discards it. Django's test client leaves this out; it is the point here."""
    from django.db import close_old_connections

    close_old_connections()
    return response


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_connections_dropped_in_the_middle_of_a_step_answer_503_write_nothing_and_the_retry_works(monkeypatch):
    people = make_personas()
    referral = Story(people).submitted()
    url = f"/api/referrals/{referral.pk}/actions/accept/"
    body = {"mediators": [people.lead.pk], "rights_explained": True}

    # The database goes away after the step has written its first rows, before it commits.
    # Every step notifies through referrals.steps, after it has written its rows.
    from referrals import steps

    original = steps.notify

    def notify_then_lose_the_database(*args, **kwargs):
        drop_connections_now()
        return original(*args, **kwargs)

    monkeypatch.setattr(steps, "notify", notify_then_lose_the_database)
    client = api(people.mediator)
    client.raise_request_exception = False
    response = client.post(url, body, format="json")
    assert response.status_code == 503, response.content[:300]
    assert response.json()["code"] == "database_unavailable"
    assert "未保存" in response.json()["detail"]
    assert response["Retry-After"]

    monkeypatch.setattr(steps, "notify", original)
    referral.refresh_from_db()
    assert referral.state == "submitted"
    assert not TimelineEvent.objects.filter(referral=referral, action="accept").exists()
    assert not Handling.objects.filter(referral=referral, ended_at__isnull=False).exists()

    # The same button again, as the page tells the user to: it works, once.
    assert client.post(url, body, format="json").status_code == 200
    referral.refresh_from_db()
    assert referral.state == "mediating"
    assert TimelineEvent.objects.filter(referral=referral, action="accept").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_while_the_database_refuses_connections_pages_and_api_say_so_and_recover_by_themselves(client):
    people = make_personas()
    referral = Story(people).submitted()
    client.force_login(people.officer)
    client.raise_request_exception = False
    api_client = api(people.officer)
    api_client.raise_request_exception = False

    with database_down():
        page = served(client.get(f"/referrals/{referral.pk}/"))
        assert page.status_code == 503
        assert "数据库暂时无法连接" in page.content.decode()
        answer = served(api_client.get("/api/referrals/"))
        assert answer.status_code == 503
        assert answer.json()["code"] == "database_unavailable"

    # No restart: the next requests get fresh connections (the pool checks what it lends).
    assert client.get(f"/referrals/{referral.pk}/").status_code == 200
    assert api_client.get("/api/referrals/").status_code == 200


# --- Redis going away ----------------------------------------------------------------------------


def redis_answers(port: int = REDIS_PORT) -> bool:
    try:
        with socket.create_connection((REDIS_HOST, port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class Proxy:
    """A TCP proxy to Redis that can be cut (connections reset, new ones refused) and restored."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.listener: socket.socket | None = None
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                downstream, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                downstream.close()
                continue
            with self.lock:
                self.sockets |= {downstream, upstream}
            threading.Thread(target=self._pump, args=(downstream, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b_: socket.socket) -> None:
        pair = {a: b_, b_: a}
        try:
            while True:
                readable, _, _ = select.select(list(pair), [], [], 0.5)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    pair[source].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for s in pair:
                s.close()

    def cut(self) -> None:
        if self.listener is not None:
            # shutdown() first: close() alone leaves a thread blocked in accept() listening on.
            with suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        with self.lock:
            for s in self.sockets:
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.sockets.clear()


@pytest.fixture
def redis_behind_proxy(settings):
    if not redis_answers():
        pytest.skip(f"needs Redis on {REDIS_HOST}:{REDIS_PORT}")
    proxy = Proxy((REDIS_HOST, REDIS_PORT))
    proxy.start()
    url = f"redis://127.0.0.1:{proxy.port}/9"
    prefix = f"faults-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [url], "prefix": prefix}}
    }
    channel_layers.backends.clear()
    yield proxy
    proxy.cut()
    channel_layers.backends.clear()


@pytest.mark.django_db
@pytest.mark.usefixtures("consumer_shares_test_connection")
def test_with_redis_gone_steps_still_work_and_once_it_is_back_sockets_resync_and_hear_pushes(
    people, story, redis_behind_proxy, django_capture_on_commit_callbacks
):
    proxy = redis_behind_proxy
    proxy.cut()

    # Redis away: the step and the pages that compute deadlines work; the notification is stored.
    with django_capture_on_commit_callbacks(execute=True):
        referral = story.submitted()
        response = api(people.mediator).post(
            f"/api/referrals/{referral.pk}/actions/accept/",
            {"mediators": [people.lead.pk], "rights_explained": True},
            format="json",
        )
    assert response.status_code == 200
    assert api(people.officer).get(f"/api/referrals/{referral.pk}/").status_code == 200
    stored = Notification.objects.filter(recipient=people.officer, referral_id=referral.pk, read_at__isnull=True)
    assert stored.exists()
    unread = Notification.objects.filter(recipient=people.officer, read_at__isnull=True).count()

    proxy.start()
    cookie = session_cookie(people.officer)

    def another_step():
        with django_capture_on_commit_callbacks(execute=True):
            other = story.submitted()
            api(people.mediator).post(
                f"/api/referrals/{other.pk}/actions/decline/", {"reason": "party_refused"}, format="json"
            )
        return other

    async def scenario():
        # The page reconnects: its greeting carries what was stored while pushes could not go out.
        ws, hello = await browser(cookie)
        assert hello == {"type": "hello", "unread": unread}
        other = await in_test_thread(another_step)()
        seen = []
        for _ in range(6):
            message = await ws.receive_json_from(timeout=3)
            seen.append(message)
            if message["type"] == "notification" and message["notification"]["referral"] == other.pk:
                break
        else:
            raise AssertionError(f"no push for the returned referral: {seen}")
        await ws.disconnect()

    async_to_sync(scenario)()


def test_the_cache_answers_a_miss_while_redis_is_away_and_works_again_when_it_returns(redis_behind_proxy):
    from django.core.cache import cache

    proxy = redis_behind_proxy
    cache.set("k", 1)
    assert cache.get("k") == 1
    proxy.cut()
    assert cache.get("k", "miss") == "miss"
    cache.set("k", 2)  # no error: the write is lost, as a cache may lose it
    with pytest.raises(ValueError):
        cache.incr("k")
    proxy.start()
    assert cache.get("k") == 1
    cache.set("k", 3)
    assert cache.get("k") == 3


class PrivateRedis:
    """A redis-server of the test's own, on a free port, that can be restarted empty (no persistence)."""

    def __init__(self, workdir) -> None:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            if redis_answers(port=self.port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # as a crash would: nothing is saved on the way out
            self.process.wait(timeout=10)
            self.process = None

    def restart_empty(self) -> None:
        self.stop()
        self.start()

    def flush(self) -> None:
        """Everything gone, connections kept: what a failover to an empty replica looks like to clients."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(b"FLUSHALL\r\n")
            assert s.recv(16).startswith(b"+OK")


class SharedRedisRestarted:
    """Without redis-server installed: the shared Redis behind the proxy, "restarted empty" by cutting
    every connection and deleting this test's keys (its prefix is its own) before reconnecting."""

    def __init__(self, prefix: str) -> None:
        self.proxy = Proxy((REDIS_HOST, REDIS_PORT))
        self.prefix = prefix
        self.url = f"redis://127.0.0.1:{self.proxy.port}/9"

    def start(self) -> None:
        self.proxy.start()

    def stop(self) -> None:
        self.proxy.cut()

    def restart_empty(self) -> None:
        import redis

        self.proxy.cut()
        with redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=9) as direct:
            for key in direct.scan_iter(match=f"{self.prefix}*"):
                direct.delete(key)
        self.proxy.start()


@pytest.fixture
def restartable_redis(settings, tmp_path):
    """The channel layer on a Redis the test may restart: its own redis-server where one is installed,
    else the shared one behind the proxy (CI's PostgreSQL + Redis run has one or the other)."""
    prefix = f"restart-{uuid.uuid4().hex[:8]}"
    if shutil.which("redis-server"):
        server = PrivateRedis(tmp_path)
    elif redis_answers():
        server = SharedRedisRestarted(prefix)
    else:
        pytest.skip("needs redis-server installed, or Redis on 127.0.0.1:6379")
    server.start()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": server.url, "socket_timeout": 10}], "prefix": prefix},
        }
    }
    channel_layers.backends.clear()
    yield server
    channel_layers.backends.clear()
    server.stop()


def a_notification_for(user, on_commit) -> Callable[[], Notification]:
    from notifications.service import notify

    def send() -> Notification:
        with on_commit(execute=True):
            return notify([user], kind=MediationNotice.SUPERVISION_ORDER, title="督办", body="请回复")[0]

    return send


def until(predicate, seen: list):
    async def wait(ws) -> dict:
        for _ in range(10):
            message = await ws.receive_json_from(timeout=15)
            seen.append(message)
            if predicate(message):
                return message
        raise AssertionError(f"not among what the socket heard: {seen}")

    return wait


@pytest.mark.skipif(
    not (os.environ.get("REDIS_URL") or shutil.which("redis-server")), reason="needs Redis (REDIS_URL) or redis-server"
)
@pytest.mark.django_db
@pytest.mark.usefixtures("consumer_shares_test_connection")
def test_a_socket_opened_before_redis_restarts_empty_resyncs_and_hears_pushes_sent_after_it(
    people, restartable_redis, django_capture_on_commit_callbacks
):
    cookie = session_cookie(people.officer)
    send = a_notification_for(people.officer, django_capture_on_commit_callbacks)
    seen: list[dict] = []

    async def scenario():
        ws, hello = await browser(cookie)
        assert hello["type"] == "hello"
        await asyncio.to_thread(restartable_redis.restart_empty)
        # The page is told to read everything again (what happened while Redis was away) ...
        await until(lambda m: m["type"] == "hello", seen)(ws)
        # ... and hears what is pushed from now on, although its group memberships died with Redis.
        row = await in_test_thread(send)()
        await until(lambda m: m["type"] == "notification" and m["notification"]["id"] == row.pk, seen)(ws)
        await ws.disconnect()

    async_to_sync(scenario)()


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")
@pytest.mark.django_db
@pytest.mark.usefixtures("consumer_shares_test_connection")
def test_a_socket_whose_groups_vanished_from_redis_without_a_disconnect_rejoins_and_resyncs(
    people, restartable_redis, django_capture_on_commit_callbacks, monkeypatch
):
    from notifications import consumers

    monkeypatch.setattr(consumers, "REJOIN_SECONDS", 0.5)
    cookie = session_cookie(people.officer)
    send = a_notification_for(people.officer, django_capture_on_commit_callbacks)
    seen: list[dict] = []

    async def scenario():
        ws, _ = await browser(cookie)
        restartable_redis.flush()  # the receive loop never fails: only the periodic rejoin can notice
        await until(lambda m: m["type"] == "hello", seen)(ws)
        row = await in_test_thread(send)()
        await until(lambda m: m["type"] == "notification" and m["notification"]["id"] == row.pk, seen)(ws)
        await ws.disconnect()

    async_to_sync(scenario)()


# --- An import process killed in the middle of writing -------------------------------------------

CHILD = r"""
import os, signal, sys
import django
django.setup()
from townships import importers

real_insert = importers.RosterImporter._insert

def insert_then_die(self, candidates):
    real_insert(self, candidates)  # the rows are in the table, inside the import's transaction
    print(f"inserted {len(candidates)} rows; killed before commit", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

importers.RosterImporter._insert = insert_then_die
importers.execute_roster_import(int(sys.argv[1]))
print("finished without being killed")
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_killed_mid_write_leaves_nothing_and_is_reported_failed_then_may_be_applied_again(
    settings, tmp_path, monkeypatch
):
    people = make_personas()
    settings.MEDIA_ROOT = str(tmp_path)
    # Leave the batch queued, for the child process to run (a small file would run inline).
    monkeypatch.setattr(importers, "run_or_enqueue", lambda record: record)
    rows = [b.person(i) for i in range(1, 301)]
    data = b.xlsx_bytes(rows)
    record = importers.start_roster_import(user=people.supervisor, upload=b.upload("花名册.xlsx", data), dry_run=False)
    before = Mediator.objects.count()

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict),
        "MEDIA_ROOT": str(tmp_path),
        "DEBUG": "1",
    }
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(record.pk)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr[-2000:]
    assert "inserted 300 rows" in child.stdout

    assert Mediator.objects.count() == before  # the transaction died with the process
    record.refresh_from_db()
    assert record.status == RosterImport.Status.RUNNING  # nobody is left to say otherwise ...
    assert importers.reap_stalled_imports(record.started_at + importers.STALLED_AFTER / 2) == 0
    assert importers.reap_stalled_imports(record.started_at + importers.STALLED_AFTER * 2) == 1  # ... but the sweep
    record.refresh_from_db()
    assert record.status == RosterImport.Status.FAILED
    assert "中断" in record.detail

    # The user imports the same file again: it is written in full, once.
    again = importers.start_roster_import(user=people.supervisor, upload=b.upload("花名册.xlsx", data), dry_run=False)
    assert importers.execute_roster_import(again.pk).status == RosterImport.Status.SUCCEEDED
    assert Mediator.objects.count() == before + len(rows)


@pytest.mark.django_db
def test_the_minute_sweep_fails_a_batch_whose_process_died_and_leaves_a_live_one_alone(people):
    from django.utils import timezone

    from referrals.reminders import run_sweeps

    now = timezone.now()

    def batch(started_minutes_ago: int) -> RosterImport:
        return RosterImport.objects.create(
            created_by=people.supervisor,
            file_name="花名册.xlsx",
            dry_run=False,
            status=RosterImport.Status.RUNNING,
            started_at=now - datetime.timedelta(minutes=started_minutes_ago),
        )

    dead, alive = batch(31), batch(5)
    assert run_sweeps(now)["stalled_roster_imports"] == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.status, alive.status) == (RosterImport.Status.FAILED, RosterImport.Status.RUNNING)
    assert dead.finished_at == now and "中断" in dead.detail
