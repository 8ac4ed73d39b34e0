"""Each page's cost in CPU instructions: a count that does not move with the machine's speed.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/<db> \\
        python -m benchmarks.page_instructions [--customers 100000] [--requests 10] [--database finpulse_bench]

The capacity benchmark's figures over HTTP swing by a tenth from one run to the next on this
machine (its speed moves within minutes, decision 188), more than most changes to a page. Here
each page of the capacity mix is requested in-process (the test client, as bench.manager, through
every middleware) under valgrind's callgrind, which counts the instructions the Python process
executes: the same code on the same data gives the same count to a few thousand instructions,
whatever else the machine is doing, so two trees compare exactly.

For each page a process sets Django up, empties its Redis database's caches, requests every page
of the mix three times (the caches warm, as a running server has them), then `--requests` more of
that page; one more process stops after the warm-up. The difference divided by `--requests` is
one warm request of the page. It counts the web process alone: not PostgreSQL's or Redis's work
(the capacity benchmark reports those), not the kernel's, not gunicorn's HTTP parsing. Two
processes run at once, on REDIS_URL's database and the next one. Results go to
benchmarks/results/page_instructions.json. Needs valgrind.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse, urlunparse

from benchmarks.capacity_bench import PAGES, ROOT, page_paths
from benchmarks.common import machine, write_results
from benchmarks.workspace_bench import DB_NAME, prepare_database

BASE = "warm-up only"


def _child(database_url: str, page: str, requests: int) -> None:
    """Inside callgrind: warm every page, then `requests` more of `page` (none for BASE)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finpulse.settings")
    import django

    django.setup()
    import gc

    # As the server's workers do once they have loaded the app (config/gunicorn.conf.py
    # post_worker_init, decision 139): what was loaded at start is out of the collector's reach.
    gc.collect()
    gc.freeze()
    from django.core.cache import caches
    from django.test import Client

    from apps.customers.models import Customer
    from apps.identity.models import User

    for alias in ("default", "fragments"):
        caches[alias].clear()
    user = User.objects.get(username="bench.manager")
    customer_id, term = Customer.objects.filter(primary_manager=user).order_by("pk").values_list("pk", "last_name")[0]
    paths = page_paths({"customers": [customer_id], "terms": [term]})
    client = Client()
    client.force_login(user)
    for _ in range(3):
        for path in paths.values():
            if client.get(path).status_code != 200:
                raise SystemExit(f"not 200 for {path}")
    for _ in range(requests if page != BASE else 0):
        client.get(paths[page])


def _count(database_url: str, redis_url: str, page: str, requests: int) -> int:
    env = {**os.environ, "PYTHONHASHSEED": "0", "REDIS_URL": redis_url, "DJANGO_DEBUG": "false"}
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "benchmarks.page_instructions",
        "--child",
        page,
        "--requests",
        str(requests),
        "--database-url",
        database_url,
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or not found:
        raise SystemExit(f"{page}: callgrind run failed\n{result.stderr[-2000:]}")
    return int(found.group(1))


def _next_database(redis_url: str) -> str:
    parts = urlparse(redis_url)
    number = int(parts.path.lstrip("/") or 0) + 1
    return urlunparse(parts._replace(path=f"/{number}"))


def run(*, customers: int, requests: int, database: str) -> dict[str, Any]:
    database_url = prepare_database(customers=customers, reseed=False, database=database)
    from django.db import connections

    connections.close_all()
    redis_urls = [os.environ["REDIS_URL"], _next_database(os.environ["REDIS_URL"])]
    pages = [BASE, "floor", *PAGES]
    print(f"Counting instructions of {len(pages)} runs under callgrind, two at a time ...", file=sys.stderr)

    def count(index_page: tuple[int, str]) -> int:
        index, page = index_page
        return _count(database_url, redis_urls[index % 2], page, requests)

    with ThreadPoolExecutor(max_workers=2) as pool:
        totals = dict(zip(pages, pool.map(count, enumerate(pages)), strict=True))
    base = totals.pop(BASE)
    per_request = {page: round((total - base) / requests / 1e6, 2) for page, total in totals.items()}
    floor = per_request["floor"]
    return {
        "customers": customers,
        "requests_per_page": requests,
        "million_instructions_per_request": per_request,
        "floor_ratio": {page: round(value / floor, 2) for page, value in per_request.items() if page != "floor"},
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--database", default=DB_NAME)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.database_url, args.child, args.requests)
        return
    results = run(customers=args.customers, requests=args.requests, database=args.database)
    print(f"Instructions of one warm request, in-process ({results['customers']} customers):")
    for page, value in results["million_instructions_per_request"].items():
        ratio = results["floor_ratio"].get(page)
        print(f"  {page:18} {value:6.2f} M" + (f"  {ratio:4.1f}x the floor" if ratio else ""))
    print(f"Written to {write_results('page_instructions', results)}")


if __name__ == "__main__":
    main()
