"""Notifications from commit to a connected WebSocket client, with 100 and 1,000 sockets open.

docs/architecture.md#performance-budgets: p95 ≤ 500 ms from commit to a connected browser with 1,000 open sockets.

How to call it
--------------
::

    python -m bench.notifications [--quick] [--n 100 1000] [--no-what-if]

The last stdout line is ``{"section": {...}}`` (``bench.common.emit``). It needs PostgreSQL and
Redis on loopback and no environment of its own: the measuring runs in a child process (``--step``)
whose environment is built here (``bench._procs.clean_env``: production settings, DEBUG off, the
caller's DATABASE_URL/REDIS_URL are not inherited):

- PostgreSQL database ``fangdiao_bench_ws`` (dropped and recreated each run);
- Redis ``redis://127.0.0.1:6379/9`` with the prefix ``fdbench-ws`` for the channel layer and the
  cache (its keys are deleted at the end; nothing else in that database is touched);
- uvicorn (``config.asgi:application``, 2 workers, ``--ws websockets-sansio``, lifespan on) on a
  free port of 127.0.0.1, in its own process group, stopped at the end whatever happens.

When Redis or PostgreSQL does not answer, the section says so and has no figures.

``--quick``: 20 personal notifications and 3 organisation-wide rounds per N instead of 50 and 6,
6 s of quiet instead of 11, no what-if run (≈ 55 s). Full ≈ 2 minutes, of which the what-if run
(the same at N = 1,000 with ``bench/_ws_settings.py``: the Redis layer sized for 1,000 sockets;
``--no-what-if`` skips it) is about 45 s.

What is measured (one process holds every client: the ``websockets`` package on one asyncio loop):

- N users, members (role mediator) of one committee, each with an API token; each client connects
  to ``/ws/notifications/`` and authenticates with ``{"type": "auth", "token": ...}`` (docs/api.md#websocket).
- personal: ``notifications.service.notify([user])`` inside ``transaction.atomic()`` in this
  process (same PostgreSQL and Redis layer as the server), one user at a time, spread over the N.
- organisation-wide: ``notify()`` to all N members at once (N personal messages), and
  ``broadcast_referral_changed`` to the committee (one message to the organisation's group).
- latency: from the COMMIT (an ``on_commit`` hook registered before ``notify``'s own, so it runs
  first, right after the database commits) to the moment the client's coroutine has the message.
  ``notify`` pushes in its ``on_commit`` hook, so "commit" is before the push, not after it.
- reference: a bare channels-redis round trip measured in this process (``group_add``,
  ``group_send``, ``receive`` on one channel), and the same fan-out to a group of N channels.
- losses: a message not delivered counts as lost (and how many channels-redis reported dropping as
  "over capacity"); at the end, a few seconds of quiet, counting the sockets the server closes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import resource
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import _procs
from bench.common import OUT, ROOT, Figure, Section, emit, percentile, redis_available

HERE = OUT / "notifications"
PG_URL = "postgres://postgres@127.0.0.1:5432/fangdiao_bench_ws"
REDIS_URL = "redis://127.0.0.1:6379/9"
REDIS_PREFIX = "fdbench-ws"
COMMITTEE = ("环市街道人民调解委员会", "440703006")
BUDGET_MS = 500.0
CONNECT_CONCURRENCY = 50


def _env(settings: str = "config.settings") -> dict[str, str]:
    return _procs.clean_env(
        DJANGO_SETTINGS_MODULE=settings,
        DATABASE_URL=PG_URL,
        REDIS_URL=REDIS_URL,
        REDIS_PREFIX=REDIS_PREFIX,
        VAR_DIR=str(HERE / "var"),
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    )


def raise_nofile() -> tuple[int, int]:
    """Soft open-file limit up to the hard one (each socket is a file); returns (soft, hard) after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def _stats(samples: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(samples, 0.50), 1),
        "p95": round(percentile(samples, 0.95), 1),
        "p99": round(percentile(samples, 0.99), 1),
        "max": round(max(samples), 1) if samples else float("nan"),
        "count": len(samples),
    }


# --- People (synchronous Django, before the loop starts) --------------------------------------------


def prepare_people(n: int) -> tuple[int, list[tuple[int, str]]]:
    """N mediators of one committee with tokens, in bulk; their groups exactly as the signals make them.

    ``Membership.objects.bulk_create`` sends no ``post_save``, so the group the signal would sync
    (``org<id>.mediator``, holding the guardian grants) is synced once and the users are added to it
    in bulk; the first user is checked against ``sync_user_groups`` to prove it is the same.
    """
    import secrets

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from accounts import tokens
    from accounts.models import ApiToken
    from townships.models import Membership, Organisation
    from townships.roles import sync_role_group, sync_user_groups

    User = get_user_model()
    committee = Organisation.objects.get(name=COMMITTEE[0], region__code=COMMITTEE[1])
    users = list(User.objects.filter(username__startswith="bench-ws-").order_by("username")[:n])
    if len(users) < n:
        unusable = make_password(None)
        with transaction.atomic():
            users = User.objects.bulk_create(
                [User(username=f"bench-ws-{i:04d}", first_name=f"调解员{i}", password=unusable) for i in range(n)]
            )
            Membership.objects.bulk_create([Membership(user=u, organisation=committee, role="mediator") for u in users])
            group = sync_role_group(committee, "mediator")
            User.groups.through.objects.bulk_create([User.groups.through(user=u, group=group) for u in users])
        first = users[0]
        before = set(first.groups.values_list("pk", flat=True))
        sync_user_groups(first)
        if set(first.groups.values_list("pk", flat=True)) != before:
            raise RuntimeError("bulk-created memberships do not match what the signal makes")
    # Keys are kept hashed only (accounts/tokens.py): each run makes its own, as a client would get them.
    keys = [secrets.token_hex(tokens.KEY_BYTES) for _ in users]
    expires = timezone.now() + tokens.lifetime()
    with transaction.atomic():
        ApiToken.objects.filter(user__in=users, name="bench").delete()
        ApiToken.objects.bulk_create(
            [
                ApiToken(
                    user=u,
                    name="bench",
                    prefix=k[: tokens.PREFIX_LENGTH],
                    key_hash=tokens.digest(k),
                    expires_at=expires,
                )
                for u, k in zip(users, keys, strict=True)
            ]
        )
    return committee.pk, [(u.pk, k) for u, k in zip(users, keys, strict=True)]


# --- The server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("w")
    return subprocess.Popen(
        _procs.serve_command(port, 2),
        cwd=ROOT,
        # The settings this process runs with (the what-if passes bench._ws_settings to both ends).
        env=_env(os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings")),
        stdout=handle,
        stderr=subprocess.STDOUT,
        preexec_fn=raise_nofile,  # only sets a limit, between fork and exec
        start_new_session=True,  # its own process group: the workers go with it
    )


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM to uvicorn's supervisor (it stops its workers), then SIGKILL to the group if need be."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)
    # A worker outliving its supervisor would keep the port and its sockets.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)


# --- Clients ---------------------------------------------------------------------------------------


class OverCapacity(logging.Handler):
    """Counts channels-redis's "N of M channels over capacity" reports (messages it dropped)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.dropped = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "over capacity" in record.getMessage():
            self.dropped += int(record.args[0]) if record.args else 1


class Arrivals:
    """When each awaited message reached its client (perf_counter, this process's clock)."""

    def __init__(self) -> None:
        self.at: dict[tuple, float] = {}
        self.closed_by_server: dict[int, int | None] = {}  # client index → close code
        self.closing = False

    def note(self, index: int, raw: str | bytes) -> None:
        now = time.perf_counter()
        message = json.loads(raw)
        kind = message.get("type")
        if kind == "notification":
            self.at[("n", message["notification"]["id"])] = now
        elif kind == "referral.changed":
            self.at[("r", message["referral"], index)] = now

    async def wait(self, keys: list[tuple], idle: float = 3.0) -> list[float | None]:
        """Arrival times of ``keys`` (None: lost), once all are in or none came for ``idle`` seconds."""
        seen, progress = -1, time.perf_counter()
        while True:
            count = sum(k in self.at for k in keys)
            if count == len(keys):
                break
            if count != seen:
                seen, progress = count, time.perf_counter()
            elif time.perf_counter() - progress > idle:
                break
            await asyncio.sleep(0.005)
        return [self.at.pop(k, None) for k in keys]


async def open_client(url: str, token: str, index: int, arrivals: Arrivals):
    """Connect, authenticate by first message, wait for hello; then note every message that arrives."""
    from websockets.asyncio.client import connect

    started = time.perf_counter()
    ws = await connect(url, open_timeout=30, max_queue=None)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
    if hello.get("type") != "hello":
        raise RuntimeError(f"client {index}: expected hello, got {hello}")
    took = time.perf_counter() - started

    async def read() -> None:
        with contextlib.suppress(Exception):
            async for raw in ws:
                arrivals.note(index, raw)
        if not arrivals.closing:
            arrivals.closed_by_server[index] = ws.close_code

    task = asyncio.create_task(read())
    return ws, task, took


async def connect_all(url: str, people: list[tuple[int, str]], first: int, arrivals: Arrivals, clients: list):
    semaphore = asyncio.Semaphore(CONNECT_CONCURRENCY)
    times: list[float] = []

    async def one(index: int, token: str) -> None:
        async with semaphore:
            ws, task, took = await open_client(url, token, index, arrivals)
        clients.append((ws, task))
        times.append(took * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(one(first + i, token) for i, (_pk, token) in enumerate(people)))
    return times, (time.perf_counter() - started) * 1000


async def wait_for_server(url: str, token: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {server.returncode}; see its log in {HERE}")
        try:
            ws, task, _took = await open_client(url, token, -1, Arrivals())
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)
            continue
        task.cancel()
        await ws.close()
        return


# --- Firing (Django, synchronous, in one worker thread) ----------------------------------------------


def fire_notify(user_ids: list[int], title: str) -> tuple[list[int], float, float]:
    """notify() in a transaction; (notification ids, commit time, end of the atomic block)."""
    from django.db import transaction

    from notifications.service import notify

    stamp: list[float] = []
    with transaction.atomic():
        # Registered before notify's own hook, so it runs first: the moment of COMMIT.
        transaction.on_commit(lambda: stamp.append(time.perf_counter()))
        rows = notify(user_ids, kind="supervision_order", title=title, body="请于今日内回复。", url="/referrals/")
    after = time.perf_counter()
    return [r.pk for r in rows], stamp[0], after


def fire_broadcast(organisation_id: int, referral_id: int) -> tuple[float, float]:
    from django.db import transaction

    from notifications.service import broadcast_referral_changed

    stamp: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: stamp.append(time.perf_counter()))
        broadcast_referral_changed([organisation_id], referral_id, "mediating")
    return stamp[0], time.perf_counter()


def close_db() -> None:
    from django.db import connections

    connections.close_all()


# --- Reference: channels-redis alone ---------------------------------------------------------------


async def bare_layer(n_channels: int, repeat: int) -> tuple[list[float], list[float]]:
    """group_send → receive in this process: one channel (round trip), then a group of N (fan-out)."""
    from channels_redis.core import RedisChannelLayer

    layer = RedisChannelLayer(hosts=[REDIS_URL], prefix=f"{REDIS_PREFIX}-ref")
    one = await layer.new_channel()
    await layer.group_add("bench.one", one)
    single: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        await layer.group_send("bench.one", {"type": "bench.ping"})
        await layer.receive(one)
        single.append((time.perf_counter() - started) * 1000)
    await layer.group_discard("bench.one", one)
    channels = [await layer.new_channel() for _ in range(n_channels)]
    for channel in channels:
        await layer.group_add("bench.many", channel)
    fan: list[float] = []
    for _ in range(max(3, repeat // 20)):
        started = time.perf_counter()
        await layer.group_send("bench.many", {"type": "bench.ping"})

        async def receive(channel: str, started: float = started) -> float:
            await layer.receive(channel)
            return (time.perf_counter() - started) * 1000

        fan += await asyncio.gather(*(receive(c) for c in channels))
    for channel in channels:
        await layer.group_discard("bench.many", channel)
    await layer.flush()
    await layer.close_pools()
    return single, fan


# --- The measuring child ---------------------------------------------------------------------------


async def measure(
    ns: list[int], personal_repeat: int, org_repeat: int, idle: float, limits: tuple[int, int], log: Path
) -> dict:
    committee_id, people = await asyncio.to_thread(_prepare, max(ns))
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ws/notifications/"
    server = start_server(port, log)
    clients: list = []
    arrivals = Arrivals()
    django = ThreadPoolExecutor(max_workers=1, thread_name_prefix="django")
    loop = asyncio.get_running_loop()
    results: dict = {"limits": limits, "per_n": {}}
    # The sender's layer decides what is dropped (it runs the capacity check); count what it reports.
    over = OverCapacity()
    layer_log = logging.getLogger("channels_redis.core")
    layer_log.addHandler(over)
    layer_log.setLevel(logging.INFO)
    layer_log.propagate = False

    def lost(times: list[float | None]) -> int:
        return sum(t is None for t in times)

    try:
        await wait_for_server(url, people[0][1], server)
        connected = 0
        for n in sorted(ns):
            connect_ms, connect_total = await connect_all(url, people[connected:n], connected, arrivals, clients)
            connected = n
            await asyncio.sleep(0.5)  # let the last group_adds settle
            out: dict = {"connect": _stats(connect_ms), "connect_total_ms": round(connect_total)}
            closed_before = len(arrivals.closed_by_server)

            # Personal: one user at a time, spread over everyone connected.
            personal, pushing, personal_lost = [], [], 0
            for i in range(personal_repeat):
                user_id = people[(i * 7919) % n][0]
                ids, committed, after = await loop.run_in_executor(django, fire_notify, [user_id], f"督办 {n}-{i}")
                (arrived,) = await arrivals.wait([("n", ids[0])])
                if arrived is None:
                    personal_lost += 1
                else:
                    personal.append((arrived - committed) * 1000)
                pushing.append((after - committed) * 1000)
                await asyncio.sleep(0.02)
            out["personal"] = _stats(personal) | {"lost": personal_lost, "sent": personal_repeat}
            out["personal_push_in_commit_hook"] = _stats(pushing)

            # Organisation-wide: notify() to all N members (N messages), then one group broadcast.
            everyone = [pk for pk, _token in people[:n]]
            dropped_before = over.dropped
            org, last, org_push, org_lost = [], [], [], 0
            for i in range(org_repeat):
                ids, committed, after = await loop.run_in_executor(django, fire_notify, everyone, f"全员通知 {n}-{i}")
                times = await arrivals.wait([("n", pk) for pk in ids])
                org_lost += lost(times)
                got = [(t - committed) * 1000 for t in times if t is not None]
                org += got
                if got:
                    last.append(max(got))
                org_push.append((after - committed) * 1000)
                await asyncio.sleep(0.5)
            out["org_notify"] = _stats(org) | {
                "lost": org_lost,
                "sent": n * org_repeat,
                "dropped_over_capacity": over.dropped - dropped_before,
            }
            out["org_notify_last"] = _stats(last)
            out["org_notify_push_in_commit_hook"] = _stats(org_push)

            dropped_before = over.dropped
            broadcast, broadcast_last, broadcast_lost = [], [], 0
            for i in range(org_repeat):
                referral_id = 9_000_000 + n * 100 + i
                committed, _after = await loop.run_in_executor(django, fire_broadcast, committee_id, referral_id)
                times = await arrivals.wait([("r", referral_id, index) for index in range(n)])
                broadcast_lost += lost(times)
                got = [(t - committed) * 1000 for t in times if t is not None]
                broadcast += got
                if got:
                    broadcast_last.append(max(got))
                await asyncio.sleep(0.5)
            out["broadcast"] = _stats(broadcast) | {
                "lost": broadcast_lost,
                "sent": n * org_repeat,
                "dropped_over_capacity": over.dropped - dropped_before,
            }
            out["broadcast_last"] = _stats(broadcast_last)
            out["closed_by_server"] = len(arrivals.closed_by_server) - closed_before

            single, fan = await bare_layer(n, 200 if personal_repeat >= 50 else 100)
            out["bare_round_trip"] = _stats(single)
            out["bare_fan_out"] = _stats(fan)
            results["per_n"][str(n)] = out
        # Quiet: nothing is sent; a healthy server keeps every socket open.
        before = len(arrivals.closed_by_server)
        await asyncio.sleep(idle)
        results["idle"] = {
            "seconds": idle,
            "open": connected - before,
            "closed": len(arrivals.closed_by_server) - before,
        }
        results["server_alive"] = server.poll() is None
        results["closed_total"] = len(arrivals.closed_by_server)
        results["close_codes"] = sorted({str(c) for c in arrivals.closed_by_server.values()})
    finally:
        arrivals.closing = True
        await _close_clients(clients)
        stop_server(server)
        await loop.run_in_executor(django, close_db)
        django.shutdown(wait=True)
        results["redis_keys_deleted"] = _procs.forget_redis_keys(REDIS_URL, REDIS_PREFIX)
    results["server_errors"] = _server_errors(log)
    return results


def _server_errors(log: Path) -> dict[str, int]:
    """The exceptions uvicorn logged, by their last line (e.g. redis.exceptions.TimeoutError)."""
    counts: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        if line and not line.startswith((" ", "Traceback", "During", "The above", "ERROR:", "INFO:", "WARNING:")):
            name = line.split(":", 1)[0]
            if "Error" in name or "Exception" in name:
                counts[name] = counts.get(name, 0) + 1
    return counts


def _prepare(n: int):
    try:
        return prepare_people(n)
    finally:
        close_db()


async def _close_clients(clients: list) -> None:
    for _ws, task in clients:
        task.cancel()

    async def close(ws) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 5)

    # In small batches: a thousand consumers leaving their groups at once exhausts the server's
    # Redis pool (see the notes), which is not what this benchmark measures.
    for start in range(0, len(clients), 50):
        await asyncio.gather(*(close(ws) for ws, _task in clients[start : start + 50]))
        await asyncio.sleep(0.05)


def run_step(ns: list[int], personal_repeat: int, org_repeat: int, idle: float, label: str) -> dict:
    from bench.common import django_setup

    limits = raise_nofile()
    django_setup()

    # SIGTERM (the orchestrator giving up) must still run the clean-up in ``measure``'s finally.
    def stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    return asyncio.run(measure(ns, personal_repeat, org_repeat, idle, limits, HERE / f"server-{label}.log"))


# --- The parent ------------------------------------------------------------------------------------


def _figure(name: str, stats: dict, reference: dict, *, budget: bool, note: str = "") -> Figure:
    lost = stats.get("lost", 0)
    verdict = ""
    if budget:
        verdict = "met" if stats["p95"] <= BUDGET_MS and not lost else "missed"
    if lost:
        dropped = stats.get("dropped_over_capacity", 0)
        why = f" ({dropped} dropped by channels-redis as over capacity)" if dropped else ""
        note = f"LOST {lost} of {stats['sent']} messages{why}; " + note
    return Figure(
        name=name,
        median=stats["p50"],
        p95=stats["p95"],
        reference_name="bare channels-redis group_send → receive, in-process",
        reference_median=reference["p50"],
        budget=f"p95 ≤ {BUDGET_MS:.0f} ms, none lost" if budget else "",
        verdict=verdict,
        note=note,
        extra={"p99": stats["p99"], "max": stats["max"], "samples": stats["count"], "lost": lost},
    )


def _figures(data: dict, ns: list[int], prefix: str, *, budgets: bool) -> list[Figure]:
    figures: list[Figure] = []
    biggest = max(ns)
    for n in sorted(ns):
        out = data["per_n"][str(n)]
        ref = out["bare_round_trip"]
        budget = budgets and n == biggest and n >= 1000
        figures += [
            _figure(
                f"{prefix}Personal notification (notify one user), N = {n:,}",
                out["personal"],
                ref,
                budget=budget,
                note=f"{out['personal']['sent']} notifications, one at a time; the push in notify's commit "
                f"hook takes {out['personal_push_in_commit_hook']['p50']:.1f} ms (p50) of it",
            ),
            _figure(
                f"{prefix}Organisation-wide notify() to all {n:,} members, per recipient, N = {n:,}",
                out["org_notify"],
                ref,
                budget=budget,
                note=f"{out['org_notify']['sent'] // n} rounds; the last arrival after "
                f"{out['org_notify_last']['p50']:.0f} ms (p50); the commit hook pushing {n:,} messages takes "
                f"{out['org_notify_push_in_commit_hook']['p50']:.0f} ms (p50)",
            ),
            _figure(
                f"{prefix}broadcast_referral_changed to the committee's group, per client, N = {n:,}",
                out["broadcast"],
                out["bare_fan_out"],
                budget=budget,
                note=f"{out['broadcast']['sent'] // n} rounds; the last client has it after "
                f"{out['broadcast_last']['p50']:.0f} ms (p50); reference: bare group_send to a group of "
                f"{n:,} channels in-process, per channel",
            ),
        ]
        if not prefix:
            figures += [
                Figure(
                    name=f"Reference: bare channels-redis group_send round trip, in-process, N = {n:,} open",
                    median=ref["p50"],
                    p95=ref["p95"],
                    extra={"p99": ref["p99"], "samples": ref["count"], "fan_out": out["bare_fan_out"]},
                    note=f"fan-out to {n:,} channels: p50 {out['bare_fan_out']['p50']:.1f} ms, "
                    f"p95 {out['bare_fan_out']['p95']:.1f} ms per channel",
                ),
                Figure(
                    name=f"Connect + first-message auth + hello, N = {n:,}",
                    median=out["connect"]["p50"],
                    p95=out["connect"]["p95"],
                    note=f"{CONNECT_CONCURRENCY} at a time; all connected in {out['connect_total_ms'] / 1000:.1f} s",
                    extra={"p99": out["connect"]["p99"]},
                ),
            ]
    idle = data["idle"]
    figures.append(
        Figure(
            name=f"{prefix}Sockets dropped by the server in {idle['seconds']:.0f} s of quiet, {idle['open']:,} open",
            unit="sockets",
            median=idle["closed"],
            budget="none" if budgets else "",
            verdict=("met" if idle["closed"] == 0 else "missed") if budgets else "",
            note="a consumer whose channel-layer receive fails takes its WebSocket down (close 1006)",
        )
    )
    return figures


def _trouble(data: dict, label: str) -> str:
    closed = {n: out["closed_by_server"] for n, out in data["per_n"].items()}
    errors = ", ".join(f"{name} × {count}" for name, count in sorted(data["server_errors"].items())) or "none"
    idle = data["idle"]
    return (
        f"{label}: after {idle['seconds']:.0f} s with nothing sent, {idle['closed']} of {idle['open']} open sockets "
        f"had been closed by the server; sockets closed by the server in the whole run: {data['closed_total']} "
        f"(while measuring, by N: {closed}; close codes {data['close_codes']}); "
        f"exceptions in the server log (including the clean-up at the end): {errors}."
    )


def run(ns: list[int], personal_repeat: int, org_repeat: int, idle: float, what_if: bool) -> Section:
    started = time.perf_counter()
    section = Section(
        title="Notifications: commit → WebSocket client",
        setup=f"uvicorn, 2 workers, --ws websockets-sansio; Redis channel layer; PostgreSQL; N = "
        f"{', '.join(f'{n:,}' for n in ns)} clients (websockets, one asyncio loop, token auth by first message)",
    )
    if not redis_available(REDIS_URL):
        section.notes.append("Redis did not answer on 127.0.0.1:6379: not measured.")
        return section
    if not _procs.fresh_pg_database(PG_URL):
        section.notes.append("PostgreSQL did not answer: not measured.")
        return section
    _procs.migrate(_env())
    args = ["--step", "--personal", str(personal_repeat), "--org", str(org_repeat), "--idle", str(idle)]
    data = _procs.run("notifications", *args, "--n", *map(str, ns), "--label", "app", env=_env(), timeout=900)
    section.figures += _figures(data, ns, "", budgets=True)
    section.notes.append(_trouble(data, "As configured"))
    if what_if:
        # At the largest N only: it answers "would the budget hold with the layer sized up".
        what_if_args = [*args, "--n", str(max(ns)), "--label", "what-if"]
        tuned = _procs.run("notifications", *what_if_args, env=_env("bench._ws_settings"), timeout=900)
        section.figures += _figures(tuned, [max(ns)], "what-if, layer sized for 1,000 sockets: ", budgets=False)
        section.notes.append(
            _trouble(
                tuned,
                "What-if (bench/_ws_settings.py: channels-redis capacity 10,000, redis socket_timeout "
                "10 s, pool of 1,000 — what config/settings.py now sets too)",
            )
        )
    soft, hard = data["limits"]
    section.notes += [
        "Latency runs from the COMMIT (an on_commit hook registered before notify()'s own) to the moment the "
        "client's coroutine holds the message; the sender runs in this process's worker thread, against the "
        "same PostgreSQL and Redis as the server. Median column = p50; p99, max and losses in the data. "
        "A message not there 3 s after the last arrival counts as lost.",
        "All N clients live in one Python process on one asyncio loop: a burst of N messages is read one "
        "after another, so the organisation-wide tails include the client's own reading time.",
        f"Open-file limit: soft {soft}, hard {hard} for the bench process and for uvicorn (raised to the hard "
        "limit with setrlimit; each socket is a file on both ends).",
        f"Redis keys deleted afterwards: {data['redis_keys_deleted']}; uvicorn alive until the end: "
        f"{data.get('server_alive')}. Benchmark wall time {time.perf_counter() - started:.0f} s.",
    ]
    return section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer notifications per N, no what-if run")
    parser.add_argument("--n", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--no-what-if", action="store_true", help="skip the run with the layer sized up")
    parser.add_argument("--step", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--label", default="app", help=argparse.SUPPRESS)
    parser.add_argument("--personal", type=int)
    parser.add_argument("--org", type=int)
    parser.add_argument("--idle", type=float, help="seconds of quiet at the end (11, quick 6: > 5 s)")
    args = parser.parse_args()
    personal = args.personal or (20 if args.quick else 50)
    org = args.org or (3 if args.quick else 6)
    # Longer than channels-redis's 5 s blocking receive: what happens to a quiet server shows.
    idle = args.idle or (6.0 if args.quick else 11.0)
    if args.step:
        emit(run_step(args.n, personal, org, idle, args.label))
        return
    emit({"section": run(args.n, personal, org, idle, what_if=not (args.quick or args.no_what_if))})


if __name__ == "__main__":
    main()
