"""A transaction chosen as a deadlock's victim is run once more before the user hears of it."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, transaction

from core.db import retry_once_on_deadlock
from referrals.models import NumberCounter

# Serialized like every committing test: its flush must not re-create rows the next one restores.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def lock_both(first: str, second: str, barrier: threading.Barrier, attempts: list[str]) -> None:
    """Lock two rows in the given order; the first attempt waits until the other thread holds its first."""
    with transaction.atomic():
        attempts.append(first)
        NumberCounter.objects.select_for_update().get(key=first)
        if len(attempts) <= 2:
            barrier.wait(timeout=10)
        NumberCounter.objects.select_for_update().get(key=second)


def run_crossed(step) -> tuple[list[BaseException | None], list[str]]:
    NumberCounter.objects.create(key="A")
    NumberCounter.objects.create(key="B")
    barrier = threading.Barrier(2)
    attempts: list[str] = []
    errors: list[BaseException | None] = [None, None]

    def run(index: int, first: str, second: str) -> None:
        try:
            step(first, second, barrier, attempts)
        except BaseException as exc:
            errors[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(0, "A", "B")), threading.Thread(target=run, args=(1, "B", "A"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors, attempts


def test_two_transactions_locking_rows_in_opposite_orders_both_finish_with_one_retry():
    errors, attempts = run_crossed(retry_once_on_deadlock(lock_both))
    assert errors == [None, None]
    assert len(attempts) == 3  # both, and the victim once more


def test_without_the_retry_the_victim_fails():
    errors, _attempts = run_crossed(lock_both)
    assert sorted(type(e).__name__ for e in errors if e) == ["OperationalError"]
    assert any(isinstance(e, OperationalError) for e in errors)
