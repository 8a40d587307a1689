"""SQL expressions the ORM does not write for us, usable from models (no app imports)."""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.models import FloatField, Func


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
