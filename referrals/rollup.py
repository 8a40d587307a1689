"""Keeping the statistics cells (``StatsCell``) in step with the referrals.

Each workflow step measures the referral's contribution to the cells before and after it changes
— with the very figure definitions of ``referrals/stats.py``, counted by the database over that
one referral — and adds the difference, in the step's own transaction. So the cells never
disagree with a live count (the tests compare them), and ``rebuild()`` can recreate them from
scratch (after a bulk load, or to repair).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Case, Count, F, QuerySet, Sum, Value, When
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone

from referrals.models import Referral, State, StatsCell

KEY = ("area", "category", "month", "origin_id", "draft")
SUMS = {"days_to_accept", "n_to_accept", "days_to_conclude", "n_to_conclude"}
COUNTERS = tuple(f.name for f in StatsCell._meta.concrete_fields if f.name not in (*KEY, "id"))

Vector = dict[str, float]
Cells = dict[tuple, Vector]


def _aggregates() -> dict:
    from referrals import stats

    now = timezone.now()  # the stored figures do not depend on it (the clock's figures are live)
    counts = {key: Count("pk", filter=stats.FIGURES[key].where(now)) for key in COUNTERS if key not in SUMS}
    return {
        **counts,
        "days_to_accept": Sum(stats._to_accept()),
        "n_to_accept": Count(stats._to_accept()),
        "days_to_conclude": Sum(stats._to_conclude()),
        "n_to_conclude": Count(stats._to_conclude()),
    }


def contributions(qs: QuerySet[Referral]) -> QuerySet:
    """The cells of these referrals with their totals (one GROUP BY)."""
    return (
        qs.order_by()
        .annotate(
            area=Substr("region_code", 1, 9),
            month=TruncMonth("received_on"),
            draft=Case(When(state=State.DRAFT, then=Value(True)), default=Value(False), output_field=BooleanField()),
        )
        .values(*KEY)
        .annotate(**_aggregates())
    )


def _of(pk: int) -> Cells:
    return {
        tuple(row[k] for k in KEY): {c: row[c] or 0 for c in COUNTERS}
        for row in contributions(Referral.objects.filter(pk=pk))
    }


def _add(key: tuple, delta: Vector) -> None:
    where = dict(zip(KEY, key, strict=True))
    changes = {c: F(c) + d for c, d in delta.items() if d}
    if not changes:
        return
    if StatsCell.objects.filter(**where).update(**changes):
        return
    try:
        with transaction.atomic():
            StatsCell.objects.create(**where, **{c: delta.get(c, 0) for c in COUNTERS})
    except IntegrityError:  # another step created the cell meanwhile
        StatsCell.objects.filter(**where).update(**changes)


def apply(before: Cells, after: Cells) -> None:
    for key in before.keys() | after.keys():
        old, new = before.get(key, {}), after.get(key, {})
        _add(key, {c: new.get(c, 0) - old.get(c, 0) for c in COUNTERS})


@contextmanager
def tracked(pk: int | None) -> Iterator[None]:
    """Wrap a change of one referral (``pk`` None: it does not exist yet, see ``record_new``)."""
    before = _of(pk) if pk else {}
    yield
    if pk:
        apply(before, _of(pk))


def record_new(pk: int) -> None:
    apply({}, _of(pk))


def rebuild(*, batch: int = 5000) -> int:
    """Recreate every cell from the referrals; returns the number of cells."""
    with transaction.atomic():
        StatsCell.objects.all().delete()
        rows = []
        created = 0
        for row in contributions(Referral.objects.all()).iterator(chunk_size=batch):
            rows.append(StatsCell(**{k: row[k] for k in KEY}, **{c: row[c] or 0 for c in COUNTERS}))
            if len(rows) >= batch:
                created += len(StatsCell.objects.bulk_create(rows))
                rows = []
        created += len(StatsCell.objects.bulk_create(rows))
    return created
