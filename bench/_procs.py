"""Child processes, clean environments, fresh databases and memory readings for the benchmarks
that run each step in a process of its own (roster_import, export, notifications).

A step runs in its own interpreter so that its peak memory is its own and one step's caches and
garbage do not flatter or burden the next.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.common import PG_ADMIN_URL, ROOT

# What the orchestrator or a developer's shell may have set and a step must not inherit: each step
# chooses its database, channel layer and settings itself.
_INHERITED_SETTINGS = (
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_PREFIX",
    "VAR_DIR",
    "MEDIA_ROOT",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "TASKS_BACKEND",
    "REMINDER_LOOP_IN_SERVER",
    "DB_POOL",
    "DB_POOL_MAX",
)

# Production settings (DEBUG off): no query log, no finders, the settings a deployment runs with.
# Only the HTTPS redirects and secure cookies are off, since the benchmarks speak plain HTTP.
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-" + "k" * 48,
    "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "0",
    "SECURE_COOKIES": "0",
    "SECURE_HSTS_SECONDS": "0",
    "LOG_LEVEL": "WARNING",
}


def clean_env(**settings: str) -> dict[str, str]:
    """The current environment without any app settings, plus production defaults and ``settings``."""
    env = {k: v for k, v in os.environ.items() if k not in _INHERITED_SETTINGS}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env["PYTHONUNBUFFERED"] = "1"
    return {**env, **PRODUCTION, **settings}


def run(module: str, *args: str, env: dict[str, str], timeout: int = 900) -> dict:
    """``python -m bench.<module> *args`` in ``env`` (use ``clean_env``); its last stdout line as JSON."""
    result = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"bench.{module} {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def fresh_pg_database(url: str) -> bool:
    """Drop and create the database named by ``url``; False when PostgreSQL does not answer.

    Only ever called with a database name of our own (never the lead's ``fangdiao_bench``).
    """
    import psycopg

    name = url.rsplit("/", 1)[1]
    if name in ("fangdiao_bench", "postgres", "template0", "template1") or not name.startswith("fangdiao_bench_"):
        raise ValueError(f"refusing to recreate database {name!r}")
    try:
        with psycopg.connect(
            PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True, connect_timeout=3
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return False
    return True


def fresh_sqlite_dir(path: Path) -> Path:
    """An empty VAR_DIR for a SQLite database of our own."""
    import shutil

    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def memory_mb() -> dict[str, float]:
    """This process's resident memory now (VmRSS) and at its peak (VmHWM), in MiB."""
    found: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _sep, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss": found.get("VmRSS", 0.0), "peak": found.get("VmHWM", 0.0)}


def reset_peak() -> bool:
    """Start a new peak-memory reading for this process (Linux: writing 5 to clear_refs resets VmHWM)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def serve_command(port: int, workers: int) -> list[str]:
    """The server as the benchmarks that go over HTTP start it: ``python -m config.serve`` (uvicorn,
    with TCP_NODELAY kept for several workers), production's WebSocket implementation, quiet logs."""
    return [
        sys.executable,
        "-m",
        "config.serve",
        "config.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--lifespan",
        "on",
        "--ws",
        "websockets-sansio",
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def forget_redis_keys(url: str, prefix: str) -> int:
    """Delete a benchmark's own keys (its channel-layer prefix) from a shared Redis; nothing else."""
    import redis

    client = redis.Redis.from_url(url)
    deleted = 0
    try:
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            deleted += client.delete(key)
    finally:
        client.close()
    return deleted
