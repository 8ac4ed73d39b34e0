"""Small helpers every benchmark shares: a database of its own, timing, percentiles, results.

Benchmarks are not tests: they run on demand (`make bench` or `python -m benchmarks.<name>`),
print their figures and write them to benchmarks/results/<name>.json.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def bench_database_url(db_name: str) -> str:
    """DATABASE_URL's server with another database name, created when missing.

    A benchmark seeds hundreds of thousands of rows: it never touches the development or test
    database.
    """
    base = os.environ.get("DATABASE_URL", "")
    if not base:
        # Bare machine: the embedded PostgreSQL under var/ hosts the benchmark's database.
        from finpulse.embedded_db import embedded_database_url

        base = embedded_database_url()
    parsed = urlparse(base)
    url = urlunparse(parsed._replace(path=f"/{db_name}"))
    import psycopg
    from psycopg import sql

    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name]).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
    return url


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (what load-test tools report)."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarise(samples_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(samples_ms),
        "p50_ms": round(percentile(samples_ms, 0.50), 2),
        "p95_ms": round(percentile(samples_ms, 0.95), 2),
        "p99_ms": round(percentile(samples_ms, 0.99), 2),
        "mean_ms": round(statistics.fmean(samples_ms), 2) if samples_ms else math.nan,
        "max_ms": round(max(samples_ms), 2) if samples_ms else math.nan,
    }


def time_calls(call: Callable[[int], Any], *, repeat: int, warmup: int = 10) -> list[float]:
    """Milliseconds of each of `repeat` calls (call(i) gets the iteration number)."""
    for i in range(warmup):
        call(i)
    samples = []
    for i in range(repeat):
        started = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def machine() -> dict[str, Any]:
    """Where the figures come from; the load average says whether the machine was shared."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def write_results(name: str, data: dict[str, Any], path: Path | None = None) -> Path:
    """The figures as benchmarks/results/<name>.json (or `path`), with the machine they ran on."""
    path = path or RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**data, "machine": machine()}, indent=2, sort_keys=True, default=str) + "\n")
    return path


def write_snapshot(snapshot: Callable[[str], dict[str, Any]], argv: list[str]) -> int:
    """`python -m benchmarks.<pages>_snapshot <bench database> <out.json>`: the pages, masked, as JSON.

    Two runs on the same tree write the same file, so a change that should not alter a page is
    checked by running the snapshot on both trees in the same minutes and comparing the files.
    """
    database, out = argv
    pages = snapshot(database)
    Path(out).write_text(json.dumps(pages, indent=1, sort_keys=True), encoding="utf-8")
    print(f"{len(pages)} pages written to {out}")
    return 0


def signed(category: str, amount: Decimal) -> Decimal:
    """A bench balance under the bank's sign rule: what a customer owes (loans, cards) is negative."""
    from apps.accounts.models import LIABILITY_CATEGORIES

    return -amount if category in LIABILITY_CATEGORIES else amount
