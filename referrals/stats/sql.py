"""SQL the ORM does not write for us: the median of a stored column, two ways."""

from __future__ import annotations

from django.db import connections
from django.db.models import (
    Aggregate,
    FloatField,
    QuerySet,
)

__all__ = [
    "Median",
    "has_percentile",
    "indexed_durations",
    "median_by_offset",
    "median_by_sorting",
    "median_in_buckets",
    "middle_of",
]

# --- SQL helpers -------------------------------------------------------------------------------


class Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5)``; other backends use ``median_by_offset``."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def has_percentile(qs: QuerySet) -> bool:
    return connections[qs.db].vendor == "postgresql"


def indexed_durations(using: str) -> float:
    """PostgreSQL's estimate of how many acceptance durations the median index holds (kept by VACUUM
    and ANALYZE; 0 when never estimated): how far a walk to a median goes."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", ["referral_days_to_accept"])
        found = cursor.fetchone()
    return max(float(found[0]), 0.0) if found else 0.0


def median_by_offset(qs: QuerySet, column: str, count: int) -> float | None:
    """The median of a stored column over its ``count`` non-null values (counted already by the
    summary): read the middle one or two rows in the column's order, on PostgreSQL from its index
    without sorting (``Referral.Meta.indexes``).

    The result is ``percentile_cont(0.5)``'s: the middle value, or the mean of the middle two.
    Always one query, even for no rows, so that a summary's cost is fixed.
    """
    values = list(middle_of(qs, column, count))
    return sum(values) / len(values) if values else None


def middle_of(qs: QuerySet, column: str, count: int) -> QuerySet:
    """The middle one or two of ``count`` non-null values of ``column``, in order."""
    return (
        qs.filter(**{f"{column}__isnull": False})
        .order_by(column)
        .values_list(column, flat=True)[max(count - 1, 0) // 2 : count // 2 + 1]
    )


def median_by_sorting(qs: QuerySet, column: str) -> float | None:
    """PostgreSQL's ``percentile_cont(0.5)`` of a stored column over its non-null values (the
    condition lets the column's partial index serve the read)."""
    return qs.filter(**{f"{column}__isnull": False}).aggregate(m=Median(column))["m"]


def median_in_buckets(qs: QuerySet, column: str, counts: list[tuple[int, int]], per_unit: int) -> float | None:
    """The median of a stored column, knowing how many of its values fall in each bucket
    (``counts``: ascending (bucket, how many), bucket = ⌊value × ``per_unit``⌋): find the buckets of
    the middle one or two values by counting, then read them with an offset into those buckets
    only, from the column's index, from whichever end of them is nearer. ``percentile_cont(0.5)``'s
    result, like ``median_by_offset``. Always one query, even for no values, so that a summary's
    cost is fixed."""
    total = sum(n for _, n in counts)
    low, high = max(total - 1, 0) // 2, total // 2  # the middle ranks, from 0
    below, first, last, skipped, within = 0, 0, -1, 0, 0
    for bucket, n in counts:
        if below <= low < below + n:
            first, skipped = bucket, below
        if below + n > low:
            within += n
        if below <= high < below + n:
            last = bucket
            break
        below += n
    low, high = low - skipped, high - skipped  # ranks within the buckets read
    order = column
    if within and low > within - 1 - high:
        order, low, high = f"-{column}", within - 1 - high, within - 1 - low
    values = list(
        qs.filter(**{f"{column}__gte": first / per_unit, f"{column}__lt": (last + 1) / per_unit})
        .order_by(order)
        .values_list(column, flat=True)[low : high + 1]
    )
    return sum(values) / len(values) if values else None
