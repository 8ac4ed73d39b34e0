"""Audited writes against plain writes: 16 concurrent writers, and one interactive write during an import.

    [DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything] \\
        python -m benchmarks.audit_bench [--writers 16] [--seconds 15] [--import-rows 100000] [--db-name NAME]

One run, one fresh database (`finpulse_bench_audit` on DATABASE_URL's server, or --db-name):

1. Throughput. `--writers` processes write for `--seconds` each way, plain then audited then
   plain then audited again (the machine is shared; alternating evens out its noise). A plain
   write is one transaction inserting one row into a scratch table; an audited write is the same
   transaction plus `record_audit_event`, exactly what every service does.
2. Latency while a customer import runs. `manage.py import_customers` on a generated file of
   `--import-rows` customers (default 100,000; issue 19 names 1,000,000: `--import-rows 1000000`,
   about ten times the import's duration and some 250 MB of generated CSV under var/bench/)
   runs as a child process (every customer encrypted, indexed, assigned and audited, 1,000 per
   batch), while this process times one interactive plain write
   and one interactive audited write, alternately, every 20 ms; the same loop runs quiet first.
3. The trail verifies after both: the sealer seals what was written (new design) and
   `verify_audit_chain` must exit 0.

The same file runs on the old design (a work tree of main before issue 19, copied there): it
detects which design it measures. Figures go to stdout and benchmarks/results/audit<suffix>.json
with the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import summarise, write_results  # noqa: E402

TARGET_RATIO_VS_OLD = 3.0  # audited writes/s at least 3x the old design's 510/s
OLD_AUDITED_PER_SECOND = 510
TARGET_P95_VS_PLAIN = 2.0
SCRATCH = (
    "CREATE TABLE IF NOT EXISTS bench_scratch "
    "(id bigserial PRIMARY KEY, payload text NOT NULL, at timestamptz NOT NULL DEFAULT now())"
)


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _database(base_url: str, name: str) -> str:
    import psycopg
    from psycopg import sql

    parsed = urlparse(base_url)
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunparse(parsed._replace(path=f"/{name}"))


def _django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finpulse.settings")
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _design() -> str:
    import apps.core.audit as audit

    return "old (advisory-lock chain)" if hasattr(audit, "_CHAIN_LOCK_ID") else "new (lock-free, sealed blocks)"


def _write(audited: bool, n: int) -> None:
    from django.db import connection, transaction

    from apps.core.audit import record_audit_event

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_scratch (payload) VALUES (%s)", [f"row {n}"])
        if audited:
            record_audit_event(
                actor=None, action="bench.written", customer_id=None, metadata={"n": n, "note": "benchmark"}
            )


def _writer(url: str, audited: bool, ready: Any, start: Any, stop_at: Any, counts: Any, slot: int) -> None:
    _django(url)
    from django.db import connection

    connection.ensure_connection()
    with ready.get_lock():
        ready.value += 1
    start.wait()
    n = 0
    while time.time() < stop_at.value:
        _write(audited, slot * 10_000_000 + n)
        n += 1
    counts[slot] = n
    connection.close()


def _throughput(url: str, writers: int, seconds: float, audited: bool) -> float:
    context = mp.get_context("spawn")
    start = context.Event()
    ready = context.Value("i", 0)
    stop_at = context.Value("d", 0.0)
    counts = context.Array("l", writers)
    processes = [
        context.Process(target=_writer, args=(url, audited, ready, start, stop_at, counts, i)) for i in range(writers)
    ]
    for process in processes:
        process.start()
    while ready.value < writers:  # every child imports Django and connects before the clock starts
        time.sleep(0.1)
    stop_at.value = time.time() + seconds
    started = time.time()
    start.set()
    for process in processes:
        process.join()
    elapsed = max(time.time() - started, seconds)
    return sum(counts) / elapsed


def _latency_loop(samples: dict[str, list[float]], *, until: Any, limit: int) -> None:
    n = 0
    while not until() and n < limit:
        for audited in (False, True):
            began = time.perf_counter()
            _write(audited, 900_000_000 + n)
            samples["audited" if audited else "plain"].append((time.perf_counter() - began) * 1000)
        n += 1
        time.sleep(0.02)


def _generate(path: Path, rows: int) -> None:
    from benchmarks.import_bench import generate

    generate(path, rows, 5)


def _setup_import(managers: int = 5) -> None:
    from django.contrib.auth.models import Group

    from apps.identity import roles
    from apps.identity.models import Branch, User

    branch, _ = Branch.objects.get_or_create(code="BENCH", defaults={"name": "Bench branch"})
    group = Group.objects.get(name=roles.RELATIONSHIP_MANAGER)
    for i in range(managers):
        user, _ = User.objects.get_or_create(
            username=f"bench.rm{i}", defaults={"email": f"rm{i}@bank.example", "branch": branch}
        )
        user.groups.add(group)


def _verify(url: str) -> dict[str, Any]:
    """Seal (new design) and verify, as an operator would, in child processes."""
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "false", "LOG_LEVEL": "WARNING"}
    result: dict[str, Any] = {}
    if (ROOT / "apps" / "core" / "management" / "commands" / "seal_audit.py").exists():
        began = time.perf_counter()
        sealed = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "seal_audit"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        result["seal_seconds"] = round(time.perf_counter() - began, 1)
        result["seal_output"] = (sealed.stdout + sealed.stderr).strip()[-300:]
    began = time.perf_counter()
    verified = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "verify_audit_chain"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    result["verify_seconds"] = round(time.perf_counter() - began, 1)
    result["verify_exit"] = verified.returncode
    result["verify_output"] = (verified.stdout + verified.stderr).strip()[-300:]
    return result


def run(*, writers: int, seconds: float, import_rows: int, db_name: str, quiet_samples: int) -> dict[str, Any]:
    base = os.environ.get("DATABASE_URL", "")
    if not base:
        from finpulse.embedded_db import embedded_database_url

        base = embedded_database_url()
    url = _database(base, db_name)
    os.environ["FINPULSE_AUDIT_ANCHOR_DIR"] = str(ROOT / "var" / "bench" / f"{db_name}-anchors")
    anchors = Path(os.environ["FINPULSE_AUDIT_ANCHOR_DIR"])
    if anchors.exists():
        for path in anchors.iterdir():
            path.chmod(0o644)
            path.unlink()
    _django(url)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute(SCRATCH)
    _setup_import()
    results: dict[str, Any] = {
        "design": _design(),
        "writers": writers,
        "seconds_each": seconds,
        "import_rows": import_rows,
        "load_before": _load(),
    }
    _log(f"design: {results['design']}; load {results['load_before']}")

    connection.close()
    rates: dict[str, list[float]] = {"plain": [], "audited": []}
    for audited in (False, True, False, True):
        rate = _throughput(url, writers, seconds, audited)
        rates["audited" if audited else "plain"].append(rate)
        _log(f"{writers} writers, {'audited' if audited else 'plain'}: {rate:,.0f} writes/s (load {_load()})")
    results["throughput_per_second"] = {key: round(sum(v) / len(v)) for key, v in rates.items()}
    results["throughput_runs"] = {key: [round(x) for x in v] for key, v in rates.items()}

    quiet: dict[str, list[float]] = {"plain": [], "audited": []}
    _latency_loop(quiet, until=lambda: False, limit=quiet_samples)
    results["quiet_ms"] = {key: summarise(v) for key, v in quiet.items()}
    quiet_ms = results["quiet_ms"]
    _log(f"quiet: plain p95 {quiet_ms['plain']['p95_ms']} ms, audited p95 {quiet_ms['audited']['p95_ms']} ms")

    path = ROOT / "var" / "bench" / f"customers_{import_rows}.csv"
    if not path.exists():
        _log(f"generating {import_rows:,} customers")
        _generate(path, import_rows)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "false", "LOG_LEVEL": "WARNING"}
    log = ROOT / "var" / "bench" / f"{db_name}-import.log"
    command = [sys.executable, str(ROOT / "manage.py"), "import_customers", str(path), "--batch-size", "1000"]
    _log(f"import of {import_rows:,} customers starts; timing interactive writes meanwhile")
    during: dict[str, list[float]] = {"plain": [], "audited": []}
    began = time.perf_counter()
    with log.open("w") as output:
        child = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        time.sleep(3)  # past the child's start-up, into the import itself
        _latency_loop(during, until=lambda: child.poll() is not None, limit=10**9)
        child.wait()
    results["import_seconds"] = round(time.perf_counter() - began, 1)
    results["import_exit"] = child.returncode
    results["during_import_ms"] = {key: summarise(v) for key, v in during.items()}
    results["load_during_import_end"] = _load()
    plain95, audited95 = (
        results["during_import_ms"]["plain"]["p95_ms"],
        results["during_import_ms"]["audited"]["p95_ms"],
    )
    _log(f"during import: plain p95 {plain95} ms, audited p95 {audited95} ms ({results['import_seconds']} s import)")

    from apps.core.models import AuditEvent

    results["audit_events"] = AuditEvent.objects.count()
    connection.close()
    results["verification"] = _verify(url)
    _log(f"verification: exit {results['verification']['verify_exit']} {results['verification']['verify_output']}")
    results["load_after"] = _load()
    audited_rate = results["throughput_per_second"]["audited"]
    results["targets"] = {
        "audited_rate_vs_old_510": round(audited_rate / OLD_AUDITED_PER_SECOND, 2),
        "audited_rate_at_least_3x_old": audited_rate >= TARGET_RATIO_VS_OLD * OLD_AUDITED_PER_SECOND,
        "during_import_p95_ratio": round(audited95 / plain95, 2) if plain95 else None,
        "during_import_p95_within_2x_plain": bool(plain95) and audited95 <= TARGET_P95_VS_PLAIN * plain95,
        "trail_verifies": results["verification"]["verify_exit"] == 0,
    }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument(
        "--import-rows", type=int, default=100_000, help="Customers in the import (issue 19's size: 1000000)."
    )
    parser.add_argument("--quiet-samples", type=int, default=200)
    parser.add_argument("--db-name", default="finpulse_bench_audit")
    parser.add_argument("--suffix", default="", help="Results file: benchmarks/results/audit<suffix>.json")
    args = parser.parse_args(argv)
    results = run(
        writers=args.writers,
        seconds=args.seconds,
        import_rows=args.import_rows,
        db_name=args.db_name,
        quiet_samples=args.quiet_samples,
    )
    path = write_results(f"audit{args.suffix}", results)
    _log(f"written to {path}")
    return 0 if results["verification"]["verify_exit"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
