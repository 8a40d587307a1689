"""A city's working day under load: how many people the budgets hold for, and what runs out first.

Why
---
The other benchmarks take one thing at a time — a list in-process, a workflow step over HTTP from 8
clients, a socket fan-out from one sender. A deployment meets everything at once: officers
registering, mediators accepting and concluding, supervisors on the dashboard, all on 4 uvicorn
workers that share two CPUs with PostgreSQL and Redis, and every one of them with a page open whose
socket makes it fetch its live parts again whenever one of their referrals changes (static/js/live.js).
That last part is easy to leave out and is what a busy day is made of: one step is followed by a
refresh on every open page of every organisation watching the referral, the city's supervisors
included. So this replays the day with Locust (an existing load tool rather than a hand-made
driver; bench/dayload_locust.py holds the people) and adds people stage by stage until the p95
budgets of docs/architecture.md#performance-budgets break, to answer: up to what request rate does
each budget hold, which breaks first, and what was saturated then — the CPU, the database
connections or Redis.

How to run it
-------------
::

    make bench-day                       # python -m bench.dayload: 25 → 600 people while time allows, ≤ 10 min
    make bench-day BENCH_ARGS=--quick    # 50, 150, 300 people, 20 s measured each, ≤ 3 min
    python -m bench.dayload --stages 100 300 --measure 30 [--no-live-refresh]

It prints a report (also var/bench/dayload/report.md; every figure in result.json) and, last, the
JSON line of ``bench.common.emit`` like every other section. It is not part of ``make bench``: it
wants the machine to itself for up to ten minutes (another process's CPU shows in the report as
"other" and flags the stage), and its figures are capacities, not one request's cost.
``--no-live-refresh`` replays the same day with pages that do not fetch anything after a push: the
difference is what the open sockets cost.

What it uses, all on 127.0.0.1: PostgreSQL (user postgres, trust auth) — the database
``fangdiao_bench_day``, recreated each run in two seconds from ``fangdiao_bench_day_template``
(100,000 referrals from bench.dataset and the personas below; built once, ≈ 1 minute, and again
when bench/dataset.py or the personas change; both are left in place); Redis database 11 with the
prefix ``fdbench-day`` for the channel layer and the cache (those keys are deleted at the end;
nothing else is touched, and neither server is ever stopped); the server as bench.transitions
starts it (``python -m config.serve``, production settings) with 4 workers on a free port. Locust
runs headless in a child process (``python -m locust -f bench/dayload_locust.py --headless
--run-time …``; the load shape in that file sets the users, so no ``-u``/``-r``).

The people (bench/dayload_locust.py): petition officers of the 7 county offices (35 %), mediators of
27 township committees — four per county (50 %), supervisors of the county bureaus and, one in five,
the city's (15 %). Each is a person busy at the screen: an action every 10–50 s (a supervisor's
every 30–90 s), pages read with a browser session, steps sent to the API with a token, the page's
socket open all along. That is a busy hour; a real day is thinner (a city registers about a hundred
referrals a day). People arrive 8 a second (10 in --quick), each opening the home page and its
socket. Passwords are never checked (each persona gets a session and a token made in the database,
as bench.transitions and bench.notifications make theirs): a morning's logins are not the day's load.

How to read it: per stage, Locust's p95 per request kind (histograms merged over the personas;
Locust rounds to 10 ms above 100 ms) against the budgets — list pages and searches 150 ms each kind;
statistics 150 ms per persona, the summary and the five dashboard panels a supervisor's page
fetches again after a push (a city's figures are another page than a county's); a transition 200 ms, all the steps'
requests together; an own step's push reaching the own socket 500 ms, from the request's send, so
the step included. A kind is judged where a window holds at least 10 of it (below 20, its p95 is
its slowest request: conservative). Beside them, sampled every second: the machine's CPU, its
share of saturated seconds (the average hides the bursts of refreshes a push sets off), each part's
share (server, the run database's PostgreSQL backends, Redis, Locust itself, and "other":
PostgreSQL's shared writers, the kernel, other users of the machine — a stage where "other" is high
is flagged); the run database's open and active connections; the requests answered 503 because
their worker's 10 pooled connections stayed taken for 10 s (``couldn't get a connection`` in the
server log: the pool saturated); Redis's commands per second, clients and CPU (Redis is shared:
those are the whole instance's). Locust shares the two CPUs: when it takes most of a core, the
latencies include its own delay, and the report says so.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench import _procs
from bench.common import (
    BUDGET_LIST_P95_MS,
    BUDGET_TRANSITION_P95_MS,
    OUT,
    PG_ADMIN_URL,
    ROOT,
    Figure,
    Section,
    emit,
    redis_available,
)
from bench.notifications import BUDGET_MS as BUDGET_NOTIFY_P95_MS
from bench.notifications import _server_errors, free_port, raise_nofile, stop_server

HERE = OUT / "dayload"
PG_SERVER = PG_ADMIN_URL.rsplit("/", 1)[0]
RUN_DB = "fangdiao_bench_day"
TEMPLATE_DB = "fangdiao_bench_day_template"
REDIS_URL = "redis://127.0.0.1:6379/11"
REDIS_PREFIX = "fdbench-day"
WORKERS = 4
DB_POOL_MAX = 10  # config/settings.py's default, per worker process
POOL_TIMEOUT = 10  # config/settings.py: seconds a request waits for a pooled connection, then 503
DATASET = 100_000
# Locust class weights (people per hundred) and think times (seconds between two actions).
WEIGHTS = {"officer": 35, "mediator": 50, "supervisor": 15}
THINK = {"officer": (10, 50), "mediator": (10, 50), "supervisor": (30, 90)}
MOST_PEOPLE = 1000  # personas made; more Locust users than that share them
COMMITTEES_PER_COUNTY = 4
CITY_EVERY = 5  # one supervisor in five is the city's
PERSONAS_VERSION = 3  # raise when the personas change: the template is built again
# Fewer requests of a kind in a window: shown, not judged. Below 20, Locust's p95 of a window is its
# slowest request: a conservative reading, which the report marks.
MIN_SAMPLES = 10
# Saturation: the machine's CPU (all cores), Redis's one thread, Locust's one process.
CPU_SATURATED = 90.0
REDIS_SATURATED = 80.0
LOCUST_SATURATED = 90.0
# % of a core used outside the parts above that flags a stage as shared. Under this run's own load
# "other" is 5–20 %: PostgreSQL's shared writers (WAL, checkpoints) and the kernel's loopback traffic.
OTHER_NOTED = 30.0


@dataclass(frozen=True)
class Mode:
    stages: tuple[int, ...]
    measure: float  # seconds each stage is measured, after its ramp and settling
    settle: float
    spawn_rate: float
    seconds: float  # the whole run, preparation included


# Stages start low: with every page refreshing after each push, 100 people already overran the
# budgets on two CPUs. Below ~25 people a window holds too few steps to judge. People arrive 8–10 a
# second (each opens the home page and its socket at once: a burst of 20 a second queued 10 s of
# work and spilt it into the measuring window), and a stage is measured after 5–8 s more.
QUICK = Mode(stages=(50, 150, 300), measure=20, settle=5, spawn_rate=10, seconds=175)
FULL = Mode(stages=(25, 50, 100, 150, 200, 300, 400, 600), measure=45, settle=8, spawn_rate=8, seconds=590)


@dataclass(frozen=True)
class Budget:
    key: str
    label: str
    p95_ms: float
    kinds: tuple[str, ...]
    # What one p95 is taken over: "kind" (each kind of request, all personas together), "persona"
    # (each kind for each persona), "all" (every kind of the budget together).
    unit: str


# The supervisor's dashboard panels (dashboard/views.py SUPERVISOR_PARTS) are the statistics page
# people actually look at; the budget covers "every list, search and statistics page".
PANELS = tuple(
    f"GET home panel {part} (live refresh)" for part in ("tiles", "trend", "categories", "attention", "regions")
)
BUDGETS = (
    Budget(
        "lists",
        "list pages",
        BUDGET_LIST_P95_MS,
        ("GET list page", "GET list page, filtered", "GET list rows (live refresh)", "GET API list, submitted"),
        unit="kind",
    ),
    Budget("search", "search", BUDGET_LIST_P95_MS, ("GET search",), unit="kind"),
    Budget(
        "statistics",
        "statistics (summary, dashboard panels)",
        BUDGET_LIST_P95_MS,
        ("GET API statistics summary", *PANELS),
        unit="persona",
    ),
    Budget(
        "transitions",
        "transitions",
        BUDGET_TRANSITION_P95_MS,
        ("POST register", "POST submit", "POST accept", "POST succeed", "POST fail"),
        unit="all",
    ),
    Budget(
        "notifications",
        "own step → own socket",
        BUDGET_NOTIFY_P95_MS,
        ("WS referral.changed after own step",),
        unit="all",
    ),
)


def unit_of(budget: Budget, kind: str, persona: str) -> str:
    if budget.unit == "all":
        return budget.label
    if budget.unit == "kind":
        return kind
    # The city's panels and summary count every referral of the city: a county's are another page.
    return f"{'GET dashboard panels (live refresh)' if kind in PANELS else kind} [{persona}]"


def _env(database: str) -> dict[str, str]:
    return _procs.clean_env(
        DATABASE_URL=f"{PG_SERVER}/{database}",
        REDIS_URL=REDIS_URL,
        REDIS_PREFIX=REDIS_PREFIX,
        VAR_DIR=str(HERE / "var"),
        STATIC_ROOT=str(HERE / "static"),
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        DB_POOL_MAX=str(DB_POOL_MAX),
    )


def _admin():
    import psycopg

    return psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True, connect_timeout=3)


# --- The database: a template built once, a copy of it per run ---------------------------------------


def fingerprint() -> str:
    """What the template holds: the dataset's code and size and the personas. Migrations added since
    are applied to the template before it is copied."""
    digest = hashlib.sha256((ROOT / "bench" / "dataset.py").read_bytes())
    spec = [DATASET, WEIGHTS, MOST_PEOPLE, COMMITTEES_PER_COUNTY, CITY_EVERY, PERSONAS_VERSION]
    digest.update(json.dumps(spec, sort_keys=True).encode())
    return f"bench.dayload {digest.hexdigest()[:16]}"


def ensure_template(log) -> str:
    """The template, built if missing or made by other code; migrated either way, so that each copy
    starts current (a migration rewriting 10⁵ rows then runs once, not in every run's time)."""
    with _admin() as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (TEMPLATE_DB,)
        ).fetchone()
    if row and row[0] == fingerprint():
        _procs.migrate(_env(TEMPLATE_DB))
        return "reused"
    log(f"building {TEMPLATE_DB}: {DATASET:,} referrals and the personas")
    started = time.monotonic()
    url = f"{PG_SERVER}/{TEMPLATE_DB}"
    _procs.fresh_pg_database(url)
    _procs.migrate(_env(TEMPLATE_DB))
    _procs.run("dayload", "--step", "template", env=_env(TEMPLATE_DB), timeout=900)
    with _admin() as conn:
        conn.execute(f"COMMENT ON DATABASE \"{TEMPLATE_DB}\" IS '{fingerprint()}'")
    return f"built in {time.monotonic() - started:.0f} s"


def copy_template() -> None:
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{RUN_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{RUN_DB}" TEMPLATE "{TEMPLATE_DB}"')


def chosen_committees() -> list:
    """Four township committees per county (fewer where a county has fewer), by region code."""
    from townships.models import Organisation

    per_county: dict[str, list] = {}
    committees = Organisation.objects.filter(
        kind=Organisation.Kind.MEDIATION_COMMITTEE, committee_type="township", active=True
    ).select_related("region")
    for committee in committees.order_by("region__code"):
        chosen = per_county.setdefault(committee.region.code[:6], [])
        if len(chosen) < COMMITTEES_PER_COUNTY:
            chosen.append(committee)
    return [c for county in sorted(per_county) for c in per_county[county]]


def build_template() -> dict:
    """The dataset (bench.dataset, as the other benchmarks build theirs), then the day's personas.

    People are made in bulk, as bench.notifications makes its 1,000 mediators: memberships without
    their signal, the role groups synced once and the users added to them; the first of each role is
    checked against ``sync_user_groups``, so the groups are those the signal would have made.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from bench.dataset import generate
    from townships.models import Membership, Organisation
    from townships.roles import sync_role_group, sync_user_groups

    built = generate(DATASET, workers=2)
    User = get_user_model()
    offices = list(
        Organisation.objects.filter(kind=Organisation.Kind.PETITION_OFFICE, region__level="county").order_by(
            "region__code"
        )
    )
    bureaus = list(
        Organisation.objects.filter(kind=Organisation.Kind.JUSTICE_BUREAU, region__level="county").order_by(
            "region__code"
        )
    )
    city = Organisation.objects.get(kind=Organisation.Kind.JUSTICE_BUREAU, region__level="city")
    committees = chosen_committees()
    where = {
        "officer": lambda i: offices[i % len(offices)],
        "mediator": lambda i: committees[i % len(committees)],
        "supervisor": lambda i: city if i % CITY_EVERY == 0 else bureaus[i % len(bureaus)],
    }
    unusable = make_password(None)
    made = {}
    with transaction.atomic():
        for role, weight in WEIGHTS.items():
            count = math.ceil(MOST_PEOPLE * weight / sum(WEIGHTS.values()))
            users = User.objects.bulk_create(
                [
                    User(username=f"bench-day-{role}-{i:03d}", first_name=f"{role} {i}", password=unusable)
                    for i in range(count)
                ]
            )
            orgs = [where[role](i) for i in range(count)]
            Membership.objects.bulk_create(
                [Membership(user=u, organisation=o, role=role) for u, o in zip(users, orgs, strict=True)]
            )
            groups = {o.pk: sync_role_group(o, role) for o in orgs}
            User.groups.through.objects.bulk_create(
                [User.groups.through(user=u, group=groups[o.pk]) for u, o in zip(users, orgs, strict=True)]
            )
            first = users[0]
            before = set(first.groups.values_list("pk", flat=True))
            sync_user_groups(first)
            if set(first.groups.values_list("pk", flat=True)) != before:
                raise RuntimeError(f"bulk-made {role} memberships differ from what the signal makes")
            made[role] = count
    return {"dataset": built, "personas": made, "committees": len(committees)}


def prepare_people() -> dict:
    """Each persona's token and browser session (made in the database, as a login would leave them),
    where they work, and what they search for; read by bench/dayload_locust.py."""
    import secrets
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db import transaction
    from django.utils import timezone

    from accounts import tokens
    from accounts.models import ApiToken
    from referrals.models import Party, Referral
    from townships.models import Mediator, Membership

    members = list(
        Membership.objects.filter(user__username__startswith="bench-day-")
        .select_related("user", "organisation__region")
        .order_by("user__username")
    )
    committees = chosen_committees()
    leads: dict[int, int] = {}
    for entry in Mediator.objects.filter(committee__in=committees).order_by("-pk").values("pk", "committee_id"):
        leads[entry["committee_id"]] = entry["pk"]  # the lowest pk stays: bench.dataset's lead
    targets: dict[str, list[int]] = {}
    for committee in committees:
        targets.setdefault(committee.region.code[:6], []).append(committee.pk)
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    expires = timezone.now() + tokens.lifetime()
    people: dict[str, list[dict]] = {role: [] for role in WEIGHTS}
    areas: set[str] = set()
    with transaction.atomic():
        ApiToken.objects.filter(user__username__startswith="bench-day-").delete()
        rows = []
        for member in members:
            key = secrets.token_hex(tokens.KEY_BYTES)
            rows.append(
                ApiToken(
                    user=member.user,
                    name="bench-day",
                    prefix=key[: tokens.PREFIX_LENGTH],
                    key_hash=tokens.digest(key),
                    expires_at=expires,
                )
            )
            session = store_class()
            session[SESSION_KEY] = str(member.user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = member.user.get_session_auth_hash()
            session.create()
            org = member.organisation
            person = {"user": member.user.username, "token": key, "session": session.session_key}
            if member.role == "officer":
                person |= {"persona": "officer", "area": org.region.code, "targets": targets[org.region.code]}
            elif member.role == "mediator":
                person |= {"persona": "mediator", "area": org.region.code, "committee": org.pk, "lead": leads[org.pk]}
            else:
                level = "city" if org.region.level == "city" else "county"
                person |= {"persona": f"{level} supervisor", "area": org.region.code}
            areas.add(person["area"])
            people[member.role].append(person)
        ApiToken.objects.bulk_create(rows)
    # What each area's people look for: the parties' names and the numbers (tails, as typed) of
    # referrals they can see.
    search: dict[str, list[str]] = {}
    for area in sorted(areas):
        shown = Referral.objects.filter(region_code__startswith=area).exclude(state="draft").order_by("?")[:40]
        picked = list(shown.values_list("pk", "number"))
        names = list(Party.objects.filter(referral_id__in=[pk for pk, _ in picked]).values_list("name", flat=True))
        search[area] = names[:50] + [number.split("-", 1)[1] for _pk, number in picked[:15]]
    return {
        "personas": people,
        "search": search,
        "cookie": settings.SESSION_COOKIE_NAME,
        "committees": len(committees),
        "referrals": Referral.objects.count(),
    }


def collect_static() -> None:
    """The pages need the static files' manifest (DEBUG off); collecting takes ~30 s of both CPUs, so
    only when the app's static files or the installed packages changed since the last time."""
    import importlib.metadata

    digest = hashlib.sha256()
    for path in sorted((ROOT / "static").rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(ROOT)} {stat.st_size} {stat.st_mtime_ns}".encode())
    digest.update(" ".join(sorted(f"{d.name}={d.version}" for d in importlib.metadata.distributions())).encode())
    stamp = HERE / "static" / ".collected"
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=_env(RUN_DB),
        check=True,
        capture_output=True,
    )
    stamp.write_text(digest.hexdigest())


# --- The server --------------------------------------------------------------------------------------


def start_server(port: int, log: Path) -> subprocess.Popen:
    """As bench.transitions starts it (python -m config.serve), with 4 workers, in its own group."""
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("w")
    return subprocess.Popen(
        _procs.serve_command(port, WORKERS),
        cwd=ROOT,
        env=_env(RUN_DB),
        stdout=handle,
        stderr=subprocess.STDOUT,
        preexec_fn=raise_nofile,  # only sets a limit, between fork and exec
        start_new_session=True,
    )


def wait_for_server(base: str, server: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {server.returncode}; see {HERE / 'server.log'}")
        try:
            with urllib.request.urlopen(base + "/login/", timeout=3) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not answer /login/")
        time.sleep(0.3)


# --- Sampling the machine, PostgreSQL and Redis once a second ------------------------------------------


class Sampler(threading.Thread):
    """Cumulative counters once a second: CPU seconds per part, the run database's connections and
    transactions, Redis's commands and CPU. A stage's figures are the differences across its window."""

    def __init__(self, server_pid: int) -> None:
        super().__init__(daemon=True, name="sampler")
        self.server_pid = server_pid
        self.locust_pid = 0
        self.samples: list[dict] = []
        self.stopping = threading.Event()
        self.started_at = time.time()
        self.seen: dict[int, float] = {}
        self.cpu: Counter[str] = Counter()
        self.error = ""

    def parts(self, backends: list[int]) -> dict[str, list]:
        """The processes of each part; PostgreSQL's are the backends serving the run's database (the
        server is shared: other databases' backends, and its own writers, count as "other")."""
        import psutil

        found: dict[str, list] = {"server": [], "locust": [], "postgres": [], "bench": [psutil.Process()]}
        for name, pid in (("server", self.server_pid), ("locust", self.locust_pid)):
            if pid:
                with contextlib.suppress(psutil.Error):
                    root = psutil.Process(pid)
                    found[name] = [root, *root.children(recursive=True)]
        for pid in backends:
            with contextlib.suppress(psutil.Error):
                found["postgres"].append(psutil.Process(pid))
        return found

    def cpu_seconds(self, backends: list[int]) -> dict[str, float]:
        import psutil

        for part, processes in self.parts(backends).items():
            for process in processes:
                try:
                    times = process.cpu_times()
                    born = process.create_time()
                except psutil.Error:
                    continue
                used = times.user + times.system
                before = self.seen.get(process.pid)
                if before is None:  # first seen: only what it used since the sampling began counts
                    before = 0.0 if born >= self.started_at else used
                self.cpu[part] += used - before
                self.seen[process.pid] = used
        return dict(self.cpu)

    def run(self) -> None:
        import psutil
        import redis

        try:
            pg = _admin()
            layer = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
            while not self.stopping.wait(1.0):
                machine = psutil.cpu_times()
                idle = machine.idle + getattr(machine, "iowait", 0.0)
                # Linux counts guest time inside user and nice already.
                every = sum(machine) - getattr(machine, "guest", 0.0) - getattr(machine, "guest_nice", 0.0)
                backends = [
                    pid for (pid,) in pg.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (RUN_DB,))
                ]
                row = pg.execute(
                    """SELECT count(*), count(*) FILTER (WHERE state = 'active'),
                              count(*) FILTER (WHERE wait_event_type = 'Lock'),
                              (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
                              (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s)
                       FROM pg_stat_activity WHERE datname = %s""",
                    (RUN_DB, RUN_DB),
                ).fetchone()
                info = layer.info()
                self.samples.append(
                    {
                        "at": time.time(),
                        "busy": every - idle,
                        "all": every,
                        "cpu": self.cpu_seconds(backends),
                        "pg": {
                            "connections": row[0],
                            "active": row[1],
                            "lock_waits": row[2],
                            "server_wide": row[3],
                            "transactions": row[4],
                        },
                        "redis": {
                            "commands": info["total_commands_processed"],
                            "clients": info["connected_clients"],
                            "blocked": info.get("blocked_clients", 0),
                            "cpu": info["used_cpu_sys"] + info["used_cpu_user"],
                            "keys": layer.dbsize(),
                        },
                    }
                )
            pg.close()
            layer.close()
        except Exception as exc:  # a sampler that stops must not take the run with it
            self.error = f"{type(exc).__name__}: {exc}"

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


def resources(samples: list[dict], started: float, ended: float) -> dict:
    """A window's CPU shares, connections and Redis figures from the samples inside it."""
    window = [s for s in samples if started <= s["at"] <= ended]
    if len(window) < 2:
        return {}
    first, last = window[0], window[-1]
    seconds = last["at"] - first["at"]
    cpus = os.cpu_count() or 1
    share = {
        part: 100 * (last["cpu"].get(part, 0.0) - first["cpu"].get(part, 0.0)) / seconds
        for part in ("server", "postgres", "locust", "bench")
    }
    share["redis"] = 100 * (last["redis"]["cpu"] - first["redis"]["cpu"]) / seconds
    machine = 100 * (last["busy"] - first["busy"]) / (last["all"] - first["all"])
    # The average hides bursts (every step makes every page watching it refresh at once): the share
    # of the window's seconds in which the CPU was saturated shows them.
    seconds_saturated = [
        100 * (b["busy"] - a["busy"]) / (b["all"] - a["all"]) >= CPU_SATURATED
        for a, b in itertools.pairwise(window)
        if b["all"] > a["all"]
    ]
    # The rest of the machine: what none of the parts above used (other users of this machine).
    share["other"] = max(0.0, machine * cpus - sum(share.values()))
    connections = [s["pg"]["connections"] for s in window]
    active = [s["pg"]["active"] for s in window]
    return {
        "seconds": seconds,
        "cpu": round(machine, 1),
        "cpu_saturated_seconds": round(100 * sum(seconds_saturated) / max(1, len(seconds_saturated))),
        "share": {k: round(v, 1) for k, v in share.items()},  # % of one CPU
        "pg_connections_peak": max(connections),
        "pg_connections_mean": round(sum(connections) / len(connections), 1),
        "pg_active_mean": round(sum(active) / len(active), 2),
        "pg_active_peak": max(active),
        "pg_lock_waits_peak": max(s["pg"]["lock_waits"] for s in window),
        "pg_server_wide_peak": max(s["pg"]["server_wide"] for s in window),
        "pg_transactions_per_s": round((last["pg"]["transactions"] - first["pg"]["transactions"]) / seconds, 1),
        "redis_ops_per_s": round((last["redis"]["commands"] - first["redis"]["commands"]) / seconds),
        "redis_clients_peak": max(s["redis"]["clients"] for s in window),
        "redis_blocked_peak": max(s["redis"]["blocked"] for s in window),
        "redis_keys": last["redis"]["keys"],
    }


# --- Locust -----------------------------------------------------------------------------------------


def locust_command(base: str, run_time: int) -> list[str]:
    """Headless, the shape in the locustfile sets the users (no -u/-r); --run-time is a hard stop."""
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        "bench/dayload_locust.py",
        "--headless",
        "--host",
        base,
        "--run-time",
        f"{run_time}s",
        "--stop-timeout",
        "5",
        "--exit-code-on-error",
        "0",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]


def run_locust(command: list[str], plan: Path, sampler: Sampler, timeout: float) -> int:
    with (HERE / "locust.log").open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "DAYLOAD_PLAN": str(plan), "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=raise_nofile,
            start_new_session=True,
        )
        sampler.locust_pid = process.pid
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
            try:
                return process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                return process.wait(timeout=5)


# --- Reading the stages -------------------------------------------------------------------------------


def percentile(histogram: Counter[int], q: float) -> float | None:
    """Locust's percentile of a response-time histogram (its rounded milliseconds → counts)."""
    total = sum(histogram.values())
    if not total:
        return None
    above = 0
    for ms in sorted(histogram, reverse=True):
        above += histogram[ms]
        if total - above <= total * q:
            return float(ms)
    return float(min(histogram))


def kind_of(name: str) -> tuple[str, str]:
    kind, _sep, persona = name.rpartition(" [")
    return (kind, persona.rstrip("]")) if kind else (name, "")


def merged(entries: list[dict]) -> dict:
    histogram: Counter[int] = Counter()
    for e in entries:
        histogram.update({int(ms): count for ms, count in e["histogram"].items()})
    count = sum(e["count"] for e in entries)
    return {
        "count": count,
        "failures": sum(e["failures"] for e in entries),
        "p50": percentile(histogram, 0.5),
        "p95": percentile(histogram, 0.95),
    }


def judge(budget: Budget, entries: list[dict]) -> dict:
    """A budget in one window: each judged unit's p95 against it; missed if any unit missed."""
    mine = [e for e in entries if kind_of(e["name"])[0] in budget.kinds]
    units: dict[str, list[dict]] = {}
    for e in mine:
        units.setdefault(unit_of(budget, *kind_of(e["name"])), []).append(e)
    judged = {key: merged(group) for key, group in units.items()}
    missed = {k: v for k, v in judged.items() if v["count"] >= MIN_SAMPLES and (v["p95"] or 0) > budget.p95_ms}
    held = {k: v for k, v in judged.items() if v["count"] >= MIN_SAMPLES and k not in missed}
    verdict = "missed" if missed else ("met" if held else "")
    worst = max(judged.items(), key=lambda kv: kv[1]["p95"] or 0, default=(None, None))
    return {"verdict": verdict, "units": judged, "missed": sorted(missed), "worst": worst[0]}


def analyse(stages: list[dict], samples: list[dict]) -> list[dict]:
    out = []
    for stage in stages:
        seconds = stage["ended"] - stage["started"]
        total = stage["total"]
        used = resources(samples, stage["started"], stage["ended"])
        # A request that found every pooled connection of its worker taken waits POOL_TIMEOUT s and
        # is answered 503 database_unavailable (the server log says "couldn't get a connection").
        pool_waits = sum(e["count"] for e in stage["errors"] if e["error"].startswith("503"))
        saturated = []
        if used:
            if used["cpu"] >= CPU_SATURATED:
                saturated.append(f"CPU {used['cpu']:.0f} %")
            if pool_waits:
                saturated.append(
                    f"database connections ({pool_waits} requests waited {POOL_TIMEOUT} s for a pooled one: 503)"
                )
            if used["share"]["redis"] >= REDIS_SATURATED:
                saturated.append(f"Redis {used['share']['redis']:.0f} % of its core")
        out.append(
            {
                "users": stage["users"],
                "running": stage["running"],
                "seconds": round(seconds, 1),
                "rps": round(total["count"] / seconds, 1),
                "live_share": round(
                    100 * sum(e["count"] for e in stage["entries"] if "(live " in e["name"]) / max(1, total["count"])
                ),
                "failures": total["failures"],
                "requests": total["count"],
                "p95": total["p95"],
                "budgets": {b.key: judge(b, stage["entries"]) for b in BUDGETS},
                "kinds": {
                    kind: merged([e for e in stage["entries"] if kind_of(e["name"])[0] == kind])
                    for kind in sorted({kind_of(e["name"])[0] for e in stage["entries"]})
                },
                "names": {e["name"]: {k: e[k] for k in ("count", "failures", "p50", "p95")} for e in stage["entries"]},
                "resources": used,
                "saturated": saturated,
                "pool_waits": pool_waits,
                "generator_saturated": bool(used) and used["share"]["locust"] >= LOCUST_SATURATED,
                "counts": stage["counts"],
                "errors": stage["errors"],
            }
        )
    return out


def conclusions(result: list[dict]) -> dict:
    """Per budget: the highest rate it held at (all lower stages held too) and where it first broke;
    the first budget to break; the first resource to saturate."""
    budgets = {}
    for b in BUDGETS:
        held_to, broke = None, None
        for i, stage in enumerate(result):
            verdict = stage["budgets"][b.key]["verdict"]
            if verdict == "missed":
                broke = i
                break
            if verdict == "met":
                held_to = i
        budgets[b.key] = {"held_to": held_to, "broke": broke}
    first = min((v["broke"] for v in budgets.values() if v["broke"] is not None), default=None)
    # A budget missed already at the lowest load is not broken by the load: the first one the load
    # breaks is the first that held at the lowest stage and then missed.
    load_broken = [
        (v["broke"], key) for key, v in budgets.items() if v["broke"] is not None and v["held_to"] is not None
    ]
    saturated = next(((i, s["saturated"]) for i, s in enumerate(result) if s["saturated"]), None)
    generator = next((i for i, s in enumerate(result) if s["generator_saturated"]), None)
    return {
        "budgets": budgets,
        "first_broken": first,
        "first_broken_by_load": min(load_broken) if load_broken else None,
        "first_saturated": saturated,
        "generator_saturated": generator,
    }


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def report(result: list[dict], verdicts: dict, notes: list[str]) -> str:
    """The per-stage tables as Markdown."""
    lines = [
        "| stage | users | sockets | req/s (live refreshes %) | failed "
        "| CPU % (server / PostgreSQL / Redis / Locust / other, % of a core) | seconds with CPU ≥ 90 % "
        "| PG connections open, peak (active, mean) | 503: no pooled connection | PG xact/s "
        "| Redis ops/s | Redis clients | saturated |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, s in enumerate(result, 1):
        r = s["resources"] or {}
        share = r.get("share", {})
        lines.append(
            f"| {i} | {s['users']} | {s['counts'].get('open sockets', '')} | {s['rps']} ({s['live_share']}) "
            f"| {s['failures']} "
            f"| {r.get('cpu', '—')} ({share.get('server', 0):.0f} / {share.get('postgres', 0):.0f} / "
            f"{share.get('redis', 0):.0f} / {share.get('locust', 0):.0f} / {share.get('other', 0):.0f}) "
            f"| {r.get('cpu_saturated_seconds', '—')} % "
            f"| {r.get('pg_connections_peak', '—')} ({r.get('pg_active_mean', '—')}) | {s['pool_waits']} "
            f"| {r.get('pg_transactions_per_s', '—')} | {r.get('redis_ops_per_s', '—')} "
            f"| {r.get('redis_clients_peak', '—')} | {', '.join(s['saturated']) or '—'} |"
        )
    kinds = sorted({k for s in result for k in s["kinds"]})
    budget_of = {kind: b for b in BUDGETS for kind in b.kinds}
    lines += [
        "",
        "p95 ms (requests in the window) per kind, merged over the personas; ❌ a list or search kind over its "
        f"budget with ≥ {MIN_SAMPLES} requests (statistics are judged per persona, transitions together: "
        "see the tables below):",
        "",
        "| kind | budget | " + " | ".join(f"{s['users']} users" for s in result) + " |",
        "|---|---|" + "---|" * len(result),
    ]
    for kind in kinds:
        b = budget_of.get(kind)
        cells = []
        for s in result:
            k = s["kinds"].get(kind)
            if not k or not k["count"]:
                cells.append("")
                continue
            over = b is not None and b.unit == "kind" and k["count"] >= MIN_SAMPLES and (k["p95"] or 0) > b.p95_ms
            failed = f", {k['failures']} failed" if k["failures"] else ""
            cells.append(f"{'❌ ' if over else ''}{_ms(k['p95'])} ({k['count']}{failed})")
        lines.append(f"| {kind} | {f'{b.p95_ms:.0f}' if b else ''} | " + " | ".join(cells) + " |")
    # By persona: the statistics as judged (summary; the five dashboard panels together), and the
    # home pages (no budget: each role's is another page).
    rows: dict[str, list[dict | None]] = {}
    for i, s in enumerate(result):
        found = dict(s["budgets"]["statistics"]["units"])
        found |= {n: v for n, v in s["names"].items() if kind_of(n)[0] == "GET home page"}
        for name, value in found.items():
            rows.setdefault(name, [None] * len(result))[i] = value
    lines += ["", "| by persona | " + " | ".join(f"{s['users']} users" for s in result) + " |"]
    lines.append("|---|" + "---|" * len(result))
    for name in sorted(rows):
        cells = [f"{_ms(v['p95'])} ({v['count']})" if v and v["count"] else "" for v in rows[name]]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "| budget | " + " | ".join(f"{s['users']} users" for s in result) + " | held to |"]
    lines.append("|---|" + "---|" * len(result) + "---|")
    for b in BUDGETS:
        cells = []
        for s in result:
            j = s["budgets"][b.key]
            mark = {"met": "✅", "missed": "❌"}.get(j["verdict"], "·")
            cells.append(mark + (" " + ", ".join(j["missed"]) if j["missed"] else ""))
        v = verdicts["budgets"][b.key]
        held = (
            "—"
            if v["held_to"] is None
            else f"{result[v['held_to']]['rps']} req/s ({result[v['held_to']]['users']} users)"
        )
        lines.append(f"| {b.label} ≤ {b.p95_ms:.0f} ms | " + " | ".join(cells) + f" | {held} |")
    lines += ["", *(f"- {note}" for note in notes)]
    return "\n".join(lines) + "\n"


def summary_notes(result: list[dict], verdicts: dict) -> list[str]:
    notes = []
    labels = {b.key: b for b in BUDGETS}

    def at(i: int) -> str:
        return f"{result[i]['users']} users ({result[i]['rps']} req/s)"

    def then(i: int) -> str:
        """What the machine, the pools and Redis were doing in stage ``i``."""
        r = result[i]["resources"] or {}
        if not r:
            return "no samples"
        share = r["share"]
        return (
            f"CPU {r['cpu']:.0f} % on average and saturated in {r['cpu_saturated_seconds']} % of the seconds "
            f"(server {share['server']:.0f} %, PostgreSQL {share['postgres']:.0f} %, Locust {share['locust']:.0f} %, "
            f"other {share['other']:.0f} % of a core); {result[i]['pool_waits']} requests found no pooled database "
            f"connection ({r['pg_connections_peak']} open at most, {r['pg_active_mean']} busy on average); Redis "
            f"{r['redis_ops_per_s']} commands/s, {share['redis']:.0f} % of its core"
        )

    first = verdicts["first_broken"]
    if first is None:
        notes.append("No budget broke at any stage.")
    else:
        broken = [
            f"{labels[k].label} ({', '.join(result[first]['budgets'][k]['missed'])})"
            for k, v in verdicts["budgets"].items()
            if v["broke"] == first
        ]
        lowest = " — already at the lowest stage measured: a lower one would show where it holds" if first == 0 else ""
        notes.append(f"First budget to break: {'; '.join(broken)} at {at(first)}{lowest}. Then: {then(first)}.")
    by_load = verdicts["first_broken_by_load"]
    if by_load is not None and first == 0:
        i, key = by_load
        notes.append(
            f"First budget the load broke (it held at the lowest stage): {labels[key].label} at {at(i)} "
            f"({', '.join(result[i]['budgets'][key]['missed'])}); "
            f"it held up to {at(verdicts['budgets'][key]['held_to'])}. Then: {then(i)}."
        )
    for key, v in verdicts["budgets"].items():
        b = labels[key]
        held = "never held" if v["held_to"] is None else f"held up to {at(v['held_to'])}"
        broke = "did not break" if v["broke"] is None else f"broke at {at(v['broke'])}"
        notes.append(f"{b.label} (p95 ≤ {b.p95_ms:.0f} ms): {held}; {broke}.")
    saturated = verdicts["first_saturated"]
    if saturated is None:
        peak = max(result, key=lambda s: (s["resources"] or {}).get("cpu", 0))
        notes.append(
            f"Nothing reached its saturation mark (CPU ≥ {CPU_SATURATED:.0f} %, all {WORKERS * DB_POOL_MAX} pooled "
            f"connections, Redis ≥ {REDIS_SATURATED:.0f} % of its core); the busiest stage, {peak['users']} users, "
            f"had the CPU at {(peak['resources'] or {}).get('cpu', '—')} %."
        )
    else:
        i, what = saturated
        notes.append(f"First to saturate: {', '.join(what)} at {at(i)}.")
    shared = [
        f"{s['users']} users: {s['resources']['share']['other']:.0f} %"
        for s in result
        if s["resources"] and s["resources"]["share"]["other"] >= OTHER_NOTED
    ]
    if shared:
        notes.append(
            "The machine was shared: other processes used, of a core, " + ", ".join(shared) + " — those stages' "
            "latencies and saturation are partly theirs."
        )
    if verdicts["generator_saturated"] is not None:
        notes.append(
            f"Locust itself used ≥ {LOCUST_SATURATED:.0f} % of a core from {at(verdicts['generator_saturated'])}: "
            "from there the latencies include the load generator's own queueing."
        )
    return notes


def figures(result: list[dict], verdicts: dict) -> list[Figure]:
    out = []
    for s in result:
        r = s["resources"] or {}
        share = r.get("share", {})
        out.append(
            Figure(
                name=f"{s['users']} users — all requests",
                unit="req/s",
                median=s["rps"],
                p95=s["p95"],
                note=f"CPU {r.get('cpu', '—')} % (server {share.get('server', 0):.0f}, PostgreSQL "
                f"{share.get('postgres', 0):.0f}, Redis {share.get('redis', 0):.0f}, "
                f"Locust {share.get('locust', 0):.0f} % of a core); "
                f"PG connections peak {r.get('pg_connections_peak', '—')}, active mean "
                f"{r.get('pg_active_mean', '—')}; Redis {r.get('redis_ops_per_s', '—')} ops/s; "
                f"{s['failures']} failed; saturated: {', '.join(s['saturated']) or 'nothing'}",
                extra={"resources": r, "counts": s["counts"]},
            )
        )
        for b in BUDGETS:
            j = s["budgets"][b.key]
            if not j["units"]:
                continue
            worst = j["units"][j["worst"]]
            out.append(
                Figure(
                    name=f"{s['users']} users — {b.label}: worst {j['worst']}",
                    median=worst["p50"],
                    p95=worst["p95"],
                    budget=f"p95 ≤ {b.p95_ms:.0f} ms",
                    verdict=j["verdict"],
                    note=f"{worst['count']} requests"
                    + (f"; missed: {', '.join(j['missed'])}" if j["missed"] else "")
                    + ("" if worst["count"] >= MIN_SAMPLES else f"; fewer than {MIN_SAMPLES}: not judged"),
                    extra={"units": j["units"]},
                )
            )
    for b in BUDGETS:
        v = verdicts["budgets"][b.key]
        held = result[v["held_to"]] if v["held_to"] is not None else None
        out.append(
            Figure(
                name=f"Rate the {b.label} budget holds to",
                unit="req/s",
                median=held["rps"] if held else None,
                budget=f"p95 ≤ {b.p95_ms:.0f} ms",
                note=(f"{held['users']} users" if held else "never held")
                + ("" if v["broke"] is None else f"; broke at {result[v['broke']]['users']} users"),
            )
        )
    return out


# --- The run ------------------------------------------------------------------------------------------


def run(mode: Mode, stages: tuple[int, ...], measure: float, *, live_refresh: bool = True) -> Section:
    started = time.monotonic()
    deadline = time.time() + mode.seconds

    def log(message: str) -> None:
        print(f"[dayload {time.monotonic() - started:5.0f}s] {message}", file=sys.stderr, flush=True)

    section = Section(
        title="A working day under load (Locust; uvicorn × 4, PostgreSQL, Redis)",
        setup=f"{DATASET:,} referrals; officers, mediators and supervisors {'/'.join(map(str, WEIGHTS.values()))} "
        f"in a hundred, each with a browser session, a token and an open socket; stages of "
        f"{', '.join(map(str, stages))} users, {measure:.0f} s measured each after ramping and "
        f"{mode.settle:.0f} s settling; {WORKERS} uvicorn workers on {os.cpu_count()} CPUs; "
        + ("open pages refresh their live parts after each push" if live_refresh else "no live refreshes"),
    )
    if not redis_available(REDIS_URL):
        section.notes.append("Redis did not answer on 127.0.0.1:6379: not measured.")
        return section
    try:
        _admin().close()
    except Exception:
        section.notes.append("PostgreSQL did not answer on 127.0.0.1:5432: not measured.")
        return section
    (HERE / "var").mkdir(parents=True, exist_ok=True)  # the server's VAR_DIR (the SMS console log)
    template = ensure_template(log)
    log(f"template {template}; copying it to {RUN_DB}")
    copy_template()
    people = _procs.run("dayload", "--step", "people", env=_env(RUN_DB), timeout=300)
    collect_static()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    snapshots = HERE / "stages.jsonl"
    snapshots.unlink(missing_ok=True)
    log(f"people ready ({sum(map(len, people['personas'].values()))} personas); starting {WORKERS} workers on {base}")
    server = start_server(port, HERE / "server.log")
    sampler = Sampler(server.pid)
    exit_code = None
    cleanup = 25.0
    try:
        wait_for_server(base, server)
        plan = HERE / "plan.json"
        plan.write_text(
            json.dumps(
                {
                    **people,
                    "host": base,
                    "ws": f"ws://127.0.0.1:{port}/ws/notifications/",
                    "weights": WEIGHTS,
                    "think": THINK,
                    "live_refresh": live_refresh,
                    "stages": list(stages),
                    "spawn_rate": mode.spawn_rate,
                    "settle": mode.settle,
                    "measure": measure,
                    "deadline": deadline - cleanup,
                    "snapshots": str(snapshots),
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        sampler.start()
        run_time = max(30, int(deadline - cleanup - time.time()))
        command = locust_command(base, run_time)
        log(f"locust for at most {run_time} s: {' '.join(command[1:])}")
        exit_code = run_locust(command, plan, sampler, timeout=run_time + 30)
    finally:
        sampler.stop()
        stop_server(server)
        deleted = _procs.forget_redis_keys(REDIS_URL, REDIS_PREFIX)
    records = (
        [json.loads(line) for line in snapshots.read_text(encoding="utf-8").splitlines()] if snapshots.exists() else []
    )
    measured = [r for r in records if "users" in r]
    stopped = [r["stopped"] for r in records if "stopped" in r]
    if not measured:
        section.notes.append(f"No stage was measured (locust exited with {exit_code}); see {HERE / 'locust.log'}.")
        return section
    (HERE / "samples.json").write_text(json.dumps(sampler.samples))
    result = analyse(measured, sampler.samples)
    verdicts = conclusions(result)
    notes = summary_notes(result, verdicts)
    errors = _server_errors(HERE / "server.log")
    notes += [
        f"Template: {template}. The run's database {RUN_DB} ({people['referrals']:,} referrals when it began) is "
        f"left for inspection; Redis keys deleted afterwards: {deleted}.",
        f"Stages measured: {', '.join(str(s['users']) for s in result)} users"
        + (f"; then stopped: {stopped[0]}" if stopped else "")
        + f". Locust exited with {exit_code}; exceptions in the server log: "
        + (", ".join(f"{k} × {v}" for k, v in sorted(errors.items())) or "none")
        + (f"; sampler: {sampler.error}" if sampler.error else "")
        + ".",
        "Live refreshes are the pages' own fetches after a push (X-Live-Refresh); "
        + "; ".join(
            f"{s['users']} users: {s['counts'].get('live refreshes', 0)} refreshes, "
            f"{s['counts'].get('socket messages: referral.changed', 0)} referral.changed received, "
            f"{s['counts'].get('sockets closed by the server', 0)} sockets closed by the server"
            for s in result
        )
        + ".",
        f"Benchmark wall time {time.monotonic() - started:.0f} s.",
    ]
    for s in result:
        for error in s["errors"][:3]:
            notes.append(f"{s['users']} users, failed: {error['name']} × {error['count']}: {error['error'][:160]}")
    text = report(result, verdicts, notes)
    (HERE / "report.md").write_text(text, encoding="utf-8")
    (HERE / "result.json").write_text(
        json.dumps({"stages": result, "verdicts": verdicts}, ensure_ascii=False, indent=1)
    )
    print(text, flush=True)
    section.figures = figures(result, verdicts)
    section.notes = notes
    return section


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dayload", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="3 stages of 20 s, ≤ 3 minutes")
    parser.add_argument("--stages", type=int, nargs="+", help="users per stage, rising")
    parser.add_argument("--measure", type=float, help="seconds measured per stage")
    parser.add_argument(
        "--no-live-refresh",
        action="store_true",
        help="pages do not fetch their live parts after a push (to see what those fetches cost)",
    )
    parser.add_argument("--step", choices=("template", "people"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        from bench.common import django_setup

        django_setup()
        emit(build_template() if args.step == "template" else prepare_people())
        return
    mode = QUICK if args.quick else FULL
    stages = tuple(args.stages or mode.stages)
    emit({"section": run(mode, stages, args.measure or mode.measure, live_refresh=not args.no_live_refresh)})


if __name__ == "__main__":
    main()
