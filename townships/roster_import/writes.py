"""Writing a batch of roster entries: new ones the fastest way the database has, and the record of
what an applied import replaced (``RosterChange``), which undoing it puts back."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import connection

from townships.models import Mediator, RosterChange, RosterImport
from townships.roster_import.rows import Candidate

# The fields compared and written, in this order (``Mediator`` fields).
VALUE_FIELDS = ("name", "sex", "mobile", "position", "employment", "specialities", "note", "active")
DEFAULTS = {
    "position": Mediator.Position.MEDIATOR,
    "employment": Mediator.Employment.PART_TIME,
    "specialities": [],
    "note": "",
}


def insert_entries(candidates: list[Candidate], *, now: datetime.datetime, record: RosterImport | None) -> None:
    """New roster entries, marked as created by ``record`` (what undoing it removes).

    ``bulk_create`` spends about 100 µs a row preparing values field by field; a 20,000-row
    roster would miss the import budget (docs/architecture.md#performance-budgets) on that alone. The values here are
    already validated and typed, so they go straight in — same table, same columns, adapted
    by the database's own ``connection.ops`` — by COPY on PostgreSQL, elsewhere as multi-row
    INSERTs as long as the parameter limit allows.
    """
    if not candidates:
        return
    columns = ("committee_id", "id_number", *VALUE_FIELDS, "created_at", "updated_at", "created_by_import_id")
    quote = connection.ops.quote_name
    table = quote(Mediator._meta.db_table)
    names = ", ".join(quote(Mediator._meta.get_field(c.removesuffix("_id")).column) for c in columns)
    stamp = connection.ops.adapt_datetimefield_value(now)
    adapt_json = connection.ops.adapt_json_value
    json_at = 2 + VALUE_FIELDS.index("specialities")
    created_by = record.pk if record is not None else None
    rows = []
    for c in candidates:
        values = {**DEFAULTS, **c.values}
        row = [c.committee.pk, c.id_number, *(values[name] for name in VALUE_FIELDS), stamp, stamp, created_by]
        row[json_at] = adapt_json(row[json_at], None)
        rows.append(row)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        one = "({})".format(", ".join(["%s"] * len(columns)))
        per_statement = max(1, min(1000, (connection.features.max_query_params or 10_000) // len(columns)))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            sql = f"INSERT INTO {table} ({names}) VALUES " + ", ".join([one] * len(chunk))  # noqa: S608 - names from the model, values as parameters
            cursor.execute(sql, [v for row in chunk for v in row])


def before(current: dict[str, object], fields: Iterable[str], updated_at: datetime.datetime) -> dict[str, object]:
    """What an import is about to replace, as ``RosterChange.before`` keeps it (JSON)."""
    return {key: current[key] for key in fields} | {"updated_at": updated_at.isoformat()}


def record_changes(record: RosterImport | None, changes: list[tuple[int, str, dict]], *, batch_size: int) -> None:
    """(mediator pk, ``RosterChange.Action``, before) of each entry the import changed."""
    if record is None or not changes:
        return
    RosterChange.objects.bulk_create(
        [RosterChange(roster_import=record, mediator_id=pk, action=action, before=b) for pk, action, b in changes],
        batch_size=batch_size,
    )
