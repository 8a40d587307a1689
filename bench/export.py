"""The referral ledger export (台账): 50,000 referrals as xlsx, time and peak memory, and where it goes.

How to call it
--------------
::

    python -m bench.export [--quick] [--n N] [--repeat N] [--postgres] [--fresh]

The last stdout line is ``{"section": {...}}`` (``bench.common.emit``). No environment is needed:
each step runs in a child process with an environment built here (``bench._procs.clean_env``:
production settings, DEBUG off; the caller's DATABASE_URL/REDIS_URL/VAR_DIR are not inherited).

- SQLite dataset in ``var/bench/export/sqlite-<N>`` made by ``python -m bench.dataset --n N``
  (the lead's generator, which also creates bench-city and the other personas); kept between runs
  and reused (``--fresh`` rebuilds it; about 12 s for 50,000).
- ``--postgres``: the same on PostgreSQL database ``fangdiao_bench_export`` (rebuilt each run, one
  timed export: about 60 s more). Off by default to keep ``make bench`` short.
- ``--quick``: 10,000 referrals, one timed export (≈ 10 s); full: 50,000 referrals, five timed
  exports for a median and p95, plus one breakdown pass (≈ 2 minutes on the 2-core reference
  machine; an export takes about 15 s since it reads plain rows and writes with XlsxWriter).

Figures: ``GET /api/exports/referrals.xlsx`` through Django's test client (full middleware stack,
session auth) as the city supervisor (bench-city, sees every submitted referral), body read to
the end; peak memory of that process (VmHWM, reset after a warm-up request). Reference: the same
rows written by bare openpyxl in write-only mode. A breakdown pass says where the time goes:
loading the referrals (query, model instances, prefetches), building the rows, writing the xlsx.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import tempfile
import time

from bench import _procs
from bench.common import OUT, Figure, Section, emit, percentile

HERE = OUT / "export"
PG_URL = "postgres://postgres@127.0.0.1:5432/fangdiao_bench_export"
URL = "/api/exports/referrals.xlsx"
PERSONA = "bench-city"
BUDGET = 1.2  # the export against the bare writer on the same rows


# --- Steps (each in its own process) -------------------------------------------------------------


def _user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=PERSONA)


def step_export(repeat: int) -> dict:
    """The export as a browser gets it, ``repeat`` times; peak memory across them."""
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(_user())

    def get(url: str) -> int:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        size = sum(len(chunk) for chunk in response.streaming_content)
        response.close()  # deletes the temporary file, as the server does once it is sent
        return size

    # A warm-up that exports nothing: imports, URL resolution and the first queries are paid here.
    get(f"{URL}?from=2099-01-01")
    _procs.reset_peak()
    baseline = _procs.memory_mb()["rss"]
    queries: list[int] = []
    samples: list[float] = []
    size = 0
    for _ in range(repeat):
        count = [0]

        def counting(execute, sql, params, many, context, count=count):
            count[0] += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(counting):
            size = get(URL)
        samples.append(_procs.ms(time.perf_counter() - started))
        queries.append(count[0])
    return {
        "samples": samples,
        "baseline_mb": baseline,
        "peak_mb": _procs.memory_mb()["peak"],
        "bytes": size,
        "queries": queries[-1],
    }


def _naive(value):
    """What ``lib.spreadsheets.safe_value`` does to a datetime: Excel has no time zones."""
    from django.utils import timezone

    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def step_parts() -> dict:
    """One pass through the ledger, timing its parts; the reference written by bare XlsxWriter alongside.

    - loading: time spent reading the referrals' rows (the iterator) and, per chunk, what hangs off
      them (parties, leaders, 复查/复核, 类案 groups, mediation's outcomes: ``exports._Chunk``);
    - rows: ``referrals.exports.ledger_rows`` apart from loading;
    - reference: the same rows written by bare XlsxWriter as the app configures it (constant memory,
      text kept as text) with ``write_row``, dates given a default format, and saved (values converted
      beforehand, outside the clock, as ``lib.spreadsheets.safe_value`` converts them).
    """
    import xlsxwriter
    from django.http import QueryDict

    from lib.spreadsheets.write import OPTIONS
    from referrals import exports

    user = _user()
    clock = {"loading": 0.0, "write": 0.0}

    def timed(iterator):
        while True:
            started = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                clock["loading"] += time.perf_counter() - started
                return
            clock["loading"] += time.perf_counter() - started
            yield item

    chunk_init = exports._Chunk.__init__

    def timed_chunk(self, *args):
        started = time.perf_counter()
        chunk_init(self, *args)
        clock["loading"] += time.perf_counter() - started

    exports._Chunk.__init__ = timed_chunk  # type: ignore[method-assign]
    with tempfile.TemporaryFile(suffix=".xlsx") as handle:
        workbook = xlsxwriter.Workbook(handle, OPTIONS | {"default_date_format": "yyyy-mm-dd"})
        sheet = workbook.add_worksheet("台账")
        rows = 0
        started = time.perf_counter()
        queryset = exports.ledger_queryset(user, QueryDict())
        for row in exports.ledger_rows(user, timed(queryset.iterator(chunk_size=exports.CHUNK))):
            values = [_naive(v) for v in row]
            before = time.perf_counter()
            sheet.write_row(rows, 0, values)
            clock["write"] += time.perf_counter() - before
            rows += 1
        total = time.perf_counter() - started
        exports._Chunk.__init__ = chunk_init  # type: ignore[method-assign]
        before = time.perf_counter()
        workbook.close()
        clock["write"] += time.perf_counter() - before
        size = handle.tell()
    return {
        "rows": rows,
        "reference_ms": _procs.ms(clock["write"]),
        "reference_bytes": size,
        "loading_ms": _procs.ms(clock["loading"]),
        "rows_ms": _procs.ms(total - clock["write"] - clock["loading"]),
    }


def run_step(name: str, repeat: int) -> dict:
    from bench.common import django_setup

    django_setup()
    from django.utils import translation

    # The ledger's labels are Chinese, as for every user of the site (LANGUAGE_CODE zh-hans).
    translation.activate("zh-hans")
    if name == "export":
        # The breakdown and the reference in the same process, right after the timed exports (whose
        # peak memory is already read): on a machine whose load drifts, side by side is what counts.
        return step_export(repeat) | {"parts": step_parts()}
    return step_parts()


# --- The parent ----------------------------------------------------------------------------------


def _dataset(env: dict[str, str], n: int) -> dict:
    _procs.migrate(env)
    return _procs.run("dataset", "--n", str(n), env=env, timeout=1800)


def run(*, n: int, repeat: int, postgres: bool, fresh: bool) -> Section:
    started = time.perf_counter()
    notes: list[str] = []
    kinds: list[tuple[str, dict[str, str]]] = []
    sqlite_dir = HERE / f"sqlite-{n}"
    if fresh or not (sqlite_dir / "db.sqlite3").exists():
        _procs.fresh_sqlite_dir(sqlite_dir)
    kinds.append(("SQLite", _procs.clean_env(VAR_DIR=str(sqlite_dir))))
    if postgres:
        if _procs.fresh_pg_database(PG_URL):
            kinds.append(("PostgreSQL", _procs.clean_env(DATABASE_URL=PG_URL, VAR_DIR=str(HERE / "pg-var"))))
        else:
            notes.append("PostgreSQL did not answer: its figures are missing.")

    figures: list[Figure] = []
    for kind, env in kinds:
        built = _dataset(env, n)
        # PostgreSQL is rebuilt for every run and costs a minute a run: one timed export there.
        runs = repeat if kind == "SQLite" else 1
        export = _procs.run("export", "--step", "export", "--repeat", str(runs), env=env)
        parts = export["parts"]
        median = round(statistics.median(export["samples"]), 1)
        reference = parts["reference_ms"]
        rows = parts["rows"]
        figures.append(
            Figure(
                name=f"Ledger export, {rows:,} rows (GET {URL}, city supervisor) — {kind}",
                median=median,
                p95=round(percentile(export["samples"], 0.95), 1),
                reference_name="the same rows written by bare XlsxWriter (constant memory)",
                reference_median=reference,
                budget=f"≤ {BUDGET} × the bare writer",
                verdict="✅ met" if median <= BUDGET * reference else "❌ missed",
                queries=export["queries"],
                note=f"{len(export['samples'])} run(s); peak memory {export['peak_mb']:.0f} MB "
                f"({export['peak_mb'] - export['baseline_mb']:+.0f} MB over the process before the export); "
                f"{export['bytes'] / 1024 / 1024:.1f} MB xlsx; {median / rows * 1000:.0f} µs a row",
                extra={
                    "peak_mb": export["peak_mb"],
                    "baseline_mb": export["baseline_mb"],
                    "rows": rows,
                    "samples": export["samples"],
                },
            )
        )
        loading, building = parts["loading_ms"], parts["rows_ms"]
        figures.append(
            Figure(
                name=f"— of which loading the referrals and what hangs off them (one query each a chunk) — {kind}",
                median=loading,
                reference_name="the export",
                reference_median=median,
                note="one pass",
            )
        )
        figures.append(
            Figure(
                name=f"— of which building the rows (ledger_rows) — {kind}",
                median=building,
                reference_name="the export",
                reference_median=median,
                note="one pass",
            )
        )
        figures.append(
            Figure(
                name=f"— bare XlsxWriter constant memory, same rows (reference) — {kind}",
                median=reference,
                reference_name="the export",
                reference_median=median,
                note=f"one pass; {parts['reference_bytes'] / 1024 / 1024:.1f} MB",
            )
        )
        notes.append(
            f"{kind}: dataset {built.get('total', n):,} referrals "
            f"({'built in ' + str(built.get('seconds')) + ' s' if built.get('created') else 'reused'}); "
            f"the city supervisor sees {rows:,} of them (drafts are their authors' own). "
            f"Export {median:.0f} ms ≈ loading {loading:.0f} + rows {building:.0f} + xlsx writing "
            f"(the bare XlsxWriter reference: {reference:.0f}) + the response."
        )
    notes += [
        "One fresh process per database with production settings (DEBUG off): the timed exports, then the "
        "breakdown pass and the bare XlsxWriter reference beside it. Peak memory is VmHWM during the exports, "
        "reset after a warm-up request; the xlsx goes to a temporary file, as in production, and is read "
        "back to the end.",
        f"Benchmark wall time {time.perf_counter() - started:.0f} s.",
    ]
    return Section(
        title="Ledger export (台账导出)",
        setup=f"{n:,} referrals made by bench.dataset; {repeat} timed export(s) on SQLite"
        + ("; one on PostgreSQL" if postgres else ""),
        figures=figures,
        notes=notes,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="10,000 referrals, one timed export")
    parser.add_argument("--n", type=int)
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--postgres", action="store_true", help="also PostgreSQL (about 60 s more)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the SQLite dataset")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        emit(run_step(args.step, args.repeat or 1))
        return
    section = run(
        n=args.n or (10_000 if args.quick else 50_000),
        repeat=args.repeat or (1 if args.quick else 5),
        postgres=args.postgres,
        fresh=args.fresh,
    )
    emit({"section": section})


if __name__ == "__main__":
    main()
