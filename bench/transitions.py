"""Workflow steps over HTTP under concurrency: latency, throughput, and nothing lost or doubled.

``python -m bench.transitions --referrals 400 --clients 8`` with DATABASE_URL (PostgreSQL) set:
prepares submitted referrals for the 环市 committee, starts uvicorn with 2 workers on a free
loopback port, and lets 8 client threads accept, record a session for and conclude them through
the API (token auth). A share of the referrals is accepted by two clients at once, to count that
exactly one wins; 30 referrals are first walked by one client alone. Afterwards the database is
checked: every referral concluded once, every step one timeline event.
"""

from __future__ import annotations

import argparse
import datetime
import os
import queue
import socket
import subprocess
import threading
import time

from bench import _procs
from bench.common import ROOT, Figure, Section, django_setup, emit, summarise

# Referrals walked by a single client before the concurrent run: the step's own latency, which the
# budget is about, apart from the queueing that 8 clients on a 2-CPU machine add.
SOLO = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(n: int) -> tuple[list[int], str, str, int]:
    """N submitted referrals to 环市; returns their ids, the officer's and mediator's tokens, the lead."""
    from accounts.tokens import issue_token
    from bench.dataset import ensure_people
    from referrals import intake, workflow
    from referrals.models import Exclusion, Party
    from referrals.permissions import forget_grants
    from townships.models import Mediator, Organisation

    people = ensure_people()["people"]
    from django.contrib.auth import get_user_model

    User = get_user_model()
    officer = User.objects.get(pk=people["bench-officer"])
    forget_grants(officer)
    origin = Organisation.objects.get(name="蓬江区信访局")
    target = Organisation.objects.get(name="环市街道人民调解委员会", region__code="440703006")
    today = datetime.date.today()
    ids = []
    for i in range(n):
        # Different people in each referral, as at a real counter: with the same two names in all of
        # them, every referral's repeat check (in each step's answer) found hundreds of earlier ones.
        parties = [
            intake.PartyInput(
                role=role,
                kind=Party.Kind.PERSON,
                name=person_name(i, k),
                phone=f"139{i:04d}{k:04d}",
                consent_given_on=today,
                consent_method="written",
            )
            for k, role in enumerate(("petitioner", "respondent"))
        ]
        data = intake.ReferralInput(
            received_on=today,
            category="neighbour",
            summary=f"并发测试 {i}",
            claims="请求调解。",
            target=target,
            scope_ground="civil_between_citizens",
            exclusions_absent=list(Exclusion.values),
            parties=parties,
        )
        referral = intake.create_referral(by=officer, origin=origin, data=data)
        ids.append(workflow.submit_referral(referral, by=officer).pk)
    lead = Mediator.objects.get(user_id=people["bench-mediator"]).pk
    _row, token = issue_token(User.objects.get(pk=people["bench-mediator"]), name="bench")
    _row, officer_token = issue_token(User.objects.get(pk=people["bench-officer"]), name="bench")
    return ids, officer_token, token, lead


def person_name(i: int, k: int) -> str:
    """A name for party ``k`` of referral ``i``: 1,000 combinations, so repeats are as rare as at a counter."""
    surnames, given = "王李张刘陈杨黄赵吴周", "伟芳娜敏静丽强磊军洋"
    return surnames[(i + k) % 10] + given[(i // 10 + 3 * k) % 10] + given[(i // 100 + 7 * k) % 10]


def new_referral_body(target_id: int, today: str, i: int) -> dict:
    """An officer's new referral as the API takes it; names and numbers vary, as at a real counter."""
    return {
        "received_on": today,
        "petition_no": f"BENCH-HTTP-{time.time_ns()}-{i}",
        "category": "neighbour",
        "summary": f"并发测试（登记）{i}",
        "claims": "请求调解。",
        "target": target_id,
        "scope": {"ground": "civil_between_citizens", "exclusions_confirmed_absent": True},
        "parties": [
            {
                "role": role,
                "kind": "person",
                "name": person_name(i + 500, k),
                "phone": f"137{i:04d}{k:04d}",
                "consent": {"given_on": today, "method": "written"},
            }
            for k, role in enumerate(("petitioner", "respondent"))
        ],
    }


def run(n: int, clients: int, workers: int) -> Section:
    import requests

    from referrals.models import Referral, TimelineEvent

    ids, officer_token, token, lead = prepare(n)
    from townships.models import Organisation

    target_id = Organisation.objects.get(name="环市街道人民调解委员会", region__code="440703006").pk
    port = free_port()
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    server = subprocess.Popen(
        _procs.serve_command(port, workers),
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/login/", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.3)
        # One client alone first: the latency of a step itself. Then every client at once: the
        # same steps queueing for the workers, as at a busy counter.
        alone = ids[-SOLO:]
        shared = ids[:-SOLO]
        work: queue.Queue[int] = queue.Queue()
        raced = set(shared[: len(shared) // 10])  # these are accepted by two clients at the same moment
        for pk in shared:
            work.put(pk)
            if pk in raced:
                work.put(pk)
        timings: dict[str, list[float]] = {"accept": [], "session": [], "succeed": []}
        solo: dict[str, list[float]] = {"accept": [], "session": [], "succeed": [], "create": [], "submit": []}
        accepts: dict[int, list[int]] = {}
        concluded: dict[int, int] = {}
        lock = threading.Lock()
        today = datetime.date.today().isoformat()

        def walk(session, pk: int, into: dict[str, list[float]]) -> None:
            started = time.perf_counter()
            response = session.post(
                f"{base}/api/referrals/{pk}/actions/accept/", json={"mediators": [lead], "rights_explained": True}
            )
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                into["accept"].append(elapsed)
                accepts.setdefault(pk, []).append(response.status_code)
            if response.status_code != 200:
                return
            started = time.perf_counter()
            session.post(
                f"{base}/api/referrals/{pk}/sessions/",
                json={"held_on": today, "location": "调解室", "participants": "双方", "record": "同意协商。"},
            )
            into["session"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            done = session.post(
                f"{base}/api/referrals/{pk}/actions/succeed/",
                json={
                    "agreement": {
                        "form": "oral",
                        "terms": "赔偿500元。",
                        "performance_method": "现金",
                        "performance_due": today,
                    }
                },
            )
            with lock:
                into["succeed"].append((time.perf_counter() - started) * 1000)
                concluded[pk] = done.status_code

        def client() -> None:
            session = requests.Session()
            session.headers["Authorization"] = f"Token {token}"
            while True:
                try:
                    pk = work.get_nowait()
                except queue.Empty:
                    return
                walk(session, pk, timings)

        alone_session = requests.Session()
        alone_session.headers["Authorization"] = f"Token {token}"
        for pk in alone:
            walk(alone_session, pk, solo)

        # Registering and referring, timed too: the repeat check runs on each new referral's parties.
        officer = requests.Session()
        officer.headers["Authorization"] = f"Token {officer_token}"
        for i in range(SOLO):
            started = time.perf_counter()
            created = officer.post(f"{base}/api/referrals/", json=new_referral_body(target_id, today, i))
            solo["create"].append((time.perf_counter() - started) * 1000)
            if created.status_code != 201:
                raise RuntimeError(f"create answered {created.status_code}: {created.text[:300]}")
            started = time.perf_counter()
            submitted = officer.post(f"{base}/api/referrals/{created.json()['id']}/actions/submit/", json={})
            solo["submit"].append((time.perf_counter() - started) * 1000)
            if submitted.status_code != 200:
                raise RuntimeError(f"submit answered {submitted.status_code}: {submitted.text[:300]}")

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=20)

    states = dict(Referral.objects.filter(pk__in=ids).values_list("pk", "state"))
    events = TimelineEvent.objects.filter(referral_id__in=ids, action__in=("accept", "succeed"))
    per_referral: dict[tuple[int, str], int] = {}
    for referral_id, action in events.values_list("referral_id", "action"):
        per_referral[(referral_id, action)] = per_referral.get((referral_id, action), 0) + 1
    lost = sum(1 for pk in ids if states[pk] != "succeeded")
    doubled = sum(1 for count in per_referral.values() if count > 1)
    race_ok = sum(1 for pk in raced if sorted(accepts[pk]) == [200, 409])
    refused = sum(1 for code in concluded.values() if code != 200)
    section = Section(
        title="Transitions over HTTP (PostgreSQL, uvicorn)",
        setup=f"{n} submitted referrals, {clients} concurrent clients, uvicorn with {workers} workers, token auth; "
        f"{len(raced)} referrals accepted by two clients at once",
    )
    for bucket, who, note in (
        (solo, "one client", f"{SOLO} referrals, one step after another"),
        (timings, f"{clients} clients at once", f"queueing for {workers} workers on {os.cpu_count()} CPUs"),
    ):
        for action, label in (
            ("create", "POST create (register a referral, repeat check included)"),
            ("submit", "POST submit (refer it)"),
            ("accept", "POST accept"),
            ("session", "POST session record"),
            ("succeed", "POST succeed (conclude with agreement)"),
        ):
            if not bucket.get(action):
                continue  # registering is timed by one client only
            median, p95 = summarise(bucket[action])
            section.figures.append(
                Figure(
                    name=f"{label} — {who}",
                    median=round(median, 1),
                    p95=round(p95, 1),
                    budget="p95 ≤ 200 ms" if action != "session" else "",
                    verdict=("met" if p95 <= 200 else "missed") if action != "session" else "",
                    note=note,
                )
            )
    steps = sum(len(v) for v in timings.values())
    section.figures.append(
        Figure(
            name=f"Throughput (all steps, {clients} clients)",
            unit="steps/s",
            median=round(steps / wall, 1),
            note=f"{steps} requests in {wall:.1f} s",
        )
    )
    section.figures.append(
        Figure(
            name="Conclusions refused",
            unit="count",
            median=refused,
            budget="0",
            verdict="met" if refused == 0 else "missed",
        )
    )
    section.figures.append(
        Figure(
            name="Referrals not concluded (lost)",
            unit="count",
            median=lost,
            budget="0",
            verdict="met" if lost == 0 else "missed",
        )
    )
    section.figures.append(
        Figure(
            name="Steps recorded twice (doubled)",
            unit="count",
            median=doubled,
            budget="0",
            verdict="met" if doubled == 0 else "missed",
        )
    )
    section.figures.append(
        Figure(
            name="Simultaneous double accepts answered 200 + 409",
            unit="count",
            median=race_ok,
            note=f"of {len(raced)}",
            budget=str(len(raced)),
            verdict="met" if race_ok == len(raced) else "missed",
        )
    )
    return section


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--referrals", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    django_setup()
    emit({"section": run(args.referrals, args.clients, args.workers)})


if __name__ == "__main__":
    main()
