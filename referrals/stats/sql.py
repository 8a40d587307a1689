"""SQL the ORM does not write for us: fractional days between two moments, and a median."""

from __future__ import annotations

from django.db import NotSupportedError, connections
from django.db.models import (
    Aggregate,
    FloatField,
    Func,
    QuerySet,
)

# --- SQL helpers -------------------------------------------------------------------------------


class DaysBetween(Func):
    """Fractional days from ``start`` to ``end`` (NULL when either is NULL)."""

    output_field = FloatField()

    def __init__(self, end, start) -> None:
        super().__init__(end, start)

    def as_sql(self, compiler, connection, **extra_context):
        end_sql, end_params = compiler.compile(self.source_expressions[0])
        start_sql, start_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            sql = f"(EXTRACT(EPOCH FROM ({end_sql} - {start_sql})) / 86400.0)::double precision"
        elif connection.vendor == "sqlite":
            sql = f"(julianday({end_sql}) - julianday({start_sql}))"
        else:
            raise NotSupportedError(f"DaysBetween is not written for {connection.vendor}")
        return sql, (*end_params, *start_params)


class Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5)``; other backends use ``median_by_offset``."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def has_percentile(qs: QuerySet) -> bool:
    return connections[qs.db].vendor == "postgresql"


def median_by_offset(qs: QuerySet, expression, count: int) -> float | None:
    """The median without a percentile function: sort in SQL and read the middle one or two rows.

    Always one query (even for no rows), so a summary costs the same whatever the data.
    """
    values = list(
        qs.annotate(_value=expression)
        .filter(_value__isnull=False)
        .order_by("_value")
        .values_list("_value", flat=True)[max(count - 1, 0) // 2 : count // 2 + 1]
    )
    return sum(values) / len(values) if values else None
