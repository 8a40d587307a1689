"""Two people pressing conflicting buttons at the same moment: one wins, the other gets 409.

Runs on PostgreSQL, where the row lock is real (SQLite serialises whole transactions instead).
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from referrals.models import Handling, Referral, TimelineEvent
from tests.conftest import Story, api, make_personas

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def race(calls) -> list[int]:
    """Run the calls in threads released together; return their status codes in order."""
    barrier = threading.Barrier(len(calls))
    results: list[int] = [0] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def post(user, url, body):
    fresh = get_user_model().objects.get(pk=user.pk)
    return lambda: api(fresh).post(url, body, format="json").status_code


def test_accept_and_decline_at_once_one_wins_and_one_gets_409():
    people = make_personas()
    story = Story(people)
    for _ in range(5):
        referral = story.submitted()
        base = f"/api/referrals/{referral.pk}/actions/"
        codes = race(
            [
                post(people.mediator, base + "accept/", {"mediators": [people.lead.pk], "rights_explained": True}),
                post(people.mediator, base + "decline/", {"reason": "party_refused"}),
            ]
        )
        assert sorted(codes) == [200, 409]
        referral.refresh_from_db()
        assert referral.state in ("mediating", "declined")
        transitions = TimelineEvent.objects.filter(referral=referral, action__in=("accept", "decline"))
        assert transitions.count() == 1
        assert transitions.get().action == {"mediating": "accept", "declined": "decline"}[referral.state]
        assert Handling.objects.filter(referral=referral, ended_at__isnull=False).count() == 1


def test_the_same_button_pressed_twice_at_once_acts_once():
    people = make_personas()
    story = Story(people)
    referral = story.draft()
    url = f"/api/referrals/{referral.pk}/actions/submit/"
    codes = race([post(people.officer, url, {}) for _ in range(4)])
    assert sorted(codes) == [200, 409, 409, 409]
    assert TimelineEvent.objects.filter(referral=referral, action="submit").count() == 1
    assert Referral.objects.get(pk=referral.pk).state == "submitted"


def test_eight_clients_pressing_accept_and_return_on_ten_referrals_lose_and_double_nothing():
    """80 requests from 8 threads at once, each thread going through the 10 referrals in its own order."""
    import random
    from collections import Counter

    people = make_personas()
    story = Story(people)
    referrals = [story.submitted() for _ in range(10)]
    accept = {"mediators": [people.lead.pk], "rights_explained": True}
    decline = {"reason": "party_refused"}
    plans = []
    for worker in range(8):
        order = [(r.pk, "accept" if (worker + i) % 2 else "decline") for i, r in enumerate(referrals)]
        random.Random(worker).shuffle(order)
        plans.append(order)
    outcomes: list[tuple[int, str, int]] = []
    lock = threading.Lock()

    def work(plan):
        def go():
            done = []
            for pk, action in plan:
                body = accept if action == "accept" else decline
                code = post(people.mediator, f"/api/referrals/{pk}/actions/{action}/", body)()
                done.append((pk, action, code))
            with lock:
                outcomes.extend(done)
            return 0

        return go

    race([work(plan) for plan in plans])
    assert len(outcomes) == 80
    assert {code for _, _, code in outcomes} <= {200, 409}, Counter(code for _, _, code in outcomes)
    for referral in referrals:
        referral.refresh_from_db()
        wins = [action for pk, action, code in outcomes if pk == referral.pk and code == 200]
        assert len(wins) == 1, (referral.pk, wins)
        assert referral.state == {"accept": "mediating", "decline": "declined"}[wins[0]]
        events = TimelineEvent.objects.filter(referral=referral, action__in=("accept", "decline"))
        assert list(events.values_list("action", flat=True)) == wins
        assert Handling.objects.filter(referral=referral, ended_at__isnull=False).count() == 1


def test_submitting_a_draft_while_a_draft_for_the_same_petitioner_is_created_never_deadlocks():
    """The repeat check of a new draft and the submission of an earlier one for the same people ran
    into each other's locks (13 deadlocks in 15 tries on PostgreSQL): both must go through, every time."""
    people = make_personas()
    story = Story(people)
    for _ in range(15):
        first = story.draft()
        parties = [
            {
                "role": p.role,
                "kind": p.kind,
                "name": p.name,
                "id_number": p.id_number,
                "phone": p.phone,
                "consent": {"given_on": p.consent_given_on.isoformat(), "method": p.consent_method},
            }
            for p in first.parties.all()
        ]
        body = {
            "received_on": first.received_on.isoformat(),
            "category": "neighbour",
            "summary": "同一申请人再次来访。",
            "claims": "请求调解。",
            "target": people.huanshi.pk,
            "scope": {"ground": "civil_between_citizens", "exclusions_confirmed_absent": True},
            "parties": parties,
        }
        codes = race(
            [
                post(people.officer, "/api/referrals/", body),
                post(people.officer, f"/api/referrals/{first.pk}/actions/submit/", {}),
            ]
        )
        assert codes == [201, 200]
        assert Referral.objects.get(pk=first.pk).state == "submitted"
        assert Referral.objects.filter(repeat_of=first).count() == 1


def test_eight_identical_posts_with_one_idempotency_key_create_one_draft():
    people = make_personas()
    body = {
        "received_on": "2026-11-20",
        "category": "neighbour",
        "summary": "邻里纠纷。",
        "claims": "请求调解。",
        "target": people.huanshi.pk,
        "scope": {"ground": "civil_between_citizens", "exclusions_confirmed_absent": True},
        "parties": [
            {"role": "petitioner", "kind": "person", "name": "王一", "phone": "13800000001"},
            {"role": "respondent", "kind": "person", "name": "李二", "phone": "13800000002"},
        ],
    }
    answers: list[dict] = []

    def create():
        fresh = get_user_model().objects.get(pk=people.officer.pk)
        response = api(fresh).post("/api/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key")
        answers.append(response.json())
        return response.status_code

    codes = race([create for _ in range(8)])
    assert codes == [201] * 8
    assert Referral.objects.count() == 1
    assert {a["id"] for a in answers} == {Referral.objects.get().pk}
