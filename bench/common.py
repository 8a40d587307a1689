"""Shared pieces of the benchmarks: timing, results, database set-up, child processes."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/postgres")
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fangdiao_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")

# docs/architecture.md#performance-budgets, for the benchmarks that judge requests over HTTP (the
# notification budget lives beside its benchmark: bench.notifications.BUDGET_MS).
BUDGET_LIST_P95_MS = 150.0  # a referral list page (API or HTML, 25 rows), a search, a statistics page
BUDGET_TRANSITION_P95_MS = 200.0  # a workflow step's HTTP POST, registering included


@dataclass
class Figure:
    """One measured figure and, where there is one, its reference measured side by side."""

    name: str
    unit: str = "ms"
    median: float | None = None
    p95: float | None = None
    reference_name: str = ""
    reference_median: float | None = None
    queries: int | None = None
    budget: str = ""
    verdict: str = ""
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.median is None or not self.reference_median:
            return None
        return self.median / self.reference_median


@dataclass
class Section:
    title: str
    setup: str = ""
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarise(samples_ms: list[float]) -> tuple[float, float]:
    return statistics.median(samples_ms), percentile(samples_ms, 0.95)


def time_calls(fn: Callable[[], object], *, repeat: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict[str, str]:
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
    }
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        mem_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
        info["memory"] = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    return info


def child(module: str, *args: str, env: dict[str, str], timeout: int = 1800) -> dict:
    """Run ``python -m bench.<module>`` with its own settings; it prints one JSON object last."""
    full_env = {"DEBUG": "1", **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    result = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench.{module} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def emit(payload: dict) -> None:
    """A child's result: one JSON line on stdout (figures as dicts)."""

    def encode(value):
        if isinstance(value, Section):
            return {
                "title": value.title,
                "setup": value.setup,
                "notes": value.notes,
                "figures": [asdict(f) for f in value.figures],
            }
        return value

    print(json.dumps({k: encode(v) for k, v in payload.items()}, ensure_ascii=False, default=str))


def section_from(data: dict) -> Section:
    return Section(
        title=data["title"],
        setup=data.get("setup", ""),
        notes=data.get("notes", []),
        figures=[Figure(**f) for f in data["figures"]],
    )


def django_setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from config.startup import settle

    settle()  # as config/asgi.py does in the server


def ensure_pg_database(url: str = PG_URL) -> bool:
    """Create the bench database if PostgreSQL answers; False when it does not."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    try:
        with psycopg.connect(
            PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True, connect_timeout=3
        ) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return False
    return True


def redis_available(url: str = REDIS_URL) -> bool:
    import socket
    from urllib.parse import urlparse

    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1", **env},
        check=True,
    )
