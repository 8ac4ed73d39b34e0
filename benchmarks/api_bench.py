"""REST API latency: the customer list and detail endpoints on 100,000 customers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything [REDIS_URL=redis://127.0.0.1:6379/9] \\
        python -m benchmarks.api_bench [--customers 100000] [--requests 300] [--reseed]

Data: the workspace benchmark's builder (benchmarks.workspace_bench.seed, a bulk fast path
documented there: encrypted PII, blind indexes, hints and object permissions as the services
write them, no audit events) in a database of this benchmark's own, `finpulse_bench_api`.
Then, in this one process, the DRF test client sends X-API-Key headers (keys created through
apps.api.services.create_api_key) and times --requests requests of each endpoint through the
whole middleware, authentication, scope, throttle and selector stack:

- a relationship manager (500 customers): GET /api/v1/customers/ following the cursor pages,
  GET /api/v1/customers/{id}/ of random customers of theirs;
- a compliance officer (all 100,000 customers): the same two endpoints.

Figures (requests/s, p50, p95 in ms, queries per request) go to stdout and to
benchmarks/results/api.json. Target: p95 under 30 ms, single process. Throttling runs through
the configured cache: Redis when REDIS_URL is set (as in production), else the database cache
(two extra round trips per request); the results name the one used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
from typing import Any

from benchmarks.common import bench_database_url, summarise, write_results
from benchmarks.workspace_bench import _reset_database as _reset_workspace_database
from benchmarks.workspace_bench import _seeded_size, _setup_django, seed

DB_NAME = "finpulse_bench_api"
TARGET_P95_MS = 30.0


def _reset_database(url: str) -> None:
    import benchmarks.workspace_bench as workspace

    # The workspace helper drops and recreates its DB_NAME; point it at ours for the call.
    original, workspace.DB_NAME = workspace.DB_NAME, DB_NAME
    try:
        _reset_workspace_database(url)
    finally:
        workspace.DB_NAME = original


def _keys() -> dict[str, str]:
    from django.utils import timezone

    from apps.api.models import ApiKey, Scope
    from apps.api.services import create_api_key
    from apps.approvals.models import ChangeRequest
    from apps.approvals.services import approve_change
    from apps.identity import roles
    from apps.identity.models import User

    admin, _ = User.objects.get_or_create(username="bench.admin", defaults={"is_superuser": True, "is_staff": True})
    # A key works once a second administrator approves it (four eyes).
    checker, _ = User.objects.get_or_create(username="bench.checker", defaults={"is_superuser": True, "is_staff": True})
    ApiKey.objects.filter(name="api benchmark").delete()
    secrets = {}
    for label, username in (("relationship_manager", "bench.manager"), ("compliance_officer", "bench.compliance")):
        owner = User.objects.get(username=username)
        if label == "compliance_officer" and not owner.has_role(roles.COMPLIANCE_OFFICER):
            raise SystemExit("bench.compliance is not a compliance officer: rebuild with --reseed")
        api_key, secrets[label] = create_api_key(
            actor=admin,
            owner=owner,
            name="api benchmark",
            scopes=[Scope.CUSTOMERS_READ],
            expires_at=timezone.now() + dt.timedelta(days=1),
        )
        request = ChangeRequest.objects.get(target_type="api.apikey", target_id=str(api_key.pk))
        approve_change(checker=checker, change=request)
    return secrets


def _time(call: Any, repeat: int, warmup: int = 20) -> tuple[list[float], float]:
    for i in range(warmup):
        call(i)
    samples = []
    started_all = time.perf_counter()
    for i in range(repeat):
        started = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples, repeat / (time.perf_counter() - started_all)


def run(*, customers: int, requests: int, reseed: bool) -> dict[str, Any]:
    url = bench_database_url(DB_NAME)
    if reseed:
        _reset_database(url)
    os.environ.setdefault("API_THROTTLE_RATE", "1000000/min")  # measure the work, not the limiter
    _setup_django(url)
    size = _seeded_size()
    if size != customers:
        from django.db import connections

        if size:
            print(f"Database holds {size} customers, not {customers}: rebuilding it.", flush=True)
            connections.close_all()
            _reset_database(url)
            _setup_django(url)
        print(f"Seeding {customers} customers into {DB_NAME} ...", flush=True)
        seed(customers, rng=random.Random(20260302))

    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from apps.customers.models import Customer

    secrets = _keys()
    rng = random.Random(11)
    results: dict[str, Any] = {}
    queries: dict[str, Any] = {}
    for label, secret in secrets.items():
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=secret)
        owned = Customer.objects.all()
        if label == "relationship_manager":
            owned = owned.filter(primary_manager__username="bench.manager")
        ids = list(owned.values_list("pk", flat=True)[:5000])
        next_page = {"url": "/api/v1/customers/"}

        def list_call(i: int, client: APIClient = client, next_page: dict[str, str] = next_page) -> None:
            response = client.get(next_page["url"])
            if response.status_code != 200:
                raise SystemExit(f"{response.status_code} for {next_page['url']}: {response.content[:200]!r}")
            following = response.json()["next"]
            # Walk the cursor pages; start again at the end (the RM has 500 customers = 20 pages).
            next_page["url"] = following.replace("http://testserver", "") if following else "/api/v1/customers/"

        def detail_call(i: int, client: APIClient = client, ids: list[int] = ids) -> None:
            response = client.get(f"/api/v1/customers/{rng.choice(ids)}/")
            if response.status_code != 200:
                raise SystemExit(f"{response.status_code} for customer detail")

        results[label] = {}
        queries[label] = {}
        for name, call in (("customer_list", list_call), ("customer_detail", detail_call)):
            call(0)  # the key's last-use stamp is written at most once a minute: not per request
            with CaptureQueriesContext(connection) as captured:
                call(0)
            queries[label][name] = len(captured.captured_queries)
            samples, per_second = _time(call, requests)
            results[label][name] = {**summarise(samples), "requests_per_s": round(per_second, 1)}
    return {
        "benchmark": "api",
        "customers": customers,
        "requests_per_endpoint": requests,
        "page_size": 25,
        "cache": settings.CACHES["default"]["BACKEND"],
        "target_p95_ms": TARGET_P95_MS,
        "results": results,
        "queries_per_request": queries,
        "within_target": all(r["p95_ms"] < TARGET_P95_MS for e in results.values() for r in e.values()),
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--reseed", action="store_true", help="drop and rebuild the benchmark database")
    args = parser.parse_args(argv)
    figures = run(customers=args.customers, requests=args.requests, reseed=args.reseed)
    path = write_results("api", figures)
    print(f"REST API, {figures['customers']} customers, {figures['requests_per_endpoint']} requests each:")
    for role, endpoints in figures["results"].items():
        for endpoint, stats in endpoints.items():
            print(
                f"  {role:22} {endpoint:16} {stats['requests_per_s']:7.1f} req/s  p50 {stats['p50_ms']:6.2f} ms"
                f"  p95 {stats['p95_ms']:6.2f} ms  ({figures['queries_per_request'][role][endpoint]} queries)"
            )
    print(f"Target p95 < {TARGET_P95_MS:.0f} ms: {'met' if figures['within_target'] else 'NOT met'}. Written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
