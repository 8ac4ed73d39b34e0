"""Import a generated file of 1,000,000 customers: rows per second and peak memory.

    [DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything] \\
        python -m benchmarks.import_bench [--rows 1000000] [--batch-size 1000] [--managers 5] [--rerun ROWS]

Writes the CSV to var/bench/ as a stream (never held in memory), recreates the database
`finpulse_bench_import` on DATABASE_URL's server (or the embedded one when it is unset),
migrates it, creates one branch and --managers relationship managers, then runs
`manage.py import_customers` on the file as a child process, exactly as an operator would:
every customer is encrypted (five PII fields), gets its three blind indexes and hints, is
assigned to a manager (object permissions and assignment history in bulk) and leaves its
audit event. Peak memory is the child's maximum resident set size (getrusage
RUSAGE_CHILDREN). With --rerun N, the first N rows are imported again (a new file of the
same content), to measure the all-unchanged path.

Targets: under 10 minutes and under 500 MB for 1,000,000 customers. Figures go to stdout and
benchmarks/results/import.json.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from benchmarks.common import write_results

DB_NAME = "finpulse_bench_import"
ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
TARGET_SECONDS = 600
TARGET_MB = 500
HEADER = [
    "external_id",
    "kind",
    "first_name",
    "last_name",
    "date_of_birth",
    "national_id",
    "email",
    "phone",
    "address",
    "country",
    "segment",
    "risk_profile",
    "annual_income",
    "income_currency",
    "kyc_status",
    "kyc_review_date",
    "status",
    "customer_since",
    "branch_code",
    "manager_username",
]
FIRST = ["Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Sofia", "Leo", "Priya", "Tariq"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Patel", "Khan", "Evans", "Murphy", "García"]
SEGMENTS = ["mass", "mass", "mass", "affluent", "affluent", "premium", "private"]


def _fresh_database(base_url: str) -> str:
    import psycopg
    from psycopg import sql

    parsed = urlparse(base_url)
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    return urlunparse(parsed._replace(path=f"/{DB_NAME}"))


def generate(path: Path, rows: int, managers: int, *, start: int = 0) -> None:
    """Stream `rows` customers to `path` (one row in memory at a time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(start, start + rows):
            writer.writerow(
                [
                    f"BENCH{i:09d}",
                    "individual",
                    FIRST[i % len(FIRST)],
                    LAST[(i // 7) % len(LAST)],
                    f"{1940 + i % 60}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    f"BN{i:09d}",
                    f"customer{i}@mail.example",
                    f"+44 7{i:09d}",
                    f"{1 + i % 200} Station Road, Flat {i % 50}, Leeds LS{1 + i % 28} {i % 9}AB",
                    "GB",
                    SEGMENTS[i % len(SEGMENTS)],
                    str(1 + i % 5),
                    f"{20000 + (i * 37) % 180000}.00",
                    "GBP",
                    "verified",
                    f"{2026 + i % 3}-{1 + i % 12:02d}-15",
                    "active",
                    f"{2000 + i % 25}-06-01",
                    "BENCH",
                    f"bench.rm{i % managers}",
                ]
            )


def _setup(url: str, managers: int) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finpulse.settings")
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from apps.identity import roles
    from apps.identity.models import Branch, User

    call_command("migrate", verbosity=0, interactive=False)
    branch, _ = Branch.objects.get_or_create(code="BENCH", defaults={"name": "Bench branch"})
    group = Group.objects.get(name=roles.RELATIONSHIP_MANAGER)
    for i in range(managers):
        user, _ = User.objects.get_or_create(
            username=f"bench.rm{i}", defaults={"email": f"rm{i}@bank.example", "branch": branch}
        )
        user.groups.add(group)


def _import(url: str, path: Path, batch_size: int, log: Path) -> tuple[float, int]:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "false", "LOG_LEVEL": "WARNING"}
    command = [
        sys.executable,
        str(ROOT / "manage.py"),
        "import_customers",
        str(path),
        "--batch-size",
        str(batch_size),
        "--progress-interval",
        "30",
        "--error-report",
        str(path.with_suffix(".errors.csv")),
    ]
    started = time.perf_counter()
    with log.open("w") as output:
        completed = subprocess.run(command, env=env, stdout=output, stderr=subprocess.STDOUT, check=False)
    elapsed = time.perf_counter() - started
    return elapsed, completed.returncode


def _peak_child_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux


def _state(sample_ids: list[str]) -> dict[str, Any]:
    from apps.core.models import AuditEvent
    from apps.customers.models import Customer, CustomerAssignment, CustomerUserObjectPermission
    from apps.imports.models import ImportRun

    run = ImportRun.objects.order_by("-id").first()
    samples = {c.external_id: c for c in Customer.objects.filter(external_id__in=sample_ids)}
    return {
        "customers": Customer.objects.count(),
        "object_permissions": CustomerUserObjectPermission.objects.count(),
        "assignments": CustomerAssignment.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "run": run.counts if run else {},
        "run_status": run.status if run else "",
        "samples_decrypt": all(
            samples[i].email == f"customer{int(i[5:])}@mail.example" and samples[i].national_id == f"BN{int(i[5:]):09d}"
            for i in sample_ids
            if i in samples
        )
        and len(samples) == len(sample_ids),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--managers", type=int, default=5)
    parser.add_argument("--rerun", type=int, default=0, help="Also re-import this many rows (all unchanged).")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base:
        # Bare machine: the embedded PostgreSQL under var/ hosts the benchmark's database.
        from finpulse.embedded_db import embedded_database_url

        base = embedded_database_url()

    path = BENCH_DIR / f"customers_{args.rows}.csv"
    started = time.perf_counter()
    generate(path, args.rows, args.managers)
    generation = time.perf_counter() - started
    print(f"Generated {args.rows:,} rows in {generation:.1f}s: {path} ({path.stat().st_size / 1e6:.0f} MB)")

    url = _fresh_database(base)
    _setup(url, args.managers)
    load_before = os.getloadavg()
    seconds, returncode = _import(url, path, args.batch_size, BENCH_DIR / "import_bench.log")
    peak_mb = _peak_child_mb()
    rate = args.rows / seconds
    sample_ids = [f"BENCH{i:09d}" for i in (0, 1, args.rows // 2, args.rows - 1)]
    state = _state(sample_ids)
    print(f"Imported {args.rows:,} customers in {seconds:.1f}s: {rate:,.0f} rows/s, peak RSS {peak_mb:.0f} MB")
    results: dict[str, Any] = {
        "rows": args.rows,
        "batch_size": args.batch_size,
        "managers": args.managers,
        "seconds": round(seconds, 1),
        "rows_per_second": round(rate),
        "peak_rss_mb": round(peak_mb),
        "exit_code": returncode,
        "target_seconds": TARGET_SECONDS,
        "target_mb": TARGET_MB,
        "meets_time_target": seconds * 1_000_000 / args.rows < TARGET_SECONDS,
        "meets_memory_target": peak_mb < TARGET_MB,
        "extrapolated_seconds_for_1m": round(seconds * 1_000_000 / args.rows),
        "file_mb": round(path.stat().st_size / 1e6),
        "generation_seconds": round(generation, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "state_after": state,
    }
    if args.rerun:
        rerun_path = BENCH_DIR / f"customers_rerun_{args.rerun}.csv"
        generate(rerun_path, args.rerun, args.managers)
        rerun_seconds, rerun_code = _import(url, rerun_path, args.batch_size, BENCH_DIR / "import_bench_rerun.log")
        results["rerun"] = {
            "rows": args.rerun,
            "seconds": round(rerun_seconds, 1),
            "rows_per_second": round(args.rerun / rerun_seconds),
            "exit_code": rerun_code,
            "run": _state([])["run"],
        }
        rerun_rate = args.rerun / rerun_seconds
        print(f"Re-imported {args.rerun:,} unchanged rows in {rerun_seconds:.1f}s ({rerun_rate:,.0f} rows/s)")
    path_written = write_results("import", results)
    print(f"Results: {path_written}")


if __name__ == "__main__":
    main()
