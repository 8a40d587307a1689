"""``make bench``: run every benchmark and rewrite BENCHMARKS.md.

    python -m bench            # full: 10⁵ referrals on SQLite, 10⁶ on PostgreSQL (datasets are reused)
    python -m bench --quick    # smaller datasets and fewer repeats, for a check in a few minutes
    python -m bench --only lists,sweep

Each benchmark runs in a child process with its own settings (bench/common.py ``child``), so a
figure is never measured in a process warmed or polluted by another. Benchmarks report; they do
not fail: a missed budget is written down with the measurement that shows where the time goes.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import (
    OUT,
    PG_ADMIN_URL,
    REDIS_URL,
    ROOT,
    Section,
    child,
    ensure_pg_database,
    machine,
    migrate,
    redis_available,
    section_from,
)

# Production-like settings for the children: no debug query logging, hashed static files.
BASE_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-" + "k" * 50,
    "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "0",
    "SECURE_COOKIES": "0",
    "SECURE_HSTS_SECONDS": "0",
    "STATIC_ROOT": str(OUT / "static"),
    "REMINDER_LOOP_IN_SERVER": "0",
    "LOG_LEVEL": "WARNING",
}


def versions() -> dict[str, str]:
    import sqlite3

    import django

    found = {"Django": django.get_version(), "SQLite": sqlite3.sqlite_version}
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"), connect_timeout=3) as conn:
            found["PostgreSQL"] = conn.execute("SHOW server_version").fetchone()[0]
    except Exception:  # no PostgreSQL here: its runs are skipped
        found["PostgreSQL"] = "not available"
    if redis_available():
        import redis

        found["Redis"] = redis.Redis.from_url(REDIS_URL).info("server")["redis_version"]
    return found


def render(sections: list[Section], *, quick: bool, info: dict, seconds: float) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench{' BENCH_ARGS=--quick' if quick else ''}` on "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f} minutes. "
        "Times are milliseconds unless a unit is given; a *reference* is measured side by side in the same "
        "run, and *ratio* = figure ÷ reference. This machine is small and shared, so absolute times are "
        "noisy: read the ratios and the p95 against the budgets of docs/architecture.md#performance-budgets. "
        "Many people at once — a working day under Locust, stepped up until the budgets break — is measured "
        "apart, by `make bench-day` (bench/dayload.py: up to 10 minutes with the machine to itself), and not "
        "written here.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in info.items()),
        "",
    ]
    for section in sections:
        lines += [f"## {section.title}", "", section.setup, ""]
        lines += [
            "| figure | median | p95 | queries | reference | ref. median | ratio | budget | verdict | note |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for f in section.figures:
            unit = "" if f.unit == "ms" else f" {f.unit}"
            cells = [
                f.name,
                "" if f.median is None else f"{f.median}{unit}",
                "" if f.p95 is None else f"{f.p95}",
                "" if f.queries is None else str(f.queries),
                f.reference_name,
                "" if f.reference_median is None else f"{f.reference_median}",
                "" if f.ratio is None else f"{f.ratio:.2f}×",
                f.budget,
                {"met": "✅ met", "missed": "❌ missed"}.get(f.verdict, f.verdict),
                f.note,
            ]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        lines.append("")
        lines += [f"- {note}" for note in section.notes]
        if section.notes:
            lines.append("")
    return "\n".join(lines) + "\n"


def have(module: str) -> bool:
    return importlib.util.find_spec(f"bench.{module}") is not None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small datasets, few repeats")
    parser.add_argument("--only", default="", help="comma-separated: lists,sweep,transitions,import,export,notify")
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()
    wanted = set(filter(None, args.only.split(","))) or {"lists", "sweep", "transitions", "import", "export", "notify"}
    started = time.monotonic()
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.update(BASE_ENV)
    info = {**machine(), **versions()}
    sections: list[Section] = []
    repeat = "5" if args.quick else "20"
    sqlite_n = 20_000 if args.quick else 100_000
    pg_n = 100_000 if args.quick else 1_000_000

    def log(message: str) -> None:
        print(f"[bench {time.monotonic() - started:6.0f}s] {message}", flush=True)

    def measure(title: str, module: str, *args: str, env: dict[str, str], timeout: int = 1800) -> None:
        """One benchmark's section; a benchmark that fails is written down as failed, and the others
        are still measured and written (one failure once lost a whole run's figures)."""
        log(title)
        try:
            sections.append(section_from(child(module, *args, env=env, timeout=timeout)["section"]))
        except RuntimeError as exc:
            sections.append(Section(title=f"{title}: failed", notes=[str(exc)[-1500:]]))

    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, "VAR_DIR": str(OUT / "static-var")},
        check=True,
    )

    if "lists" in wanted:
        sqlite_env = {"VAR_DIR": str(OUT / f"sqlite-{sqlite_n}")}
        migrate(sqlite_env)
        log(f"SQLite dataset of {sqlite_n:,} referrals")
        built = child("dataset", "--n", str(sqlite_n), env=sqlite_env)
        info[f"SQLite dataset ({sqlite_n:,})"] = f"built in {built['seconds']} s" if built["created"] else "reused"
        label = f"SQLite, {sqlite_n:,} referrals"
        measure("lists on SQLite", "lists", "--repeat", repeat, "--label", label, env=sqlite_env)

    pg_url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/fangdiao_bench_{pg_n}"
    pg_env = {"DATABASE_URL": pg_url}
    pg_ready = bool({"lists", "sweep", "transitions"} & wanted) and ensure_pg_database(pg_url)
    if pg_ready:
        migrate(pg_env)
        log(f"PostgreSQL dataset of {pg_n:,} referrals")
        built = child("dataset", "--n", str(pg_n), "--workers", "2", env=pg_env, timeout=3600)
        info[f"PostgreSQL dataset ({pg_n:,})"] = (
            f"built in {built['seconds']} s: {built.get('rows')}" if built["created"] else "reused"
        )
        if "lists" in wanted:
            label = f"PostgreSQL, {pg_n:,} referrals"
            measure("lists on PostgreSQL", "lists", "--repeat", repeat, "--label", label, env=pg_env)
        if "sweep" in wanted:
            measure("reminder sweep", "sweep", env=pg_env)
        if "transitions" in wanted:
            measure("transitions", "transitions", "--referrals", "120" if args.quick else "200", env=pg_env)
    elif {"lists", "sweep", "transitions"} & wanted:
        info["PostgreSQL runs"] = "skipped: no PostgreSQL answering on 127.0.0.1:5432"

    quick = ["--quick"] if args.quick else []
    for key, module in (("import", "roster_import"), ("export", "export"), ("notify", "notifications")):
        if key in wanted and have(module):
            # The notifications what-if (a layer sized for 1,000 sockets) is what the app now sets.
            extra = ["--no-what-if"] if module == "notifications" else []
            measure(module, module, *quick, *extra, env={}, timeout=3600)

    text = render(sections, quick=args.quick, info=info, seconds=time.monotonic() - started)
    Path(args.output).write_text(text, encoding="utf-8")
    log(f"wrote {args.output}")


if __name__ == "__main__":
    main()
