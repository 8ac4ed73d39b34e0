"""Capacity over real HTTP: how many managers one machine serves, and what each page costs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything REDIS_URL=redis://127.0.0.1:6379/5 \\
        python -m benchmarks.capacity_bench [--customers 100000] [--users 200,500,1000] [--steady 60]
        [--database finpulse_bench]

1. Builds (once, shared with workspace_bench) a bank of --customers customers in --database,
   relationship managers of 500 customers each (200 at 100,000 customers, 2,000 at 1,000,000),
   with holdings, tasks, interactions. Give each size its own --database to keep both.
2. Starts gunicorn exactly as the Procfile does (`config/gunicorn.conf.py`, DEBUG off, static
   files collected), against that database and REDIS_URL.
3. Signs every simulated manager in through the real sign-in form (password, CSRF, session
   cookie) once, before measuring: sign-ins are not in the page figures.
4. Runs the Locust mix (benchmarks/locustfile.py: dashboard, customer list, search, 360 page,
   tasks, API list, and the floor view `/accounts/session/`, 3–10 s think time) headless at each
   user count; statistics are reset once every user is running, so figures are steady state.
5. Writes per-endpoint p50/p95/p99, throughput and errors, web (gunicorn), database, Redis and
   Locust CPU seconds per 1,000 requests, the database's buffer hits and kernel reads per request,
   database queries per request (counted once per page in-process), and each page's median as a
   multiple of the floor's, to benchmarks/results/capacity.json.

Targets (issue: capacity): 500 users p95 < 200 ms with 0 errors; 1,000 users p95 < 400 ms with
0 errors; each page at most 4x the floor. Locust runs on the same 2-core machine as the server.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psutil

from benchmarks.common import summarise, write_results
from benchmarks.workspace_bench import DB_NAME, prepare_database

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "capacity-bench-2026"  # noqa: S105  # nosec B105: bench users in a disposable database
# The bench users' hashes are made with this cost (the server is told the same, so it keeps them).
ITERATIONS = 20_000
PAGES = ("dashboard", "customer list", "search", "customer 360", "tasks", "API customer list")
TARGETS_P95_MS = {500: 200.0, 1000: 400.0}
FLOOR_RATIO_TARGET = 4.0
# A statement's first seven runs on a connection are planned with their values (psycopg prepares it
# at its second run, PostgreSQL keeps a generic plan after five more): the dashboard's statement
# costs ~2.5 ms more each time. One request at a time goes to either of the worker's two threads,
# each with its own connection, so 20 rounds run each page about ten times on each (decision 196).
WARM_ROUNDS = 20


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(database_url: str, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "finpulse.settings",
        "FINPULSE_BIND": f"127.0.0.1:{port}",
        "FINPULSE_PASSWORD_ITERATIONS": str(ITERATIONS),
        # Every simulated manager signs in from 127.0.0.1, as an office behind one NAT would.
        "FINPULSE_SIGNIN_PER_ADDRESS": "1000000",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("FINPULSE_CAPACITY_PLAN", None)
    return env


def _set_passwords() -> list[str]:
    """Every bench relationship manager gets the bench password; their usernames."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    from apps.identity.models import User

    settings.FINPULSE_PASSWORD_ITERATIONS = ITERATIONS
    managers = User.objects.filter(username__regex=r"^(bench\.manager|rm\d+)$", is_active=True)
    managers.update(password=make_password(PASSWORD))
    return list(managers.order_by("username").values_list("username", flat=True))


def _work_of(usernames: list[str]) -> dict[str, dict[str, list[Any]]]:
    """For each manager, some of their customers' ids and search words from their names."""
    from apps.customers.models import Customer

    work: dict[str, dict[str, list[Any]]] = {name: {"customers": [], "terms": []} for name in usernames}
    rows = Customer.objects.filter(primary_manager__username__in=usernames).values_list(
        "primary_manager__username", "pk", "last_name"
    )
    for username, pk, last_name in rows.iterator(chunk_size=5000):
        mine = work[username]
        if len(mine["customers"]) < 50:
            mine["customers"].append(pk)
            if last_name and len(last_name) >= 3:
                mine["terms"].append(last_name)
    return work


def _sign_in(base: str, username: str) -> dict[str, str]:
    import requests

    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=30)
    response = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302 or "sessionid" not in session.cookies:
        raise SystemExit(f"sign-in of {username} failed: {response.status_code}")
    return dict(session.cookies)


def _query_counts() -> dict[str, int]:
    """Database queries of one request of each page, as the bench relationship manager."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.customers.models import Customer
    from apps.identity.models import User

    user = User.objects.get(username="bench.manager")
    customer = Customer.objects.filter(primary_manager=user).values_list("pk", "last_name").first()
    client = Client()
    client.force_login(user)
    paths = page_paths({"customers": [customer[0]], "terms": [customer[1]]})
    counts = {}
    for name, path in paths.items():
        client.get(path)  # warm caches, as a running server has them
        with CaptureQueriesContext(connection) as queries:
            status = client.get(path).status_code
        if status != 200:
            raise SystemExit(f"{status} for {path} in-process")
        counts[name] = len(queries.captured_queries)
    return counts


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def _tree_cpu_seconds(parent: psutil.Process) -> float:
    """CPU of a server's parent process, its live children, and the children it has already reaped.

    gunicorn recycles workers (max_requests) and PostgreSQL ends a backend when its connection
    closes: counting only the processes alive at the start reads their CPU as zero. A reaped
    child's CPU is in its parent's children_* times, so before/after differences stay exact.
    """
    try:
        times = parent.cpu_times()
        return times.user + times.system + times.children_user + times.children_system + _cpu_seconds(parent.children())
    except psutil.NoSuchProcess:
        return 0.0


def _reaped_children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _database_cpu_seconds(database_url: str) -> float:
    """The PostgreSQL server behind database_url (its postmaster and backends, live or ended).

    Found by the port it listens on, so another server on the machine (a second cluster, a test
    run's embedded one) is not counted; every server when none is found listening there.
    """
    port = urlparse(database_url).port or 5432
    postmasters = [
        process
        for process in psutil.process_iter(["name"])
        if (process.info["name"] or "").startswith("postgres")
        and not (process.parent() and (process.parent().name() or "").startswith("postgres"))
    ]
    listening = {
        connection.pid
        for connection in psutil.net_connections("tcp")
        if connection.status == psutil.CONN_LISTEN and connection.laddr and connection.laddr.port == port
    }
    ours = [process for process in postmasters if process.pid in listening] or postmasters
    return sum(_tree_cpu_seconds(process) for process in ours)


def _redis_cpu_seconds() -> float:
    """The Redis server's own CPU (INFO's used_cpu_*), on the same cores as the web and the database."""
    import redis

    info = redis.Redis.from_url(os.environ["REDIS_URL"]).info("cpu")
    keys = ("used_cpu_user", "used_cpu_sys", "used_cpu_user_children", "used_cpu_sys_children")
    return sum(float(info[key]) for key in keys)


def _database_blocks(database_url: str) -> tuple[int, int]:
    """Buffer hits and reads of the bench database: a read is a block PostgreSQL asked the kernel for."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT blks_hit, blks_read FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _read_stats(prefix: Path) -> dict[str, dict[str, float]]:
    stats: dict[str, dict[str, float]] = {}
    with open(f"{prefix}_stats.csv", encoding="utf-8") as stats_file:
        for row in csv.DictReader(stats_file):
            name = "total" if row["Name"] == "Aggregated" else row["Name"]
            stats[name] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"]),
                "p95_ms": float(row["95%"]),
                "p99_ms": float(row["99%"]),
                "rps": round(float(row["Requests/s"]), 2),
            }
    return stats


def _run_level(
    *, users: int, steady: int, base: str, plan: Path, workdir: Path, web: psutil.Process, database_url: str
) -> dict[str, Any]:
    spawn_rate = max(10, users // 20)
    ramp = users / spawn_rate
    prefix = workdir / f"level_{users}"
    env = {**os.environ, "FINPULSE_CAPACITY_PLAN": str(plan)}
    command = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "benchmarks" / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{int(ramp + steady)}s",
        "--reset-stats",
        "--host",
        base,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    _log(f"{users} users: ramp {ramp:.0f} s at {spawn_rate}/s, then {steady} s steady ...")
    reaped_before = _reaped_children_cpu_seconds()
    locust = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=open(f"{prefix}.log", "w"))  # noqa: SIM115
    time.sleep(ramp + 2)  # steady state: every user is running (Locust reset its statistics then too)
    locust_ramp = _cpu_seconds([psutil.Process(locust.pid)])
    redis_before, blocks_before = _redis_cpu_seconds(), _database_blocks(database_url)
    web_before, db_before, started = _tree_cpu_seconds(web), _database_cpu_seconds(database_url), time.monotonic()
    loads = []
    while locust.poll() is None:
        loads.append(os.getloadavg()[0])
        time.sleep(2)
    elapsed = time.monotonic() - started
    web_cpu = _tree_cpu_seconds(web) - web_before
    db_cpu = _database_cpu_seconds(database_url) - db_before
    redis_cpu = _redis_cpu_seconds() - redis_before
    hits, reads = (after - before for after, before in zip(_database_blocks(database_url), blocks_before, strict=True))
    # Locust has exited and been reaped: its whole CPU is in our children's times.
    locust_cpu = _reaped_children_cpu_seconds() - reaped_before - locust_ramp
    stats = _read_stats(prefix)
    total = stats["total"]["requests"]
    return {
        "users": users,
        "steady_seconds": round(elapsed, 1),
        "endpoints": stats,
        "web_cpu_seconds_per_1000_requests": round(web_cpu / total * 1000, 2) if total else None,
        "database_cpu_seconds_per_1000_requests": round(db_cpu / total * 1000, 2) if total else None,
        "locust_cpu_seconds_per_1000_requests": round(locust_cpu / total * 1000, 2) if total else None,
        "redis_cpu_seconds_per_1000_requests": round(redis_cpu / total * 1000, 2) if total else None,
        "database_buffer_hits_per_request": round(hits / total) if total else None,
        "database_blocks_read_per_request": round(reads / total, 1) if total else None,
        "web_cpu_utilisation_cores": round(web_cpu / elapsed, 2),
        "load_average_during": summarise(loads) if loads else None,
    }


def page_paths(session: dict[str, Any]) -> dict[str, str]:
    """One path per page of the mix, for one signed-in manager (as benchmarks/locustfile.py asks)."""
    return {
        "floor": "/accounts/session/",
        "dashboard": "/",
        "customer list": "/customers/?page=2",
        "search": f"/customers/?q={session['terms'][0]}",
        "customer 360": f"/customers/{session['customers'][0]}/",
        "tasks": "/tasks/",
        "API customer list": "/api/v1/customers/",
    }


def _costs_one_at_a_time(base: str, session: dict[str, Any], rounds: int = 25) -> dict[str, Any]:
    """Each page's cost over real HTTP with no queue: the floor and each page alternate, one request
    at a time, and each page's median is divided by the floor's median of the same rounds.

    WARM_ROUNDS first, not counted: the caches filled, and each statement run often enough on every
    connection the worker's threads hold to be planned as a running server plans it (decision 196)."""
    import requests

    client = requests.Session()
    client.cookies.update(session["cookies"])
    paths = page_paths(session)
    times: dict[str, list[float]] = {name: [] for name in paths}
    for round_number in range(WARM_ROUNDS + rounds):
        for name in PAGES:
            for timed in ("floor", name):
                started = time.perf_counter()
                response = client.get(f"{base}{paths[timed]}", allow_redirects=False, timeout=30)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{response.status_code} for {paths[timed]} in the cost pass")
                if round_number >= WARM_ROUNDS:
                    times[timed].append(elapsed)
    medians = {name: round(sorted(values)[len(values) // 2], 1) for name, values in times.items()}
    floor = medians["floor"]
    return {
        "median_ms": medians,
        "floor_ratio": {name: round(medians[name] / floor, 2) for name in PAGES},
        "rounds": rounds,
    }


def _floor_ratios(level: dict[str, Any]) -> dict[str, float]:
    endpoints = level["endpoints"]
    floor = endpoints.get("floor", {}).get("p50_ms") or 1.0
    return {page: round(endpoints[page]["p50_ms"] / floor, 2) for page in PAGES if page in endpoints}


def run(*, customers: int, levels: list[int], steady: int, reseed: bool, database: str) -> dict[str, Any]:
    database_url = prepare_database(customers=customers, reseed=reseed, database=database)
    usernames = _set_passwords()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _server_env(database_url, port)
    # The hashed static names that the server and the in-process query count both read.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    queries = _query_counts()
    work = _work_of(usernames)
    from django.db import connections

    connections.close_all()
    workdir = Path(tempfile.mkdtemp(prefix="finpulse-capacity-"))
    server_log = open(workdir / "gunicorn.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "finpulse.wsgi:application", "-c", "config/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    try:
        import requests

        for _ in range(120):
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        else:
            raise SystemExit(f"gunicorn did not start: see {workdir / 'gunicorn.log'}")
        web = psutil.Process(server.pid)
        accounts = [usernames[n % len(usernames)] for n in range(max(levels))]
        _log(f"Signing in {len(accounts)} sessions through /accounts/login/ ...")
        with ThreadPoolExecutor(max_workers=8) as pool:
            cookies = list(pool.map(lambda name: _sign_in(base, name), accounts))
        rng = random.Random(11)
        sessions = []
        for username, jar in zip(accounts, cookies, strict=True):
            mine = work[username]
            terms = mine["terms"] or ["Smith"]
            picked = rng.sample(terms, min(5, len(terms)))
            sessions.append({"cookies": jar, "customers": mine["customers"], "terms": picked})
        plan = workdir / "plan.json"
        plan.write_text(json.dumps({"sessions": sessions}))
        _log("Cost of each page, one request at a time, alternating with the floor ...")
        costs = _costs_one_at_a_time(base, sessions[0])
        results = []
        for users in levels:
            level = _run_level(
                users=users, steady=steady, base=base, plan=plan, workdir=workdir, web=web, database_url=database_url
            )
            level["floor_ratio_p50"] = _floor_ratios(level)
            results.append(level)
    finally:
        server.terminate()
        server.wait(timeout=60)
        server_log.close()
    # The defaults of config/gunicorn.conf.py when the environment sets none.
    gunicorn = {"workers": env.get("WEB_CONCURRENCY", "4"), "threads": env.get("WEB_THREADS", "2")}
    return {
        "benchmark": "capacity",
        "customers": customers,
        "gunicorn": gunicorn,
        "levels": results,
        "cost_one_at_a_time": costs,
        "queries_per_request": queries,
        "targets": {"p95_ms_by_users": TARGETS_P95_MS, "floor_ratio": FLOOR_RATIO_TARGET},
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "work_folder": str(workdir),
    }


def _verdict(level: dict[str, Any]) -> str:
    total = level["endpoints"]["total"]
    target = TARGETS_P95_MS.get(level["users"])
    if target is None:
        return ""
    met = total["p95_ms"] < target and total["failures"] == 0
    return f"target p95 < {target:.0f} ms, 0 errors: {'met' if met else 'NOT met'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--users", default="200,500,1000", help="comma-separated user counts")
    parser.add_argument("--steady", type=int, default=60, help="seconds measured at each count, after the ramp")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--database", default=DB_NAME, help="the benchmark database's name on DATABASE_URL's server")
    parser.add_argument("--out", type=Path, help="where the figures go (default benchmarks/results/capacity.json)")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.users.split(",")]
    figures = run(
        customers=args.customers, levels=levels, steady=args.steady, reseed=args.reseed, database=args.database
    )
    path = write_results("capacity", figures, args.out)
    print(f"Capacity over HTTP, {figures['customers']} customers, gunicorn {figures['gunicorn']}:")
    costs = figures["cost_one_at_a_time"]
    print(f"  cost, one request at a time over HTTP (floor {costs['median_ms']['floor']} ms median):")
    for name, ratio in costs["floor_ratio"].items():
        verdict = "ok" if ratio <= FLOOR_RATIO_TARGET else f"over {FLOOR_RATIO_TARGET:.0f}x"
        print(f"      {name:18} {costs['median_ms'][name]:6.1f} ms  {ratio:4.1f}x floor  {verdict}")
    for level in figures["levels"]:
        total = level["endpoints"]["total"]
        cpu = level["web_cpu_seconds_per_1000_requests"]
        print(
            f"  {level['users']:5} users: {total['rps']:7.1f} req/s  p50 {total['p50_ms']:6.0f}"
            f"  p95 {total['p95_ms']:6.0f}  p99 {total['p99_ms']:6.0f} ms  errors {total['failures']}"
            f"  CPU s/1000 req: web {cpu}, database {level['database_cpu_seconds_per_1000_requests']},"
            f" Redis {level['redis_cpu_seconds_per_1000_requests']},"
            f" Locust {level['locust_cpu_seconds_per_1000_requests']};"
            f" buffers/request {level['database_buffer_hits_per_request']} hit,"
            f" {level['database_blocks_read_per_request']} read"
            f"  {_verdict(level)}"
        )
        for name, stats in level["endpoints"].items():
            if name != "total":
                queries = figures["queries_per_request"].get(name, "?")
                print(
                    f"      {name:18} p50 {stats['p50_ms']:6.0f}  p95 {stats['p95_ms']:6.0f}"
                    f"  p99 {stats['p99_ms']:6.0f} ms  {queries} queries"
                )
    print(f"Written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
