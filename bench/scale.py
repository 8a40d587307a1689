"""What grows with the referrals table: sizes, index builds, vacuum, and the plans of the city's pages.

``python -m bench.scale`` against a dataset already made by ``bench.dataset`` on PostgreSQL
(``DATABASE_URL``): the measured half of docs/scaling.md, whose other half extrapolates each figure
to a province (10⁷ referrals) by an explicit rule. It changes no row: the indexes it builds are its
own throwaway ones, built and dropped concurrently as a migration on a live table should (one of them
also plainly, for a few seconds at 10⁶, to time what Django's ``AddIndex`` would hold writes back for).

- the largest tables and indexes: rows, total, heap, index and TOAST bytes, bytes per row;
- ``CREATE INDEX CONCURRENTLY`` of a one-column index on the referrals, of a composite one on the
  parties, of a copy of the widest covering index (``referral_stats``) and (``--gin``) of a copy of
  the search's trigram index, each then ``DROP INDEX CONCURRENTLY`` — outside any transaction (an
  autocommit connection of its own); and the one-column index built plainly, as Django's
  ``AddIndex`` builds it, holding back every write to the table meanwhile;
- ``VACUUM (ANALYZE)`` of the referrals and the parties, as autovacuum would run it, and ``VACUUM
  (DISABLE_PAGE_SKIPPING)``: the whole heap read, as an aggressive (anti-wraparound) vacuum reads it;
- ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest queries of the city supervisor's list, filtered
  list, name searches (the most common name and a name held once) and statistics summary, captured
  from one request each through the test client; and of each clock's reminder-sweep candidates;
- the free disk, the database's size and the machine's load beside every figure (the 2 CPUs are
  shared with other work).

Bounded: about a minute at 10⁶ referrals on a 2-CPU machine, ``--gin`` included (its build is a
third of it).
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import Figure, Section, django_setup, emit

MB = 1024 * 1024
GB = 1024 * MB
PROVINCE_ROWS = 10_000_000
# Jiangmen's townships, and a province's (Guangdong: 21 cities): what the running totals grow with.
CITY_TOWNSHIPS, PROVINCE_TOWNSHIPS = 73, 1_600
CELL_TABLES = {"referrals_statscell", "mediation_mediationcell"}

# The throwaway indexes: names of our own, so that a run interrupted half-way is cleaned up by the next.
PROBES = {
    "bench_scale_referral_updated_at": ("referrals_referral", "(updated_at)", "btree, one timestamp column"),
    "bench_scale_party_name_referral": (
        "referrals_party",
        "(name, referral_id)",
        "btree, composite (text + bigint)",
    ),
    "bench_scale_search_trgm": (
        "referrals_referral",
        "USING gin (search_text gin_trgm_ops)",
        "GIN trigram, a copy of referral_search_trgm",
    ),
}
SCAN_NODES = {
    "Seq Scan",
    "Index Scan",
    "Index Only Scan",
    "Bitmap Heap Scan",
    "Bitmap Index Scan",
    "Parallel Seq Scan",
}


def load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load {one:.2f} (5 min {five:.2f})"


def with_load(note: str) -> str:
    return f"{note}; {load()}" if note else load()


def mb(n: float) -> float:
    return round(n / MB, 1)


# What the server said on the DDL connection (VACUUM VERBOSE reports its pages there).
NOTICES: list[str] = []


def ddl_connection():
    """Autocommit: CREATE / DROP INDEX CONCURRENTLY and VACUUM refuse to run in a transaction block."""
    import psycopg

    url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    conn = psycopg.connect(url, autocommit=True)
    conn.add_notice_handler(lambda diag: NOTICES.append(diag.message_primary or ""))
    return conn


def setting(conn, name: str) -> str:
    return conn.execute(f"SHOW {name}").fetchone()[0]


# --- Sizes ------------------------------------------------------------------------------------------


def sizes(conn, factor: float, tables: int, indexes: int) -> tuple[list[Figure], dict[str, Any]]:
    figures: list[Figure] = []
    rows = conn.execute(
        """SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid), pg_relation_size(c.oid),
                  pg_indexes_size(c.oid), COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0),
                  (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind = 'r' AND n.nspname = current_schema()
           ORDER BY pg_total_relation_size(c.oid) DESC""",
    ).fetchall()
    # The largest, and always the running totals and the reminders' claims, however small.
    rows = [row for i, row in enumerate(rows) if i < tables or row[0] in CELL_TABLES | {"referrals_deadlinereminder"}]
    found: dict[str, Any] = {}
    for name, estimate, total, heap, index, toast, n_indexes in rows:
        exact = name in ("referrals_referral", "referrals_party")
        count = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] if exact else max(estimate, 0)
        found[name] = {"rows": count, "total": total, "heap": heap, "indexes": index, "toast": toast}
        per_row = f"; {total / count:.0f} bytes a row in all" if count else ""
        if name in CELL_TABLES:
            grows = (
                f"grows with townships × categories × months × offices, not with referrals: "
                f"×{PROVINCE_TOWNSHIPS / CITY_TOWNSHIPS:.0f} townships at a province (extrapolated): "
                f"{total * PROVINCE_TOWNSHIPS / CITY_TOWNSHIPS / GB:.2f} GB"
            )
        else:
            grows = f"×{factor:.0f} rows (extrapolated, linear): {total * factor / GB:.1f} GB"
        figures.append(
            Figure(
                name=f"Table {name}",
                unit="MB",
                median=mb(total),
                note=with_load(
                    f"{count:,} rows ({'counted' if exact else 'estimate'}); heap {mb(heap)} MB, "
                    f"{n_indexes} indexes {mb(index)} MB, TOAST {mb(toast)} MB{per_row}; {grows}"
                ),
                extra={"rows": count, "total_bytes": total, "heap_bytes": heap, "index_bytes": index},
            )
        )
    for name, table, size, scans in conn.execute(
        """SELECT s.indexrelname, s.relname, pg_relation_size(s.indexrelid), s.idx_scan
           FROM pg_stat_user_indexes s ORDER BY pg_relation_size(s.indexrelid) DESC LIMIT %s""",
        (indexes,),
    ).fetchall():
        figures.append(
            Figure(
                name=f"Index {name} ({table})",
                unit="MB",
                median=mb(size),
                note=with_load(
                    f"{scans:,} scans since the statistics were reset; ×{factor:.0f}: {size * factor / GB:.1f} GB"
                ),
                extra={"bytes": size, "table": table},
            )
        )
    return figures, found


def disk(conn, factor: float) -> list[Figure]:
    database = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    try:
        where = setting(conn, "data_directory")
    except Exception:  # not a superuser: the data directory is hidden, the root file system stands in
        where = "/"
    path = where if Path(where).exists() else "/"
    usage = shutil.disk_usage(path)
    return [
        Figure(
            name="Database size (pg_database_size)",
            unit="GB",
            median=round(database / GB, 2),
            note=with_load(f"×{factor:.0f} rows (extrapolated, linear): {database * factor / GB:.0f} GB"),
            extra={"bytes": database},
        ),
        Figure(
            name=f"Free disk where the data lives ({path})",
            unit="GB",
            median=round(usage.free / GB, 1),
            note=with_load(f"of {usage.total / GB:.0f} GB, {usage.used / GB:.0f} GB used"),
            extra={"free": usage.free, "total": usage.total, "used": usage.used},
        ),
    ]


def references(conn) -> list[Figure]:
    """What partitioning a table must carry along: the foreign keys pointing at it (each needs the
    partition key in the key it references, unless the partition key is the id itself) and its
    unique constraints (each must include the partition key)."""
    figures: list[Figure] = []
    for table in ("referrals_referral", "referrals_party"):
        pointing = conn.execute(
            """SELECT conrelid::regclass::text FROM pg_constraint
               WHERE contype = 'f' AND confrelid = %s::regclass ORDER BY 1""",
            (table,),
        ).fetchall()
        unique = conn.execute(
            """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
               WHERE conrelid = %s::regclass AND contype IN ('p', 'u') ORDER BY 1""",
            (table,),
        ).fetchall()
        tables = sorted({name for (name,) in pointing})
        figures.append(
            Figure(
                name=f"Foreign keys pointing at {table}",
                unit="count",
                median=len(pointing),
                note=with_load(
                    f"from {len(tables)} tables ({', '.join(tables)}); its keys: "
                    + ", ".join(f"{name} {definition}" for name, definition in unique)
                ),
                extra={"tables": tables, "keys": unique},
            )
        )
    return figures


# --- Index builds and vacuum -----------------------------------------------------------------------


def probes(conn, gin: bool) -> list[tuple[str, str, str, str, bool]]:
    """(name, table, what follows ``ON table``, what it is, concurrently) of each throwaway index."""
    found = [
        (name, table, definition, what, True)
        for name, (table, definition, what) in PROBES.items()
        if gin or name != "bench_scale_search_trgm"
    ]
    # The widest index: migrations 0023 and 0025 rebuilt it (RemoveIndex + AddIndex) to add columns.
    row = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'referral_stats'").fetchone()
    if row and " USING " in row[0]:
        found.append(
            (
                "bench_scale_stats_copy",
                "referrals_referral",
                "USING " + row[0].split(" USING ", 1)[1],
                "btree, a copy of referral_stats: 2 key columns and 24 included ones (what migrations "
                "0023 and 0025 rebuilt)",
                True,
            )
        )
    # What Django's AddIndex runs: a plain build, which holds a SHARE lock (writes wait) throughout.
    found.append(
        (
            "bench_scale_referral_updated_at_plain",
            "referrals_referral",
            "(updated_at)",
            "btree, one timestamp column, built plainly as Django's AddIndex does: every write to the "
            "table waits for the whole build",
            False,
        )
    )
    return found


def index_builds(conn, factor: float, gin: bool) -> list[Figure]:
    figures: list[Figure] = []
    for name, table, definition, what, concurrently in probes(conn, gin):
        conn.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')  # a leftover of an interrupted run
        how = "CREATE INDEX CONCURRENTLY" if concurrently else "CREATE INDEX"
        try:
            started = time.perf_counter()
            conn.execute(f'{how} "{name}" ON "{table}" {definition}')
            built = time.perf_counter() - started
            size = conn.execute("SELECT pg_relation_size(%s::regclass)", (name,)).fetchone()[0]
            after_build = load()
        finally:
            started = time.perf_counter()
            conn.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
            dropped = time.perf_counter() - started
        shown = definition if len(definition) < 80 else definition[:60] + " …)"
        figures.append(
            Figure(
                name=f"{how} {name} ON {table} {shown}",
                unit="s",
                median=round(built, 1),
                note=f"{what}; {mb(size)} MB; DROP INDEX CONCURRENTLY {dropped * 1000:.0f} ms; "
                f"×{factor:.0f} rows (extrapolated, linear; the sort's n log n adds ≈ 17 % more): "
                f"≈ {built * factor / 60:.1f} min; " + after_build,
                extra={"seconds": built, "bytes": size, "drop_seconds": dropped, "definition": definition},
            )
        )
    return figures


PAGES = re.compile(r"pages: (\d+) removed, (\d+) remain, (\d+) scanned")


def vacuums(conn, factor: float, sizes_found: dict[str, Any]) -> list[Figure]:
    figures: list[Figure] = []
    notices = NOTICES
    for table in ("referrals_referral", "referrals_party"):
        for options, what in (
            ("VERBOSE, ANALYZE", "as autovacuum runs it: pages all-visible since the last vacuum are skipped"),
            (
                "VERBOSE, DISABLE_PAGE_SKIPPING",
                "every heap page read, as an aggressive (anti-wraparound) vacuum does; no dead rows to remove",
            ),
        ):
            notices.clear()
            started = time.perf_counter()
            conn.execute(f'VACUUM ({options}) "{table}"')
            seconds = time.perf_counter() - started
            text = " ".join(notices)
            pages = PAGES.search(text)
            scanned = f"{int(pages[3]):,} of {int(pages[2]):,} pages scanned" if pages else "pages not reported"
            found = sizes_found.get(table, {})
            heap, index = found.get("heap", 0), found.get("indexes", 0)
            whole = pages is not None and int(pages[3]) > 0.9 * max(int(pages[2]), 1)
            if whole:
                rate = heap / seconds
                # A vacuum that finds dead rows reads the heap and then every index of the table whole.
                grows = (
                    f"{rate / MB:.0f} MB of heap a second; ×{factor:.0f} rows (extrapolated, linear): "
                    f"≈ {seconds * factor:.0f} s; a vacuum with dead rows also reads every index "
                    f"({mb(index)} MB): ≈ {(heap + index) / rate:.1f} s here, "
                    f"≈ {(heap + index) * factor / rate:.0f} s ×factor (estimated at the same rate, from "
                    "memory; from disk slower)"
                )
            else:
                grows = (
                    "ANALYZE's sample is a fixed 30,000 rows (default_statistics_target 100) and the skipped "
                    "pages cost nothing: grows with the pages changed since the last vacuum, not with the table"
                )
            figures.append(
                Figure(
                    name=f"VACUUM ({options.replace('VERBOSE, ', '')}) {table}",
                    unit="s",
                    median=round(seconds, 2),
                    note=with_load(f"{what}; {scanned}; {grows}"),
                    extra={"seconds": seconds, "verbose": text[-2000:]},
                )
            )
    return figures


# --- Plans -----------------------------------------------------------------------------------------


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from walk(child)


def shape(node: dict[str, Any]) -> str:
    """One line: node type, index or table, rows × loops, children in brackets."""
    label = node["Node Type"]
    if node.get("Scan Direction") == "Backward":
        label += " Backward"
    if node.get("Parent Relationship") in ("InitPlan", "SubPlan"):
        label = f"{node['Parent Relationship']}: {label}"
    target = node.get("Index Name") or node.get("Relation Name")
    if target:
        label += f" {target}"
    loops = node.get("Actual Loops", 1)
    rows = node.get("Actual Rows", 0)
    label += f" ({rows:,}" + (f" ×{loops:,}" if loops > 1 else "") + ")"
    removed = node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
    if removed:
        label += f" [−{removed * loops:,} filtered]"
    children = node.get("Plans", [])
    if children:
        label += " ← " + (shape(children[0]) if len(children) == 1 else "[" + "; ".join(map(shape, children)) + "]")
    return label


def touched(plan: dict[str, Any]) -> dict[str, int]:
    """Rows each scan read (returned + filtered away), per table or index, over all its loops."""
    found: dict[str, int] = {}
    for node in walk(plan):
        if node["Node Type"] not in SCAN_NODES:
            continue
        where = node.get("Relation Name") or node.get("Index Name") or "?"
        loops = node.get("Actual Loops", 1)
        read = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        read += node.get("Rows Removed by Index Recheck", 0)
        found[where] = found.get(where, 0) + read * loops
    return found


def explain(sql: str, params) -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        result = cursor.fetchone()[0]
    doc = result[0] if isinstance(result, list) else result
    plan = doc["Plan"]
    return {
        "ms": round(doc["Execution Time"], 1),
        "planning_ms": round(doc["Planning Time"], 1),
        "shape": shape(plan),
        "hit": plan.get("Shared Hit Blocks", 0),
        "read": plan.get("Shared Read Blocks", 0),
        "temp": plan.get("Temp Written Blocks", 0),
        "touched": touched(plan),
    }


def describe(found: dict[str, Any]) -> str:
    rows = ", ".join(f"{where} {n:,}" for where, n in sorted(found["touched"].items(), key=lambda kv: -kv[1])[:4])
    buffers = f"buffers hit {found['hit']:,}, read {found['read']:,}" + (
        f", temp written {found['temp']:,}" if found["temp"] else ""
    )
    return f"{found['shape'][:700]} — rows read: {rows or 'none'}; {buffers} (8 kB each)"


def common_and_rare_name() -> tuple[str, int, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """WITH counted AS (SELECT name, count(*) AS n FROM referrals_party GROUP BY name)
               SELECT (SELECT name FROM counted ORDER BY n DESC, name LIMIT 1),
                      (SELECT max(n) FROM counted),
                      (SELECT name FROM counted WHERE n = 1 ORDER BY name LIMIT 1)"""
        )
        common, held, rare = cursor.fetchone()
    return common, held, rare


def page_plans(username: str, who: str, top: int) -> list[Figure]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    user = get_user_model().objects.get(username=username)
    client = Client()
    client.force_login(user)
    common, held, rare = common_and_rare_name()
    pages: list[tuple[str, str, dict[str, str], int]] = [
        ("API list, first page", "/api/referrals/", {}, top),
        ("API list, filtered (mediating & overdue)", "/api/referrals/", {"state": "mediating", "overdue": "true"}, top),
        (
            f"API list, search by the most common name ({common}: {len(common)} characters, {held:,} parties)",
            "/api/referrals/",
            {"search": common},
            top,
        ),
        (f"API list, search by a name held once ({len(rare)} characters)", "/api/referrals/", {"search": rare}, top),
        ("Statistics summary", "/api/stats/summary/", {}, top + 2),
    ]
    figures: list[Figure] = []
    for title, url, data, keep in pages:
        assert client.get(url, data).status_code == 200, url  # warm: the grants, the caches, the plans
        seen: list[dict[str, Any]] = []

        def record(execute, sql, params, many, context, seen=seen):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                seen.append({"sql": sql, "params": params, "ms": (time.perf_counter() - started) * 1000})

        started = time.perf_counter()
        with connection.execute_wrapper(record):
            response = client.get(url, data)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (url, response.status_code)
        selects = [q for q in seen if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]
        slowest = sorted(selects, key=lambda q: -q["ms"])[:keep]
        in_queries = sum(q["ms"] for q in seen)
        figures.append(
            Figure(
                name=f"{title} — {who}",
                median=round(elapsed, 1),
                queries=len(seen),
                note=with_load(
                    f"one warm request; {in_queries:.0f} ms in its queries, the slowest "
                    + ", ".join(f"{q['ms']:.0f}" for q in slowest)
                    + " ms"
                ),
            )
        )
        for rank, query in enumerate(slowest, 1):
            found = explain(query["sql"], query["params"])
            figures.append(
                Figure(
                    name=f"— its query #{rank} (EXPLAIN ANALYZE)",
                    median=found["ms"],
                    note=with_load(describe(found)),
                    extra={**found, "sql": query["sql"][:3000]},
                )
            )
    return figures


def sweep_plans() -> list[Figure]:
    """The reminder sweep's candidates per clock and level: what a sweep reads every minute. On a
    dataset no sweep has run over, nothing is yet recorded as announced, so the anti-join finds every
    candidate new; the referrals read are the same as in a running system's steady state."""
    from django.db import DEFAULT_DB_ALIAS
    from django.utils import timezone

    from referrals.models import DeadlineReminder, Referral
    from referrals.reminders import unannounced

    figures: list[Figure] = []
    announced = DeadlineReminder.objects.count()
    open_count = Referral.objects.open().count()
    total = 0.0
    for level, kind, field, qs in unannounced(timezone.now()):
        sql, params = qs.query.get_compiler(DEFAULT_DB_ALIAS).as_sql()
        found = explain(sql, params)
        total += found["ms"]
        figures.append(
            Figure(
                name=f"Sweep candidates: {kind or 'stage'} clock ({field}), {level} (EXPLAIN ANALYZE)",
                median=found["ms"],
                note=with_load(describe(found)),
                extra=found,
            )
        )
    figures.append(
        Figure(
            name="Sweep candidates: the six queries together",
            median=round(total, 1),
            note=with_load(
                f"{open_count:,} open referrals, {announced:,} reminders recorded; "
                f"{total * 100_000 / max(open_count, 1):.0f} ms per 10⁵ open referrals (the reading only; "
                "a whole sweep also claims and sends, BENCHMARKS.md)"
            ),
            extra={"open": open_count, "announced": announced},
        )
    )
    return figures


# --- The run ----------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> Section:
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench.scale needs PostgreSQL (DATABASE_URL=postgres://…)")
    started = time.monotonic()
    conn = ddl_connection()
    referrals = conn.execute("SELECT count(*) FROM referrals_referral").fetchone()[0]
    factor = args.target_rows / max(referrals, 1)
    with open("/proc/meminfo") as meminfo:
        memory = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal"))) * 1024
    server = {
        name: setting(conn, name)
        for name in (
            "server_version",
            "shared_buffers",
            "maintenance_work_mem",
            "max_parallel_maintenance_workers",
            "autovacuum_vacuum_scale_factor",
            "autovacuum_vacuum_insert_scale_factor",
            "autovacuum_vacuum_cost_limit",
            "autovacuum_vacuum_cost_delay",
        )
    }
    section = Section(
        title=f"Scale: sizes, index builds, vacuum and plans — PostgreSQL, {referrals:,} referrals",
        setup=f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; database "
        f"{connection.settings_dict['NAME']}; extrapolation factor to {args.target_rows:,} referrals "
        f"×{factor:.1f}; {os.cpu_count()} CPUs, {memory / GB:.1f} GiB memory; PostgreSQL "
        + ", ".join(f"{k} {v}" for k, v in server.items()),
    )

    def log(message: str) -> None:
        print(f"[scale {time.monotonic() - started:5.0f}s] {message}", file=sys.stderr, flush=True)

    log("sizes")
    figures, found = sizes(conn, factor, args.tables, args.indexes)
    section.figures += disk(conn, factor) + figures + references(conn)
    if not args.no_ddl:
        log("index builds")
        section.figures += index_builds(conn, factor, args.gin)
        log("vacuum")
        section.figures += vacuums(conn, factor, found)
    log("page plans")
    section.figures += page_plans(args.user, args.who, args.top)
    log("sweep plans")
    section.figures += sweep_plans()
    conn.close()
    section.notes += [
        "Every figure carries the machine's load average when it was taken: the 2 CPUs are shared with "
        "other work, so a time read under load is an upper bound.",
        "The extrapolations (×factor) are linear in rows and are estimates, not measurements; "
        "docs/scaling.md gives the rule for each kind of figure and where linear is wrong.",
        f"bench.scale wall time {time.monotonic() - started:.0f} s.",
    ]
    return section


def render_markdown(section: Section) -> str:
    lines = [f"## {section.title}", "", section.setup, "", "| figure | value | unit | queries | note |"]
    lines.append("|---|---|---|---|---|")
    for f in section.figures:
        cells = [
            f.name,
            "" if f.median is None else f"{f.median}",
            f.unit,
            "" if f.queries is None else str(f.queries),
            f.note,
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines += ["", *(f"- {note}" for note in section.notes), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("--target-rows", type=int, default=PROVINCE_ROWS, help="extrapolate to this many referrals")
    parser.add_argument("--tables", type=int, default=8, help="the largest tables to report")
    parser.add_argument("--indexes", type=int, default=14, help="the largest indexes to report")
    parser.add_argument("--top", type=int, default=2, help="the slowest queries of each page to EXPLAIN")
    parser.add_argument("--user", default="bench-city", help="the persona whose pages are explained")
    parser.add_argument("--who", default="市级督导 (江门市)")
    parser.add_argument("--gin", action="store_true", help="also build (and drop) a copy of the trigram index")
    parser.add_argument("--no-ddl", action="store_true", help="no index builds and no vacuum")
    parser.add_argument("--markdown", help="also write the section as a Markdown table to this file")
    args = parser.parse_args()
    django_setup()
    section = run(args)
    if args.markdown:
        Path(args.markdown).write_text(render_markdown(section), encoding="utf-8")
    emit({"section": section})


if __name__ == "__main__":
    main()
