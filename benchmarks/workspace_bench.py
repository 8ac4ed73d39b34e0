"""Manager workspace latency: dashboard, customer name search and the customer 360 page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything \\
        python -m benchmarks.workspace_bench [--customers 100000] [--requests 200] [--reseed]
        [--report-requests 30] [--database finpulse_bench] [--cost [--rounds 40] [--profile]]

Builds (once) a database `finpulse_bench` on DATABASE_URL's server with --customers customers
spread over relationship managers of 500 customers each (BOOK_SIZE: 200 managers at 100,000
customers, 2,000 at 1,000,000), ten managers to a branch, two holdings, an identity document and
an interaction each, tasks for about a third of them and household links for a tenth. Then,
in this one process, the Django test client signs in as one relationship manager (500
customers) and as a compliance officer (every customer) and times --requests requests of
each page through the whole middleware stack. Figures go to stdout and to
benchmarks/results/workspace.json. Target: p95 under 50 ms for each page.

The report pages (issue 21) are measured beside them, --report-requests times each, with their
query counts (of a warm request) under "report_queries_per_request" (the issue's bound: at most
15 at any size): the book report, drill-downs from it (the customer list behind the cadence
chart's "overdue" bar, and for a branch manager or compliance also the customers behind one
manager's row) and the report's CSV export, each as the relationship manager (their book), as a
branch manager (bench.branch, the first branch: ten managers' books, per manager) and as the
compliance officer (the whole bank, per manager).

--cost measures instead what each page of the capacity mix (benchmarks/capacity_bench.py) costs
this process, one request at a time as the bench relationship manager: the floor view and each
page alternate, and each page's median CPU milliseconds (time.process_time: the web side only,
the database's own CPU is not in it) and wall milliseconds are divided by the floor's medians of
the same rounds. Figures go to benchmarks/results/workspace_cost.json; the issue's target is each
page at most 4x the floor. --profile prints each page's hottest functions (cProfile).

The fixture is written through a bulk fast path, not through the services: per-object
services (one transaction and one audit event per customer) would take hours for 100,000
customers. The fast path still produces exactly what the services store where it matters to
the pages: PII is encrypted by the real field code (apps.core.fields, so the same key ring
and format), blind indexes and masked hints come from Customer.set_pii and Holding.set_number,
and access is granted by the same direct object-permission rows and assignment history that
apps.customers.services.assign_customers writes. It writes no audit events (nothing here is a
business action); the benchmark database is disposable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlparse, urlunparse

from benchmarks.common import bench_database_url, signed, summarise, time_calls, write_results

DB_NAME = "finpulse_bench"
BOOK_SIZE = 500  # customers per relationship manager, as issue 18 sets the bank
MANAGERS_PER_BRANCH = 10
BATCH = 2000
TARGET_P95_MS = 50.0
REPORT_QUERY_BOUND = 15


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "Oliver George Harry Jack Jacob Noah Charlie Muhammad Thomas Oscar William James Henry Leo Alfie Joshua "
    "Freddie Archie Ethan Isaac Alexander Joseph Edward Samuel Max Daniel Arthur Lucas Mohammed Logan Theo "
    "Harrison Benjamin Mason Sebastian Finley Adam Dylan Zachary Riley Teddy Theodore David Toby Jake Louie "
    "Olivia Amelia Isla Ava Emily Isabella Mia Poppy Ella Lily Sophia Grace Evie Scarlett Ruby Chloe Isabelle "
    "Daisy Freya Phoebe Florence Alice Jessica Sienna Matilda Evelyn Eva Millie Sofia Lucy Elsie Imogen Layla "
    "Rosie Maya Esme Elizabeth Lola Willow Ivy Erin Holly Emilia Molly Ellie Jasmine Eliza Lilly Abigail "
    "Priya Aisha Wei Mei Hiroshi Yuki Carlos Lucia Mateo Sofia Ana Pedro Fatima Omar Zara Ibrahim Hannah "
    "Margaret Patricia Susan Deborah Barbara Helen Sandra Karen Christopher Andrew Stephen Paul Mark Richard"
)
LAST_NAMES = _words(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White "
    "Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips Mason Mitchell Rose Davis Rodriguez "
    "Cox Alexander Garden Campbell Johnston Moore Smyth Oneill Doherty Stewart Quinn Murphy Graham Mclaughlin "
    "Hamilton Murray Hughes Robertson Thomson Scott Macdonald Reid Clark Ross Young Watson Paterson Morrison "
    "Harris Martin Kelly Baker Turner Hill Cooper Ward Morris King Edwards Lee Harrison Allen Moore Parker "
    "Chapman Bennett Carter Gray Shaw Cook Bailey Collins Bell Marshall Fox Anderson Russell Webb Simpson "
    "Kaur Singh Ahmed Ali Hussain Begum Rahman Nguyen Chen Wang Li Zhang Kim Park Tanaka Sato Garcia Martinez "
    "Lopez Gonzalez Perez Sanchez Ramirez Torres Novak Kowalski Nowak Horvat Jensen Hansen Larsen Berg Olsen"
)
SEGMENTS = ("mass", "mass", "mass", "affluent", "affluent", "premium", "private", "sme")
SECOND_HOLDINGS = ("term_deposit", "term_deposit", "savings_account", "loan", "credit_card", "investment")
PRODUCT_CATEGORY = {
    "current_account": "deposit",
    "savings_account": "deposit",
    "term_deposit": "deposit",
    "loan": "loan",
    "credit_card": "card",
    "investment": "investment",
}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _reset_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finpulse.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG would record every query and slow everything
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    # Role groups get their permissions once every app's permissions exist.
    from apps.identity.roles import sync_role_permissions

    sync_role_permissions()


def _seeded_size() -> int:
    from apps.customers.models import Customer

    return Customer.objects.count()


def seed(customers: int, *, rng: random.Random) -> None:
    """The bulk fast path described in the module docstring."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, Permission
    from django.db import connection, transaction
    from django.utils import timezone

    from apps.accounts.models import Holding, HoldingParty
    from apps.core.data_keys import data_key_scope, give_data_keys
    from apps.customers.models import (
        Customer,
        CustomerAssignment,
        CustomerRelationship,
        CustomerUserObjectPermission,
        IdentityDocument,
    )
    from apps.identity import roles
    from apps.identity.models import Branch, User
    from apps.products.models import Product
    from apps.tasks.models import Task

    today = timezone.localdate()
    now = timezone.now()
    unusable = make_password(None)
    managers_count = max(1, customers // BOOK_SIZE)
    branches_count = max(1, managers_count // MANAGERS_PER_BRANCH)
    started = time.perf_counter()
    with transaction.atomic():
        branches = Branch.objects.bulk_create(
            [Branch(code=f"B{n:03d}", name=f"Branch {n}", city="London") for n in range(branches_count)]
        )
        managers = User.objects.bulk_create(
            [
                User(
                    username="bench.manager" if n == 0 else f"rm{n:03d}",
                    first_name=rng.choice(FIRST_NAMES),
                    last_name=rng.choice(LAST_NAMES),
                    email=f"rm{n}@bank.example",
                    password=unusable,  # the benchmark signs in with force_login
                    is_staff=False,
                    branch=branches[n % branches_count],
                )
                for n in range(managers_count)
            ]
        )
        compliance = User.objects.create(username="bench.compliance", password=unusable, branch=None)
        memberships = User.groups.through
        rm_group = Group.objects.get(name=roles.RELATIONSHIP_MANAGER)
        memberships.objects.bulk_create([memberships(user_id=u.pk, group_id=rm_group.pk) for u in managers])
        compliance.groups.add(Group.objects.get(name=roles.COMPLIANCE_OFFICER))
        products = {
            category: Product.objects.create(
                code=f"BENCH-{category}", name=category.replace("_", " ").title(), category=product_category
            )
            for category, product_category in PRODUCT_CATEGORY.items()
        }
    permissions = list(
        Permission.objects.filter(
            content_type__app_label="customers", codename__in=["view_customer", "change_customer"]
        )
    )
    _log(f"  users and products in {time.perf_counter() - started:.1f}s")

    # The book dates' triggers (workspace 0002-0003) look their table up by customer and by reference
    # for every row written. This connection plans those statements once, while the table is empty
    # and analysed so (workspace 0004), as sequential scans, and nothing analyses it during the seed
    # (autovacuum would, between batches): 100,000 customers read 8 billion rows, 23 minutes. Analysing
    # it after each batch of BATCH customers replans them on its indexes.
    holding_seq = 0
    for start in range(0, customers, BATCH):
        # One INSERT for the batch's data keys, kept unwrapped for the batch (a key per customer
        # made and read back one at a time was six queries per customer).
        with transaction.atomic(), data_key_scope():
            batch = []
            for n in range(start, min(start + BATCH, customers)):
                manager = managers[n % managers_count]
                customer = Customer(
                    external_id=f"CB{n:09d}",
                    first_name=rng.choice(FIRST_NAMES),
                    last_name=rng.choice(LAST_NAMES),
                    date_of_birth=dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 65)),
                    address=f"{rng.randrange(1, 300)} High Street, London",
                    segment=rng.choice(SEGMENTS),
                    kyc_status="verified",
                    kyc_review_date=today + dt.timedelta(days=rng.randrange(-30, 700)),
                    annual_income=Decimal(rng.randrange(15_000, 250_000)),
                    branch_id=manager.branch_id,
                    primary_manager=manager,
                    customer_since=today - dt.timedelta(days=rng.randrange(0, 7000)),
                )
                customer.display_name = customer.compose_display_name()
                customer.set_pii("national_id", f"QQ{n:07d}C")
                customer.set_pii("email", f"customer{n}@mail.example")
                customer.set_pii("phone", f"+44 7700 {n:06d}")
                batch.append(customer)
            give_data_keys(batch)
            batch = Customer.objects.bulk_create(batch)  # encryption happens here, in the field code
            CustomerUserObjectPermission.objects.bulk_create(
                [
                    CustomerUserObjectPermission(user_id=c.primary_manager_id, permission=p, content_object_id=c.pk)
                    for c in batch
                    for p in permissions
                ]
            )
            CustomerAssignment.objects.bulk_create(
                [
                    CustomerAssignment(
                        customer_id=c.pk, manager_id=c.primary_manager_id, reason="bench", started_at=now
                    )
                    for c in batch
                ]
            )
            holdings, owners = [], []
            for c in batch:
                for category in ("current_account", rng.choice(SECOND_HOLDINGS)):
                    holding_seq += 1
                    opened = today - dt.timedelta(days=rng.randrange(30, 2000))
                    holding = Holding(
                        external_id=f"H{holding_seq:010d}",
                        category=category,
                        product=products[category],
                        currency=rng.choice(("GBP", "GBP", "GBP", "EUR", "USD")),
                        balance=signed(category, Decimal(rng.randrange(0, 5_000_000)) / 100),
                        opened_on=opened,
                        rate=Decimal("2.5000") if category != "current_account" else None,
                    )
                    if category == "term_deposit":
                        holding.maturity_date = today + dt.timedelta(days=rng.randrange(0, 365))
                        holding.maturity_instruction = "renew"
                    holding.set_number(f"GB29NWBK6016{holding_seq:010d}")
                    holdings.append(holding)
                    owners.append(c.pk)
            holdings = Holding.objects.bulk_create(holdings)
            HoldingParty.objects.bulk_create(
                [
                    HoldingParty(holding_id=h.pk, customer_id=cid, role="owner")
                    for h, cid in zip(holdings, owners, strict=True)
                ]
            )
            documents = []
            for c in batch:
                document = IdentityDocument(
                    customer=c,  # its key is the customer's: no query to find it
                    document_type="passport",
                    issuing_country="GB",
                    expiry_date=today + dt.timedelta(days=rng.randrange(-30, 3650)),
                )
                document.set_number(f"P{c.pk:08d}")
                documents.append(document)
            IdentityDocument.objects.bulk_create(documents)
            Task.objects.bulk_create(
                [
                    Task(
                        customer_id=c.pk,
                        assignee_id=c.primary_manager_id,
                        title=f"Follow up with {c.display_name}",
                        due_at=now + dt.timedelta(days=rng.randrange(-10, 20), hours=rng.randrange(0, 8)),
                        priority=rng.choice((1, 2, 2, 3)),
                    )
                    for c in batch
                    if rng.random() < 0.3
                ]
            )
            _seed_interactions(batch, rng=rng, now=now)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE workspace_bookdate")
        done = min(start + BATCH, customers)
        if done % 20_000 == 0 or done == customers:
            _log(f"  {done} customers in {time.perf_counter() - started:.1f}s")

    # Households: customer n with customer n + managers_count (same manager), for one in ten.
    with transaction.atomic():
        ids = list(Customer.objects.order_by("id").values_list("id", flat=True))
        CustomerRelationship.objects.bulk_create(
            [
                CustomerRelationship(from_customer_id=ids[n], to_customer_id=ids[n + managers_count], kind="household")
                for n in range(0, len(ids) - managers_count, 10)
            ],
            batch_size=5000,
        )
    # What autovacuum would have done by now: statistics and the visibility map.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    _log(f"  seeded in {time.perf_counter() - started:.1f}s")


def _seed_interactions(batch: list[Any], *, rng: random.Random, now: dt.datetime) -> None:
    from django.apps import apps

    if not apps.is_installed("apps.interactions"):
        return
    from apps.interactions.models import Interaction

    Interaction.objects.bulk_create(
        [
            Interaction(
                customer_id=c.pk,
                author_id=c.primary_manager_id,
                channel=rng.choice(("phone", "email", "meeting", "note")),
                occurred_at=now - dt.timedelta(days=rng.randrange(0, 365), minutes=rng.randrange(0, 600)),
                subject="Portfolio review",
                body="Talked through the savings options.",
            )
            for c in batch
        ]
    )


def prepare_database(*, customers: int, reseed: bool, database: str = DB_NAME) -> str:
    """The benchmark bank with `customers` customers (built once, kept), Django set up on it; its URL."""
    url = bench_database_url(database)
    if reseed:
        _reset_database(url)
    _setup_django(url)
    size = _seeded_size()
    if size != customers:
        if size:
            from django.db import connections

            _log(f"Database holds {size} customers, not {customers}: rebuilding it.")
            connections.close_all()
            _reset_database(url)
            _setup_django(url)
        _log(f"Seeding {customers} customers into {database} ...")
        seed(customers, rng=random.Random(20260302))
    return url


def _ensure_branch_manager() -> None:
    """bench.branch, branch manager of bench.manager's branch (made here, so that a benchmark
    database seeded before it existed gets one too)."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from apps.identity import roles
    from apps.identity.models import User

    manager = User.objects.get(username="bench.manager")
    user, made = User.objects.get_or_create(
        username="bench.branch", defaults={"password": make_password(None), "branch_id": manager.branch_id}
    )
    if made:
        user.groups.add(Group.objects.get(name=roles.BRANCH_MANAGER))


def _report_pages(*, manager_id: int) -> dict[str, dict[str, str]]:
    """Each role's report pages: the report, its drill-downs and its CSV export."""
    overdue = "/customers/?" + urlencode({"segment": "mass", "contact_overdue": "on", "sort": "name"})
    pages = {"book_report": "/reports/book/", "drill_down_overdue": overdue, "report_csv": "/reports/book/export.csv"}
    one_manager = "/customers/?" + urlencode({"manager": manager_id, "sort": "name"})
    return {
        "relationship_manager": pages,
        "branch_manager": {**pages, "drill_down_manager": one_manager},
        "compliance_officer": {**pages, "drill_down_manager": one_manager},
    }


def _measure_reports(*, requests: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Timings and query counts of the report pages (module docstring), the CSV read to its end."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.identity.models import User

    _ensure_branch_manager()
    users = {
        "relationship_manager": "bench.manager",
        "branch_manager": "bench.branch",
        "compliance_officer": "bench.compliance",
    }
    manager_id = User.objects.get(username="bench.manager").pk
    results: dict[str, Any] = {}
    query_counts: dict[str, Any] = {}
    for label, pages in _report_pages(manager_id=manager_id).items():
        client = Client()
        client.force_login(User.objects.get(username=users[label]))
        results[label], query_counts[label] = {}, {}
        for page, path in pages.items():

            def call(i: int, path: str = path, client: Client = client) -> None:
                response = client.get(path)
                if response.status_code != 200:
                    raise SystemExit(f"{response.status_code} for {path}")
                if response.streaming:
                    body = b"".join(response.streaming_content)
                    if body.count(b"\n") < 2:
                        raise SystemExit(f"{path}: a CSV without rows")

            # Counted warm, as tests/workspace/test_book_report.py counts: the first request of a
            # process also fills its per-process caches (content types, compiled scope SQL).
            call(0)
            with CaptureQueriesContext(connection) as queries:
                call(1)
            query_counts[label][page] = len(queries.captured_queries)
            results[label][page] = summarise(time_calls(call, repeat=requests, warmup=2))
            _log(f"  {label} {page}: {query_counts[label][page]} queries, p50 {results[label][page]['p50_ms']} ms")
    return results, query_counts


def run(
    *, customers: int, requests: int, reseed: bool, database: str = DB_NAME, report_requests: int = 30
) -> dict[str, Any]:
    prepare_database(customers=customers, reseed=reseed, database=database)

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.customers.models import Customer
    from apps.identity.models import User

    _collect_static(settings)
    rng = random.Random(7)
    results: dict[str, Any] = {}
    query_counts: dict[str, Any] = {}
    mine = list(
        Customer.objects.filter(primary_manager__username="bench.manager").values_list("pk", "first_name", "last_name")
    )
    for label, username in (("relationship_manager", "bench.manager"), ("compliance_officer", "bench.compliance")):
        user = User.objects.get(username=username)
        client = Client()
        client.force_login(user)
        pages = {
            "dashboard": lambda i: "/",
            "customer_search": lambda i: "/customers/?" + urlencode({"q": _search_term(rng, mine)}),
            "customer_360": lambda i: f"/customers/{rng.choice(mine)[0]}/",
        }
        results[label] = {}
        query_counts[label] = {}
        for page, path_of in pages.items():

            def call(i: int, path_of: Any = path_of, client: Client = client) -> None:
                response = client.get(path_of(i))
                if response.status_code != 200:
                    raise SystemExit(f"{response.status_code} for {response.request['PATH_INFO']}")

            with CaptureQueriesContext(connection) as queries:
                call(0)
            query_counts[label][page] = len(queries.captured_queries)
            results[label][page] = summarise(time_calls(call, repeat=requests, warmup=20))
    report_results, report_queries = _measure_reports(requests=report_requests)
    return {
        "benchmark": "workspace",
        "customers": customers,
        "requests_per_page": requests,
        "target_p95_ms": TARGET_P95_MS,
        "results": results,
        "queries_per_request": query_counts,
        "within_target": all(r["p95_ms"] < TARGET_P95_MS for pages in results.values() for r in pages.values()),
        # The report pages, measured beside the pages a manager opens all day (module docstring);
        # their bound is issue 21's: at most 15 queries at any size.
        "report_requests_per_page": report_requests,
        "report_results": report_results,
        "report_queries_per_request": report_queries,
        "report_query_bound": REPORT_QUERY_BOUND,
        "reports_within_query_bound": all(
            n <= REPORT_QUERY_BOUND for pages in report_queries.values() for n in pages.values()
        ),
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _collect_static(settings: Any) -> None:
    """Hashed static names from the production storage, collected into a scratch folder."""
    import tempfile

    from django.core.management import call_command

    settings.STATIC_ROOT = tempfile.mkdtemp(prefix="finpulse-bench-static-")
    try:
        call_command("collectstatic", "--noinput", verbosity=0)
    except ValueError as error:  # whitenoise MissingFileError: a broken asset reference
        _log(f"collectstatic failed ({error}); timing with plain static URLs instead.")
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }


def _search_term(rng: random.Random, mine: list[tuple[int, str, str]]) -> str:
    """Half the searches name one of the manager's customers, half a name anywhere in the bank."""
    if rng.random() < 0.5:
        _, first, last = rng.choice(mine)
        return f"{first} {last}"
    return rng.choice(LAST_NAMES)


COST_PAGES = ("dashboard", "customer list", "search", "customer 360", "tasks", "API customer list")
FLOOR_RATIO_TARGET = 4.0


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def page_costs(*, customers: int, rounds: int, reseed: bool, database: str, profile: bool = False) -> dict[str, Any]:
    """Each page's CPU and wall milliseconds in this process, alternating with the floor (module docstring)."""
    prepare_database(customers=customers, reseed=reseed, database=database)
    import cProfile
    import pstats

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.customers.models import Customer
    from apps.identity.models import User

    _collect_static(settings)
    user = User.objects.get(username="bench.manager")
    mine = list(Customer.objects.filter(primary_manager=user).order_by("pk").values_list("pk", "last_name")[:50])
    terms = sorted({last for _, last in mine if len(last) >= 3})[:5]  # as capacity_bench picks a session's terms
    rng = random.Random(3)
    paths: dict[str, Any] = {
        "floor": lambda: "/accounts/session/",
        "dashboard": lambda: "/",
        "customer list": lambda: f"/customers/?page={rng.randint(1, 5)}",
        "search": lambda: "/customers/?" + urlencode({"q": rng.choice(terms)}),
        "customer 360": lambda: f"/customers/{rng.choice(mine)[0]}/",
        "tasks": lambda: "/tasks/",
        "API customer list": lambda: "/api/v1/customers/",
    }
    client = Client()
    client.force_login(user)
    queries: dict[str, int] = {}
    for name, path_of in paths.items():
        client.get(path_of())  # warm: a running server has its templates and caches loaded
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path_of())
        if response.status_code != 200:
            raise SystemExit(f"{response.status_code} for {name} in the cost pass")
        queries[name] = len(captured.captured_queries)
    cpu: dict[str, list[float]] = {name: [] for name in paths}
    wall: dict[str, list[float]] = {name: [] for name in paths}
    profiles = {name: cProfile.Profile() for name in COST_PAGES} if profile else {}
    for _ in range(rounds):
        for name in COST_PAGES:
            for timed in ("floor", name):
                path = paths[timed]()
                profiler = profiles.get(timed)
                started_cpu, started_wall = time.process_time(), time.perf_counter()
                if profiler:
                    profiler.enable()
                response = client.get(path)
                if profiler:
                    profiler.disable()
                cpu[timed].append((time.process_time() - started_cpu) * 1000)
                wall[timed].append((time.perf_counter() - started_wall) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{response.status_code} for {path} in the cost pass")
    for name, profiler in profiles.items():
        print(f"--- {name}: hottest functions (cumulative) ---")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    cpu_ms = {name: round(_median(values), 2) for name, values in cpu.items()}
    wall_ms = {name: round(_median(values), 2) for name, values in wall.items()}
    return {
        "benchmark": "workspace_cost",
        "customers": customers,
        "rounds": rounds,
        "cpu_ms_median": cpu_ms,
        "wall_ms_median": wall_ms,
        "floor_ratio_cpu": {name: round(cpu_ms[name] / cpu_ms["floor"], 2) for name in COST_PAGES},
        "floor_ratio_wall": {name: round(wall_ms[name] / wall_ms["floor"], 2) for name in COST_PAGES},
        "queries_per_request": queries,
        "target_floor_ratio": FLOOR_RATIO_TARGET,
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _print_costs(figures: dict[str, Any], path: Any) -> None:
    floor_cpu, floor_wall = figures["cpu_ms_median"]["floor"], figures["wall_ms_median"]["floor"]
    print(
        f"Page cost in-process, {figures['customers']} customers, {figures['rounds']} rounds, one request at a time"
        f" (floor: CPU {floor_cpu} ms, wall {floor_wall} ms median):"
    )
    for name in COST_PAGES:
        ratio = figures["floor_ratio_cpu"][name]
        verdict = "ok" if ratio <= FLOOR_RATIO_TARGET else f"over {FLOOR_RATIO_TARGET:.0f}x"
        print(
            f"  {name:18} CPU {figures['cpu_ms_median'][name]:6.2f} ms ({ratio:4.1f}x floor, {verdict})"
            f"  wall {figures['wall_ms_median'][name]:6.2f} ms ({figures['floor_ratio_wall'][name]:4.1f}x)"
            f"  {figures['queries_per_request'][name]} queries"
        )
    print(f"Written to {path}")


def _print_pages(results: dict[str, dict[str, dict[str, float]]], queries: dict[str, dict[str, int]]) -> None:
    """One line per role and page: p50, p95 and queries per request."""
    for role, pages in results.items():
        for page, stats in pages.items():
            print(
                f"  {role:22} {page:18} p50 {stats['p50_ms']:8.2f} ms  p95 {stats['p95_ms']:8.2f} ms"
                f"  ({queries[role][page]} queries)"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--report-requests", type=int, default=30, help="requests of each report page")
    parser.add_argument("--reseed", action="store_true", help="drop and rebuild the benchmark database")
    parser.add_argument("--database", default=DB_NAME, help="the benchmark database's name on DATABASE_URL's server")
    parser.add_argument("--cost", action="store_true", help="each page's cost as a multiple of the floor view")
    parser.add_argument("--rounds", type=int, default=40, help="--cost: requests of each page (and of the floor)")
    parser.add_argument("--profile", action="store_true", help="--cost: print each page's hottest functions")
    args = parser.parse_args(argv)
    if args.cost:
        costs = page_costs(
            customers=args.customers,
            rounds=args.rounds,
            reseed=args.reseed,
            database=args.database,
            profile=args.profile,
        )
        _print_costs(costs, write_results("workspace_cost", costs))
        return 0
    figures = run(
        customers=args.customers,
        requests=args.requests,
        reseed=args.reseed,
        database=args.database,
        report_requests=args.report_requests,
    )
    path = write_results("workspace", figures)
    print(f"Workspace pages, {figures['customers']} customers, {figures['requests_per_page']} requests each:")
    _print_pages(figures["results"], figures["queries_per_request"])
    print(f"Report pages, {figures['report_requests_per_page']} requests each:")
    _print_pages(figures["report_results"], figures["report_queries_per_request"])
    bound = "met" if figures["reports_within_query_bound"] else "NOT met"
    print(f"Report pages within {REPORT_QUERY_BOUND} queries: {bound}.")
    print(f"Target p95 < {TARGET_P95_MS:.0f} ms: {'met' if figures['within_target'] else 'NOT met'}. Written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
