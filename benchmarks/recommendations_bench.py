"""Product advice latency: the cache-hit path through the page fragment, and the rule engine.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything [REDIS_URL=redis://127.0.0.1:6379/5] \\
        python -m benchmarks.recommendations_bench [--customers 60] [--requests 300]

Builds a fresh database `finpulse_bench_reco` on DATABASE_URL's server: one relationship
manager with --customers customers (each with holdings, interactions and consent to
profiling) and a 24-product catalog with rates, all written through the real services.
No LLM key is set, so the rule engine is the engine. Then, in this process, it times:

- cache_hit_fragment: the advice panel fragment (Django test client, whole middleware stack,
  signed-in manager, htmx request) for customers whose advice is in the cache. Target p95 < 20 ms.
- stored_row_fragment: the same fragment with the cache entry deleted before each request
  (what a Redis flush or outage costs: the stored row is read and the cache re-filled).
- rule_engine: recommend_for_customer(force=True): profile, catalog, eligibility, ranking,
  the stored row with its audit event, and the cache write.

The cache is django-redis when REDIS_URL is set (as in production), the database cache
otherwise. Figures go to stdout and benchmarks/results/recommendations.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
from decimal import Decimal
from typing import Any

from benchmarks.common import bench_database_url, signed, summarise, write_results

DB_NAME = "finpulse_bench_reco"
TARGET_P95_MS = 20.0


def _fresh_database() -> str:
    import psycopg
    from psycopg import sql

    url = bench_database_url(DB_NAME)
    from urllib.parse import urlparse, urlunparse

    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    return url


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finpulse.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["OPENAI_API_KEY"] = ""  # the rule engine is the engine here
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    from apps.identity.roles import sync_role_permissions

    sync_role_permissions()


def _seed(customers: int) -> tuple[Any, list[Any]]:
    from apps.accounts.services import open_holding
    from apps.customers.services import create_customer, record_consent
    from apps.identity import roles
    from apps.identity.models import Branch, User
    from apps.interactions.services import log_interaction
    from apps.products.services import add_product_rate, create_product

    rng = random.Random(11)
    branch = Branch.objects.create(code="BEN", name="Bench branch")
    manager = User.objects.create_user(username="bench.reco", password=None, branch=branch)
    from django.contrib.auth.models import Group

    manager.groups.add(Group.objects.get(name=roles.RELATIONSHIP_MANAGER))
    products = []
    for n in range(24):
        category = ("deposit", "loan", "card", "investment")[n % 4]
        rules: dict[str, Any] = {}
        if n % 5 == 1:
            rules["min_annual_income"] = Decimal(rng.choice([20000, 50000, 90000]))
        if n % 6 == 2:
            rules["eligible_segments"] = ["premium", "private"]
        if category == "investment":
            rules["min_risk_profile"] = rng.choice([2, 3, 4])
        product = create_product(actor=None, code=f"B{n:03d}", name=f"Bench product {n}", category=category, **rules)
        add_product_rate(
            actor=None, product=product, effective_from=dt.date(2026, 1, 1), rate=Decimal(rng.randint(100, 900)) / 100
        )
        products.append(product)
    holding_categories = {
        "deposit": "savings_account",
        "loan": "loan",
        "card": "credit_card",
        "investment": "investment",
    }
    people = []
    today = dt.date.today()
    for n in range(customers):
        customer = create_customer(
            actor=None,
            external_id=f"BENCH{n:06d}",
            branch=branch,
            manager=manager,
            first_name=f"Bench{n}",
            last_name="Customer",
            date_of_birth=dt.date(rng.randint(1950, 2000), rng.randint(1, 12), rng.randint(1, 28)),
            national_id=f"BN{n:06d}X",
            email=f"bench{n}@mail.example",
            segment=rng.choice(["mass", "affluent", "premium", "private"]),
            risk_profile=rng.randint(1, 5),
            annual_income=Decimal(rng.randint(15, 200) * 1000),
            kyc_status="verified",
            customer_since=dt.date(rng.randint(2005, 2025), 1, 1),
        )
        record_consent(actor=None, customer=customer, channel="email", purpose="profiling", granted=True)
        for h in range(rng.randint(1, 4)):
            product = rng.choice(products)
            open_holding(
                actor=None,
                external_id=f"BH{n:06d}-{h}",
                product=product,
                category=holding_categories[product.category],
                parties={customer: "owner"},
                currency="GBP",
                opened_on=dt.date(2024, 1, 1),
                number=f"GB00BENCH{n:06d}{h}",
                balance=signed(holding_categories[product.category], Decimal(rng.randint(0, 90000))),
            )
        for i in range(rng.randint(1, 5)):
            log_interaction(
                actor=manager,
                customer=customer,
                channel="phone",
                subject=rng.choice(["Savings review", "Asked about a loan", "Card limit", "Pension chat"]) + f" {i}",
                body="Benchmark conversation.",
                occurred_at=timezone_now() - dt.timedelta(days=rng.randint(1, 150)),
            )
        people.append(customer)
    _ = today
    return manager, people


def timezone_now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def run(*, customers: int, requests: int) -> dict[str, Any]:
    _setup_django(_fresh_database())
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from apps.recommendations.models import Recommendation
    from apps.recommendations.services import advice_key, recommend_for_customer

    manager, people = _seed(customers)
    cache.clear()
    client = Client()
    client.force_login(manager)
    urls = [reverse("recommendations:panel", args=[c.pk]) for c in people]

    def fragment(url: str) -> None:
        response = client.get(url, HTTP_HX_REQUEST="true")
        if response.status_code != 200:
            raise SystemExit(f"{response.status_code} for {url}")

    for url in urls:  # computes, stores and caches every customer's advice
        fragment(url)
    with CaptureQueriesContext(connection) as queries:
        fragment(urls[0])
    hit_queries = len(queries.captured_queries)

    def timed(calls: int, before: Any, call: Any) -> list[float]:
        samples = []
        for i in range(calls):
            before(i)
            started = time.perf_counter()
            call(i)
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    for i in range(20):  # warm-up
        fragment(urls[i % len(urls)])
    hit = timed(requests, lambda i: None, lambda i: fragment(urls[i % len(urls)]))

    hashes = {
        row["customer_id"]: row["profile_hash"]
        for row in Recommendation.objects.order_by("customer_id", "-created_at").values("customer_id", "profile_hash")
    }
    stored = timed(
        requests,
        lambda i: cache.delete(advice_key(hashes[people[i % len(people)].pk])),
        lambda i: fragment(urls[i % len(urls)]),
    )

    from apps.recommendations.selectors import PROFILE_FIELDS

    loaded = [type(c).objects.only(*PROFILE_FIELDS).get(pk=c.pk) for c in people]
    rules = timed(
        requests,
        lambda i: None,
        lambda i: recommend_for_customer(actor=manager, customer=loaded[i % len(loaded)], force=True),
    )
    cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    hit_stats = summarise(hit)
    return {
        "benchmark": "recommendations",
        "customers": customers,
        "requests_per_path": requests,
        "cache_backend": cache_backend,
        "target_p95_ms": TARGET_P95_MS,
        "queries_per_cache_hit_fragment": hit_queries,
        "results": {
            "cache_hit_fragment": hit_stats,
            "stored_row_fragment": summarise(stored),
            "rule_engine": summarise(rules),
        },
        "within_target": hit_stats["p95_ms"] < TARGET_P95_MS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=60)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(argv)
    figures = run(customers=args.customers, requests=args.requests)
    path = write_results("recommendations", figures)
    print(
        f"Advice, {figures['customers']} customers, {figures['requests_per_path']} requests per path, "
        f"cache {figures['cache_backend']}:"
    )
    for name, stats in figures["results"].items():
        print(f"  {name:20} p50 {stats['p50_ms']:7.2f} ms  p95 {stats['p95_ms']:7.2f} ms")
    verdict = "met" if figures["within_target"] else "NOT met"
    print(
        f"Cache-hit fragment ({figures['queries_per_cache_hit_fragment']} queries) target p95 < "
        f"{TARGET_P95_MS:.0f} ms: {verdict}. Written to {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
