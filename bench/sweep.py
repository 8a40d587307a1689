"""The reminder sweep over a large dataset: the steady-state scan, and a sweep with new work.

``python -m bench.sweep`` against a dataset made by ``bench.dataset``. A running system has already
announced every deadline that fell due before; the benchmark reaches that state first (marking
the current ones as announced, in bulk), then times (1) a sweep that finds nothing new — the cost
paid every minute — and (2) a sweep after ``--fresh`` referrals have just entered "due soon".
"""

from __future__ import annotations

import argparse
import datetime
import time

from bench.common import Figure, Section, django_setup, emit, summarise


def announce_all_current() -> int:
    """Record every current due-soon/overdue deadline of every clock (the stage's, the petition's, the
    follow-up's) as announced, as a running system would have; then one untimed pass of every sweep
    for the few the other apps keep. Without it the first timed sweep sends the whole backlog."""
    from django.db import connection
    from django.utils import timezone

    from referrals.models import DeadlineReminder
    from referrals.reminders import run_sweeps, unannounced

    created = 0
    for level, kind, due_field, candidates in unannounced(timezone.now()):
        rows = candidates.order_by().values_list("pk", "deadline_kind", due_field).iterator(chunk_size=5000)
        batch = []
        for pk, stage_kind, due_on in rows:
            batch.append(DeadlineReminder(referral_id=pk, kind=kind or stage_kind, due_on=due_on, level=level))
            if len(batch) >= 5000:
                created += len(DeadlineReminder.objects.bulk_create(batch, ignore_conflicts=True))
                batch = []
        created += len(DeadlineReminder.objects.bulk_create(batch, ignore_conflicts=True))
    if connection.vendor == "postgresql":  # as autovacuum would have, after so many rows at once
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE referrals_deadlinereminder")
    return created + sum(run_sweeps().values())


def make_fresh(n: int) -> list[int]:
    """N open referrals whose deadline starts being "due soon" right now."""
    from django.utils import timezone

    from referrals.models import Referral

    now = timezone.now()
    ids = list(
        Referral.objects.open()
        # Not yet due soon: on a reused dataset, an earlier run's picks already are (and announced).
        .filter(state="mediating", due_at__gt=now + datetime.timedelta(days=5), due_soon_at__gt=now)
        .values_list("pk", flat=True)[:n]
    )
    Referral.objects.filter(pk__in=ids).update(due_soon_at=now - datetime.timedelta(minutes=1))
    return ids


def run(repeat: int, fresh: int) -> Section:
    from referrals.models import Referral
    from referrals.reminders import run_sweeps, sweep_deadlines

    open_count = Referral.objects.open().count()
    backlog = announce_all_current()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        sent = run_sweeps()  # everything the minute loop runs
        samples.append((time.perf_counter() - started) * 1000)
        assert not any(sent.values()), sent
    median, p95 = summarise(samples)
    per_1e5 = median * 100_000 / max(open_count, 1)
    section = Section(
        title="Reminder sweep",
        setup=f"{Referral.objects.count():,} referrals, {open_count:,} open; {backlog:,} current deadlines "
        f"marked as already announced (a running system's steady state); each timed sweep is every app's "
        "(``run_sweeps``: stage, petition, follow-up, 复查复核, 交办件, confirmation windows, supervision, SMS…)",
    )
    section.figures.append(
        Figure(
            name="Sweep with nothing new (every minute)",
            median=round(median, 1),
            p95=round(p95, 1),
            note=f"{per_1e5:.0f} ms per 10⁵ open referrals",
            budget="≤ 1 s per 10⁵ open referrals",
            verdict="met" if per_1e5 <= 1000 else "missed",
            extra={"ms_per_1e5_open": round(per_1e5, 1)},
        )
    )
    ids = make_fresh(fresh)
    started = time.perf_counter()
    sent = sweep_deadlines()
    elapsed = (time.perf_counter() - started) * 1000
    again = sweep_deadlines()
    section.figures.append(
        Figure(
            name=f"Sweep with {len(ids)} deadlines newly due soon",
            median=round(elapsed, 1),
            note=f"{sent} reminders sent ({elapsed / max(sent, 1):.1f} ms each, with their "
            f"notifications); a second sweep sent {again}",
        )
    )
    return section


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fresh", type=int, default=100)
    args = parser.parse_args()
    django_setup()
    emit({"section": run(args.repeat, args.fresh)})


if __name__ == "__main__":
    main()
