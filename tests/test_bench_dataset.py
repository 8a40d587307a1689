"""The benchmark's synthetic dataset (``bench/dataset.py``) is written column by column, beside the
models: a field the deadline rules read that it does not set stopped ``make bench`` once (the merged
referral's pointer). Building a small slice here keeps it in step with the models."""

from __future__ import annotations

import pytest

from referrals.deadlines import compute_deadline
from referrals.models import Party, Referral

pytestmark = pytest.mark.django_db


def test_a_slice_of_the_benchmark_dataset_builds_on_the_current_models():
    from bench.dataset import _slice, ensure_people

    _slice(0, 120, ensure_people(), seed=7)
    referrals = list(Referral.objects.all())
    assert len(referrals) == 120
    assert Party.objects.count() == 240
    # What the dataset stored is what the deadline rules compute for the same referral.
    for referral in referrals[:40]:
        assert referral.due_on == compute_deadline(referral).due_on, referral.number


def test_the_benchmarks_clients_get_tokens_the_api_accepts():
    """The transitions and WebSocket benchmarks sign their clients in with tokens of their own making;
    tokens of rest_framework.authtoken stopped working for them once keys were kept hashed only."""
    from accounts.tokens import authenticate
    from bench.notifications import prepare_people
    from bench.transitions import prepare

    ids, officer_key, mediator_key, _lead = prepare(2)
    assert len(ids) == 2
    assert authenticate(officer_key).user.username == "bench-officer"
    assert authenticate(mediator_key).user.username == "bench-mediator"
    _committee, people = prepare_people(3)
    assert [authenticate(key).user_id for _pk, key in people] == [pk for pk, _key in people]
    # A second run (the benchmark's what-if) makes new keys for the same people.
    _committee, again = prepare_people(3)
    assert [pk for pk, _ in again] == [pk for pk, _ in people]
    assert all(authenticate(key) for _pk, key in again) and not any(authenticate(key) for _pk, key in people)
