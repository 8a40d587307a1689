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
