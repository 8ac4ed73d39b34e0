"""The maturity scan over 1,000,000 holdings: total time, batches and queries per batch.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything \\
        python -m benchmarks.maturity_scan_bench [--holdings 1000000] [--batch-size 1000] [--reseed]

Builds (once) a database `finpulse_bench_alerts` on DATABASE_URL's server: 200 relationship
managers, 100,000 customers and --holdings term deposits, their maturity dates spread evenly
over the next five years (so about 1.7% fall in the 30-day window), written by SQL
(generate_series copies of one template row made through the real services, so every NOT NULL
column and the encrypted number are what production writes). Then it runs the scan twice for
a pinned business date, in this process: the first run raises the alerts, tasks,
notifications and audit events; the second finds everything already done. Each run starts
from the state the fixture left (the alerts of a previous benchmark run are deleted first).
The broker is kombu's in-memory transport, so dispatch costs what publishing costs, without
filling a real queue. Figures go to stdout and benchmarks/results/maturity_scan.json.
Target: the first run under 30 s on the CI machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from typing import Any

from benchmarks.common import bench_database_url, write_results

DB_NAME = "finpulse_bench_alerts"
BUSINESS_DATE = dt.date(2026, 3, 2)
CUSTOMERS = 100_000
MANAGERS = 200
FIRST_MANAGER = "(SELECT min(id) FROM identity_user WHERE username LIKE 'bench.rm%%')"


def _setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finpulse.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["FINPULSE_BUSINESS_DATE"] = BUSINESS_DATE.isoformat()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _seed(holdings: int, *, first: int) -> None:
    from decimal import Decimal

    from django.db import connection, transaction

    from apps.accounts.models import Holding
    from apps.accounts.services import open_holding
    from apps.customers.models import Customer
    from apps.customers.services import create_customer
    from apps.identity import roles
    from apps.identity.models import Branch, User
    from apps.products.models import Product, ProductRate

    started = time.perf_counter()
    if first > 1:
        return _more_holdings(holdings, first=first)
    with transaction.atomic():
        branch, _ = Branch.objects.get_or_create(code="BENCH", defaults={"name": "Bench branch"})
        group = __import__("django.contrib.auth.models", fromlist=["Group"]).Group.objects.get(
            name=roles.RELATIONSHIP_MANAGER
        )
        managers = User.objects.bulk_create(
            [User(username=f"bench.rm{i}", email=f"rm{i}@bank.example", branch=branch) for i in range(MANAGERS)]
        )
        group.user_set.add(*managers)
        product = Product.objects.create(code="BENCH-TD", name="Bench fixed saver", category="deposit")
        ProductRate.objects.create(product=product, effective_from=dt.date(2025, 1, 1), rate=Decimal("3.25"))
        ProductRate.objects.create(product=product, effective_from=dt.date(2026, 3, 20), rate=Decimal("3.60"))
        template = create_customer(
            actor=None, external_id="BENCH-TEMPLATE", branch=branch, first_name="Bench", last_name="Customer"
        )
        open_holding(
            actor=None,
            external_id="BENCH-H-TEMPLATE",
            product=product,
            category=Holding.Category.TERM_DEPOSIT,
            parties={template: "owner"},
            currency="GBP",
            opened_on=dt.date(2025, 3, 2),
            number="GB29NWBK60161331926819",
            balance=Decimal("25000"),
            maturity_date=dt.date(2027, 3, 2),
            maturity_instruction="renew",
        )
    customer_cols = [f.column for f in Customer._meta.concrete_fields if f.column != "id"]
    holding_cols = [f.column for f in Holding._meta.concrete_fields if f.column != "id"]
    overrides_c = {
        "external_id": "'BC' || g",
        "display_name": "'Bench Customer ' || g",
        "primary_manager_id": f"{FIRST_MANAGER} + (g %% {MANAGERS})",
    }
    overrides_h = {
        "external_id": "'BH' || g",
        "maturity_date": f"DATE '{BUSINESS_DATE}' + (g %% 1826)",
        "opened_on": f"DATE '{BUSINESS_DATE}' + (g %% 1826) - 365",
    }

    def select(cols: list[str], overrides: dict[str, str]) -> str:
        return ", ".join(overrides.get(c, f't."{c}"') for c in cols)

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO customers_customer ({', '.join(customer_cols)}) "  # noqa: S608 - our own column names
            f"SELECT {select(customer_cols, overrides_c)} FROM customers_customer t, generate_series(1, %s) g "
            "WHERE t.external_id = 'BENCH-TEMPLATE'",
            [CUSTOMERS],
        )
        cursor.execute(
            f"INSERT INTO accounts_holding ({', '.join(holding_cols)}) "  # noqa: S608
            f"SELECT {select(holding_cols, overrides_h)} FROM accounts_holding t, generate_series(1, %s) g "
            "WHERE t.external_id = 'BENCH-H-TEMPLATE'",
            [holdings],
        )
    _parties(1)
    print(f"seeded {holdings:,} holdings in {time.perf_counter() - started:.1f}s", file=sys.stderr)


def _parties(first: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_holdingparty (holding_id, customer_id, role) "
            "SELECT h.id, c.id, 'owner' FROM accounts_holding h "
            "JOIN customers_customer c ON c.external_id = 'BC' || (1 + (substr(h.external_id, 3)::bigint %% %s)) "
            "WHERE h.external_id LIKE 'BH%%' AND substr(h.external_id, 3)::bigint >= %s",
            [CUSTOMERS, first],
        )
        cursor.execute("ANALYZE")


def _more_holdings(holdings: int, *, first: int) -> None:
    """Top up an existing fixture (holdings `first` .. `first + holdings - 1`)."""
    from django.db import connection

    from apps.accounts.models import Holding

    started = time.perf_counter()
    cols = [f.column for f in Holding._meta.concrete_fields if f.column != "id"]
    overrides = {
        "external_id": "'BH' || g",
        "maturity_date": f"DATE '{BUSINESS_DATE}' + (g %% 1826)",
        "opened_on": f"DATE '{BUSINESS_DATE}' + (g %% 1826) - 365",
    }
    picked = ", ".join(overrides.get(c, f't."{c}"') for c in cols)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO accounts_holding ({', '.join(cols)}) SELECT {picked} "  # noqa: S608 - our own column names
            "FROM accounts_holding t, generate_series(%s, %s) g WHERE t.external_id = 'BENCH-H-TEMPLATE'",
            [first, first + holdings - 1],
        )
    _parties(first)
    print(f"added {holdings:,} holdings in {time.perf_counter() - started:.1f}s", file=sys.stderr)


def _reset() -> None:
    """Forget a previous benchmark run's work, so every run starts from the fixture."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM alerts_alert")
        cursor.execute("DELETE FROM notifications_notification")
        cursor.execute("DELETE FROM tasks_task WHERE source_rule <> ''")


def _run(batch_size: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.alerts.scans import run_scans

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        report = run_scans(batch_size=batch_size, only={"maturity"})
        seconds = time.perf_counter() - started
    rule = report.rules["maturity"]
    return {
        "seconds": round(seconds, 2),
        "batches": rule.batches,
        "holdings_in_window": rule.scanned,
        "alerts": rule.alerts,
        "tasks": rule.tasks,
        "notifications": rule.notifications,
        "queries": len(queries),
        "queries_per_batch": round(len(queries) / max(rule.batches, 1), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holdings", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args(argv)

    url = bench_database_url(DB_NAME)
    if args.reseed:
        import psycopg

        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        url = bench_database_url(DB_NAME)
    _setup(url)
    from apps.accounts.models import Holding

    total = Holding.objects.filter(external_id__startswith="BH").count()
    if total < args.holdings:
        _seed(args.holdings - total, first=total + 1)
        total = Holding.objects.count()
    _reset()
    first = _run(args.batch_size)
    second = _run(args.batch_size)
    result = {
        "holdings": total,
        "business_date": BUSINESS_DATE.isoformat(),
        "batch_size": args.batch_size,
        "first_run": first,
        "second_run": second,
        "target_seconds": 30,
        "meets_target": first["seconds"] < 30,
    }
    path = write_results("maturity_scan", result)
    print(
        f"{total:,} holdings: first run {first['seconds']}s ({first['alerts']:,} alerts, {first['batches']} batches, "
        f"{first['queries_per_batch']} queries/batch); second run {second['seconds']}s "
        f"({second['alerts']} alerts, {second['queries_per_batch']} queries/batch) -> {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
