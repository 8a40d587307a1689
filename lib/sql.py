"""SQL expressions the ORM does not write for us, usable from models (no app imports)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connections
from django.db.models import FloatField, Func, QuerySet, Sum
from django.db.models.sql.compiler import SQLCompiler


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


# A value no table's id takes: it marks, in the compiled parameters, the one to replace.
_MARK = -7_312_991_337


class Recompiled:
    """A ``values()`` query compiled once per database and run again with another value of one
    parameter (``build(value)`` makes the query; the value must stand in its parameters once).

    For the small query a workflow step asks twice on every change (a referral's share of the
    running totals): Django resolves and compiles its dozens of conditional aggregates in about
    7 ms of Python, ten times what the database takes to answer it. What ``build`` reads besides
    its value (settings, the clock) is fixed at the first call, so it must read nothing else.
    """

    def __init__(self, build: Callable[[object], QuerySet]) -> None:
        self._build = build
        self._compiled: dict[str, tuple[SQLCompiler, str, list, int, list[str]]] = {}

    def _compile(self, alias: str) -> tuple[SQLCompiler, str, list, int, list[str]]:
        query = self._build(_MARK).query
        compiler = query.get_compiler(alias)
        sql, params = compiler.as_sql()
        marks = [i for i, p in enumerate(params) if p == _MARK]
        if len(marks) != 1:
            raise ValueError(f"the value must stand once in the query's parameters, not {len(marks)} times")
        # The columns' names in their order, as QuerySet.values() reads them.
        names = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )
        return compiler, sql, list(params), marks[0], names

    def rows(self, value: object, using: str = DEFAULT_DB_ALIAS) -> list[dict]:
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(using)
        compiler, sql, params, at, names = compiled
        params = [*params[:at], value, *params[at + 1 :]]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        # The compiler's own converters (dates, booleans from SQLite's integers), as values() applies them.
        return [dict(zip(names, row, strict=True)) for row in compiler.results_iter(results=[fetched])]


def sums_by_each(
    qs: QuerySet, dimensions: Sequence[str], columns: Sequence[str], *, overall: bool = True
) -> dict[str | None, list[dict]]:
    """The sums of ``columns`` over ``qs`` grouped by each of ``dimensions`` in turn, and over all
    (None) when ``overall``: {dimension: rows with the dimension's value and the sums}; the one
    over all is a single row, with None sums when nothing matches.

    PostgreSQL reads the rows once for every grouping (``GROUPING SETS``), where one query per
    grouping would read them once each; other databases run one query per grouping.
    """
    connection = connections[qs.db]
    qs = qs.order_by()
    if connection.vendor != "postgresql":
        found: dict[str | None, list[dict]] = {None: [qs.aggregate(**{c: Sum(c) for c in columns})]} if overall else {}
        for dimension in dimensions:
            found[dimension] = list(qs.values(dimension).annotate(**{c: Sum(c) for c in columns}))
        return found
    quote = connection.ops.quote_name
    try:
        inner, params = qs.values(*dimensions, *columns).query.sql_with_params()
    except EmptyResultSet:  # a condition nothing can meet (``__in=[]``), which the ORM answers without asking
        return {**({None: [dict.fromkeys(columns)]} if overall else {}), **{d: [] for d in dimensions}}
    names = ", ".join(map(quote, dimensions))
    sums = ", ".join(f"SUM({quote(c)})" for c in columns)
    sets = ", ".join([*(f"({quote(d)})" for d in dimensions), *(["()"] if overall else [])])
    # Only quoted column names and the ORM's own SQL are put together; the values stay parameters.
    sql = f"SELECT {names}, GROUPING({names}), {sums} FROM ({inner}) AS rows GROUP BY GROUPING SETS ({sets})"  # noqa: S608
    # GROUPING() sets one bit per dimension, the first the highest, for each one summed over.
    ungrouped = {(1 << len(dimensions)) - 1 - (1 << (len(dimensions) - 1 - i)): d for i, d in enumerate(dimensions)}
    found = {**({None: []} if overall else {}), **{d: [] for d in dimensions}}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            values, grouping, totals = row[: len(dimensions)], row[len(dimensions)], row[len(dimensions) + 1 :]
            dimension = ungrouped.get(grouping)
            out = dict(zip(columns, totals, strict=True))
            if dimension is not None:
                out[dimension] = values[dimensions.index(dimension)]
            found[dimension].append(out)
    return found
