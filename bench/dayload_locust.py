"""The people of ``python -m bench.dayload`` for Locust, and the load shape that adds them stage by stage.

bench/dayload.py says why and what comes out; this file is what each simulated person does. It is
run by that module (``python -m locust -f bench/dayload_locust.py --headless …``, with the plan it
wrote in ``DAYLOAD_PLAN``: the server's address, each persona's token and session, the stages).

A person is a browser more than an API client: pages (the home page, lists, searches, a case) are
read with the session cookie, and the page's socket stays open all along — ``/ws/notifications/``
with the cookie and an Origin, as static/js/live.js opens it, pinging every 25 s. What the socket
brings is what makes a day heavy: every ``referral.changed`` for the person's organisations makes
the open page fetch its live parts again (the list's rows, the home page's panels; 300 ms after the
last change of a burst, marked ``X-Live-Refresh``) exactly as live.js does. The steps themselves
(register, refer, accept, record a session, conclude) go through the API with the person's token,
as bench.transitions sends them, so that their p95 is the budget's "HTTP POST to response".

Referrals are never fought over: one Locust process holds every person (gevent), and a referral
taken by one (``CLAIMED``) is left alone by the others, so a 409 is a fault, not a colleague.
"""

from __future__ import annotations

import contextlib
import datetime
import html
import itertools
import json
import os
import random
import re
import time
from collections import Counter
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import gevent
import websocket  # websocket-client (requirements-dev.txt): blocking, so gevent-friendly once Locust patched sockets
from locust import FastHttpUser, LoadTestShape, between, task

from bench.transitions import new_referral_body

PLAN = json.loads(Path(os.environ["DAYLOAD_PLAN"]).read_text(encoding="utf-8"))
POOLS = {role: itertools.cycle(people) for role, people in PLAN["personas"].items()}
CLAIMED: set[int] = set()  # referrals one person is working on (or has concluded): nobody else takes them
COUNTS: Counter[str] = Counter()  # what happened besides requests, per measuring window
OPEN_SOCKETS = [0]
SERIAL = itertools.count()

PING_SECONDS = 25.0  # live.js PING_MS
DEBOUNCE_SECONDS = 0.3  # live.js DEBOUNCE_MS: one refresh after the last change of a burst
LOST_AFTER_SECONDS = 10.0  # an own step's referral.changed not there by then counts as lost
LIVE_HEADERS = {"X-Live-Refresh": "1", "X-Requested-With": "fetch"}
FRAGMENT_URL = re.compile(r'data-live-(?:list|refresh)\b[^>]*?data-fragment-url="([^"]+)"')
DETAIL_HEAD = re.compile(r'data-referral="(\d+)" data-state="([a-z_]+)"')
ROW_ID = re.compile(r'data-referral-id="(\d+)"')
# The state each step leaves its referral in: the referral.changed that step pushes.
STEP_STATE = {"submit": "submitted", "accept": "mediating", "succeed": "succeeded", "fail": "failed"}


def today() -> str:
    return datetime.date.today().isoformat()


def fragment_kind(url: str) -> str:
    """The stats name of a live part: the list's rows, or the home page panel named by ``fragment=``."""
    part = parse_qs(urlparse(url).query).get("fragment", [""])[0]
    return "GET list rows (live refresh)" if part == "1" else f"GET home panel {part} (live refresh)"


class Person(FastHttpUser):
    """One person at the screen: a persona from the plan, a browser session, a token and a socket."""

    abstract = True
    role = ""

    def on_start(self) -> None:
        self.me = next(POOLS[self.role])
        self.persona = self.me["persona"]
        # Cookies are sent by hand: the session cookie with pages, none with the API (a token client).
        self.client.cookiejar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.browser = {"Cookie": f"{PLAN['cookie']}={self.me['session']}"}
        self.api = {"Authorization": f"Token {self.me['token']}"}
        self.live: list[tuple[str, str]] = []  # the open page's live parts: (fragment URL, stats name)
        self.case: tuple[int, str] | None = None  # the open case page: (referral, state shown)
        self.rows: list[int] = []  # referrals on the last list page seen
        self.pending: dict[int, tuple[str, float]] = {}  # own steps awaiting their push: state, sent at
        self.refresh_at = 0.0
        self.refresher: gevent.Greenlet | None = None
        self.ws: websocket.WebSocket | None = None
        self.stopping = False
        self.connected_before = False
        self.socket = gevent.spawn(self.hold_socket)
        self.page("/", "GET home page")

    def on_stop(self) -> None:
        self.stopping = True
        if self.ws is not None:
            with contextlib.suppress(Exception):  # already gone
                self.ws.close(timeout=1)
        self.socket.kill(block=False)

    # --- Pages (session cookie) -------------------------------------------------------------------

    def name(self, kind: str) -> str:
        return f"{kind} [{self.persona}]"

    def page(self, path: str, kind: str) -> str | None:
        """Open a page: it becomes the page whose live parts the socket refreshes."""
        with self.client.get(
            path, name=self.name(kind), headers=self.browser, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
                self.live, self.case = [], None  # an error page has no live parts
                return None
            text = response.text or ""
        self.live = [(html.unescape(url), fragment_kind(html.unescape(url))) for url in FRAGMENT_URL.findall(text)]
        head = DETAIL_HEAD.search(text) if "data-live-detail" in text else None
        self.case = (int(head[1]), head[2]) if head else None
        return text

    def list_page(self, path: str, kind: str) -> list[int]:
        text = self.page(path, kind)
        if text is None:
            return []
        self.rows = [int(pk) for pk in ROW_ID.findall(text)]
        return self.rows

    def search(self) -> None:
        term = random.choice(PLAN["search"][self.me["area"]])
        self.list_page(f"/referrals/?search={quote(term)}", "GET search")

    def open_case(self) -> None:
        if not self.rows:
            self.list_page("/referrals/", "GET list page")
            return
        self.page(f"/referrals/{random.choice(self.rows)}/", "GET case page")

    # --- The socket (session cookie + Origin, as the browser) -----------------------------------------

    def fire(self, kind: str, started: float, exception: Exception | None = None, length: int = 0) -> None:
        self.environment.events.request.fire(
            request_type="WS",
            name=self.name(kind),
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            exception=exception,
            context={},
        )

    def hold_socket(self) -> None:
        failures = 0
        while not self.stopping:
            started = time.perf_counter()
            ws = None
            try:
                ws = websocket.create_connection(
                    PLAN["ws"],
                    timeout=30,
                    cookie=f"{PLAN['cookie']}={self.me['session']}",
                    origin=PLAN["host"],
                )
                hello = json.loads(ws.recv())
                if hello.get("type") != "hello":
                    raise RuntimeError(f"expected hello, got {hello!r}"[:200])
            except Exception as exc:
                if ws is not None:
                    with contextlib.suppress(Exception):
                        ws.close(timeout=1)
                if self.stopping:
                    return
                self.fire("WS connect + hello", started, exc)
                failures += 1
                gevent.sleep(min(30.0, 2.0**failures) * random.uniform(0.5, 1.0))  # live.js's back-off
                continue
            self.fire("WS connect + hello", started)
            self.ws, reconnected, self.connected_before = ws, self.connected_before, True
            failures = 0
            OPEN_SOCKETS[0] += 1
            # Woken every second: an own step's push that is overdue is counted lost on time.
            ws.settimeout(1.0)
            pinged = time.monotonic()
            if reconnected:
                self.refresh_soon()  # live.js reads everything again after a reconnect
            try:
                while not self.stopping:
                    self.expire_pending()
                    if time.monotonic() - pinged >= PING_SECONDS:
                        ws.send('{"type": "ping"}')
                        pinged = time.monotonic()
                    try:
                        raw = ws.recv()
                    except websocket.WebSocketTimeoutException:
                        continue
                    if not raw:  # a close frame: the server ended the socket
                        break
                    self.message(json.loads(raw))
            except (websocket.WebSocketException, OSError, ValueError):
                pass
            finally:
                OPEN_SOCKETS[0] -= 1
                self.ws = None
            if not self.stopping:
                COUNTS["sockets closed by the server"] += 1
                failures = 1
                gevent.sleep(random.uniform(0.5, 1.0))

    def message(self, message: dict) -> None:
        kind = message.get("type")
        COUNTS[f"socket messages: {kind}"] += 1
        if kind == "referral.changed":
            referral, state = message.get("referral"), message.get("state")
            mine = self.pending.get(referral)
            if mine is not None and mine[0] == state:
                del self.pending[referral]
                self.fire("WS referral.changed after own step", mine[1])
            if self.case is not None and self.case[0] == referral and self.case[1] != state:
                COUNTS["case pages reloaded"] += 1
                gevent.spawn(self.reload_case, referral)
            self.refresh_soon()
        elif kind == "hello":  # a later hello means: read everything again
            self.refresh_soon()

    def reload_case(self, referral: int) -> None:
        if not self.stopping:
            self.page(f"/referrals/{referral}/", "GET case page (live reload)")

    def refresh_soon(self) -> None:
        if not self.live or not PLAN["live_refresh"]:
            return
        self.refresh_at = time.monotonic() + DEBOUNCE_SECONDS
        if self.refresher is None or self.refresher.dead:
            self.refresher = gevent.spawn(self.refresh_later)

    def refresh_later(self) -> None:
        while (delay := self.refresh_at - time.monotonic()) > 0:
            gevent.sleep(delay)
        if self.stopping:
            return
        COUNTS["live refreshes"] += 1
        for url, kind in self.live:  # every live part of the page at once, as the page fetches them
            gevent.spawn(self.fetch_part, url, kind)

    def fetch_part(self, url: str, kind: str) -> None:
        if self.stopping:
            return
        with self.client.get(
            url,
            name=self.name(kind),
            headers={**self.browser, **LIVE_HEADERS},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")

    # --- Steps (API token) ----------------------------------------------------------------------------

    def expire_pending(self) -> None:
        """Own steps whose push never came: one failed notification each, timed at the limit."""
        now = time.perf_counter()
        for referral, (_state, sent) in list(self.pending.items()):
            if now - sent > LOST_AFTER_SECONDS:
                del self.pending[referral]
                lost = RuntimeError(f"not pushed within {LOST_AFTER_SECONDS:.0f} s")
                self.fire("WS referral.changed after own step", now - LOST_AFTER_SECONDS, lost)

    def step(self, pk: int, action: str, body: dict, kind: str) -> bool:
        state = STEP_STATE.get(action)
        sent = time.perf_counter()
        if state and self.ws is not None:  # a socket still connecting cannot be told
            self.pending[pk] = (state, sent)
        elif state:
            COUNTS["steps taken before the own socket was open"] += 1
        with self.client.post(
            f"/api/referrals/{pk}/actions/{action}/",
            name=self.name(kind),
            json=body,
            headers=self.api,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                self.pending.pop(pk, None)
                response.failure(f"{response.status_code} {(response.text or '')[:200]}")
                return False
        return True


def _think(role: str):
    low, high = PLAN["think"][role]
    return between(low, high)


class Officer(Person):
    """A petition officer: registers a dispute and refers it to a township committee of the county."""

    role = "officer"
    weight = PLAN["weights"]["officer"]
    wait_time = _think("officer")

    @task(3)
    def home(self) -> None:
        self.page("/", "GET home page")

    @task(4)
    def referrals(self) -> None:
        self.list_page("/referrals/", "GET list page")

    @task(1)
    def overdue(self) -> None:
        self.list_page("/referrals/?state=mediating&overdue=true", "GET list page, filtered")

    @task(3)
    def look_up(self) -> None:
        self.search()

    @task(4)
    def case(self) -> None:
        self.open_case()

    @task(2)
    def register_and_refer(self) -> None:
        body = new_referral_body(random.choice(self.me["targets"]), today(), next(SERIAL) % 10_000)
        with self.client.post(
            "/api/referrals/", name=self.name("POST register"), json=body, headers=self.api, catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code} {(response.text or '')[:200]}")
                return
            pk = response.json()["id"]
        self.step(pk, "submit", {}, "POST submit")


class Mediator(Person):
    """A township mediator: accepts what was referred, records sessions, concludes."""

    role = "mediator"
    weight = PLAN["weights"]["mediator"]
    wait_time = _think("mediator")

    def on_start(self) -> None:
        self.mine: list[int] = []  # accepted or taken up in this run, not yet concluded
        self.cases: list[int] = []  # the committee's mediating referrals on the list page last seen
        self.heard: list[int] = []  # of those, with a session recorded: ready to conclude
        super().on_start()

    @task(3)
    def home(self) -> None:
        self.page("/", "GET home page")

    @task(3)
    def mediating(self) -> None:
        self.cases = self.list_page("/referrals/?state=mediating", "GET list page, filtered")

    @task(1)
    def look_up(self) -> None:
        self.search()

    @task(3)
    def case(self) -> None:
        self.open_case()

    @task(2)
    def accept(self) -> None:
        """The committee's queue (as the app's list would show it), then accept the first one free."""
        with self.client.get(
            f"/api/referrals/?state=submitted&target={self.me['committee']}",
            name=self.name("GET API list, submitted"),
            headers=self.api,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
                return
            free = [
                row["id"]
                for row in response.json()["results"]
                if row["id"] not in CLAIMED and "accept" in row.get("available_actions", ())
            ]
        if not free:
            COUNTS["nothing to accept"] += 1
            return
        pk = free[0]
        CLAIMED.add(pk)
        body = {"mediators": [self.me["lead"]], "rights_explained": True}
        if self.step(pk, "accept", body, "POST accept"):
            self.mine.append(pk)

    @task(2)
    def session(self) -> None:
        """A session on one of the committee's cases: an own one, or one from the list page seen."""
        free = [pk for pk in self.cases if pk not in CLAIMED]
        if self.mine and (not free or random.random() < 0.5):
            pk = random.choice(self.mine)
        elif free:
            pk = random.choice(free)
            CLAIMED.add(pk)
            self.mine.append(pk)
        else:
            COUNTS["no case for a session"] += 1
            return
        body = {
            "held_on": today(),
            "location": "调解室",
            "participants": "双方当事人",
            "record": "双方陈述意见，同意继续协商。",
        }
        with self.client.post(
            f"/api/referrals/{pk}/sessions/",
            name=self.name("POST session record"),
            json=body,
            headers=self.api,
            catch_response=True,
        ) as response:
            if response.status_code not in (200, 201):
                response.failure(f"{response.status_code} {(response.text or '')[:200]}")
                self.mine.remove(pk)
                return
        if pk not in self.heard:
            self.heard.append(pk)

    @task(1)
    def conclude(self) -> None:
        if not self.heard:
            COUNTS["nothing to conclude"] += 1
            return
        pk = self.heard.pop(0)
        self.mine.remove(pk)
        if random.random() < 0.8:
            body = {
                "agreement": {
                    "form": "oral",
                    "terms": "被申请人于本月底前赔偿500元。",
                    "performance_method": "现金",
                    "performance_due": today(),
                }
            }
            self.step(pk, "succeed", body, "POST succeed")
        else:
            body = {"reason": "views_too_far_apart", "routes_explained": ["litigation"], "note": "双方分歧较大。"}
            self.step(pk, "fail", body, "POST fail")


class Supervisor(Person):
    """A justice bureau's supervisor (a county's, or the city's): the dashboard, figures, overdue cases."""

    role = "supervisor"
    weight = PLAN["weights"]["supervisor"]
    wait_time = _think("supervisor")

    @task(4)
    def home(self) -> None:
        self.page("/", "GET home page")

    @task(2)
    def summary(self) -> None:
        with self.client.get(
            "/api/stats/summary/", name=self.name("GET API statistics summary"), headers=self.api, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")

    @task(2)
    def overdue(self) -> None:
        self.list_page("/referrals/?overdue=true", "GET list page, filtered")

    @task(1)
    def look_up(self) -> None:
        self.search()

    @task(1)
    def case(self) -> None:
        self.open_case()


class Stages(LoadTestShape):
    """Users step up through ``PLAN["stages"]``; each stage ramps, settles, then is measured alone.

    Locust's statistics are reset when a stage's window opens and written (one JSON line to
    ``PLAN["snapshots"]``) when it closes, with the histogram of every request name, so that
    bench.dayload can merge names per budget. No stage is begun that cannot end before
    ``PLAN["deadline"]``; a stage with a quarter of its requests failing is the last.
    """

    def __init__(self) -> None:
        super().__init__()
        self.index = 0
        self.phase = "ramp"
        self.mark = 0.0
        self.out = Path(PLAN["snapshots"])

    def write(self, record: dict) -> None:
        with self.out.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    def tick(self):
        if self.index >= len(PLAN["stages"]):
            return None
        users, rate = PLAN["stages"][self.index], PLAN["spawn_rate"]
        now = time.time()
        if self.phase == "ramp":
            if not self.mark:
                before = PLAN["stages"][self.index - 1] if self.index else 0
                need = (users - before) / rate + PLAN["settle"] + PLAN["measure"] + 3
                if now + need > PLAN["deadline"]:
                    self.write({"stopped": f"no time left for {users} users"})
                    return None
                self.mark = now
            elif self.runner.user_count >= users and self.runner.state == "running":
                self.phase, self.mark = "settle", now
        elif self.phase == "settle" and now - self.mark >= PLAN["settle"]:
            self.runner.stats.reset_all()
            COUNTS.clear()
            self.phase, self.mark = "measure", now
        elif self.phase == "measure" and now - self.mark >= PLAN["measure"]:
            record = self.snapshot(users, self.mark, now)
            self.write(record)
            self.index += 1
            self.phase, self.mark = "ramp", 0.0
            total = record["total"]
            if total["count"] and total["failures"] / total["count"] > 0.25:
                self.write({"stopped": f"{total['failures']} of {total['count']} requests failed at {users} users"})
                return None
            return self.tick()
        return users, rate

    def snapshot(self, users: int, started: float, ended: float) -> dict:
        stats = self.runner.stats

        def entry(e) -> dict:
            return {
                "name": e.name,
                "method": e.method,
                "count": e.num_requests,
                "failures": e.num_failures,
                "p50": e.median_response_time,
                "p95": e.get_response_time_percentile(0.95),
                "max": e.max_response_time,
                "histogram": {str(k): v for k, v in e.response_times.items()},
            }

        errors = sorted(stats.errors.values(), key=lambda e: -e.occurrences)
        return {
            "users": users,
            "running": self.runner.user_count,
            "classes": dict(self.runner.user_classes_count),
            "started": started,
            "ended": ended,
            "entries": [entry(e) for e in stats.entries.values()],
            "total": entry(stats.total),
            "errors": [{"name": e.name, "error": str(e.error)[:300], "count": e.occurrences} for e in errors],
            "counts": dict(COUNTS) | {"open sockets": OPEN_SOCKETS[0]},
        }
