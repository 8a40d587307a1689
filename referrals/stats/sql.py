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
