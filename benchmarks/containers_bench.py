"""Scale-out over HTTP: the manager mix against one web container, then two, in one run.

Builds nothing: run `make container-smoke` (or infra/smoke/run.sh) once so the image exists,
then `make container-bench` (var/tools-venv's Python: requests, boto3, moto). The stack is the
smoke test's (infra/smoke/stack.py): the image on host networking against this machine's
PostgreSQL, Redis and RabbitMQ, the demo bank seeded by a one-off migrate container.

Each virtual manager is a demo relationship manager with a session of their own, looping over
the manager mix (dashboard, customer list, search, customer 360, timeline) with no think time.
Phase "one": every request goes to web A. Phase "two": requests alternate between A and B, as
a round-robin load balancer would. Throughput (requests/s) and latency percentiles per phase
go to benchmarks/results/containers_bench.json.

    make container-bench                    # defaults: 8 managers, 30 s per phase
    BENCH_USERS=16 BENCH_SECONDS=60 make container-bench
"""

from __future__ import annotations

import itertools
import os
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "infra" / "smoke")]

from stack import PORT_BASE, Browser, Stack, log  # noqa: E402

from benchmarks.common import summarise, write_results  # noqa: E402

USERS = int(os.environ.get("BENCH_USERS", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
WARMUP_SECONDS = 5.0
MANAGERS = ["rm.alice", "rm.bob", "rm.carol", "rm.dan"]
SEARCHES = ["Smi", "Jon", "Wil", "Tay", "Bro", "Dav"]
# (weight, label): what a relationship manager's morning looks like in requests.
MIX = [(25, "dashboard"), (20, "customer_list"), (15, "search"), (30, "customer_360"), (10, "timeline")]


def mix_path(label: str, customers: list[int], rng: random.Random) -> str:
    customer = rng.choice(customers)
    return {
        "dashboard": "/",
        "customer_list": "/customers/",
        "search": f"/customers/?q={rng.choice(SEARCHES)}",
        "customer_360": f"/customers/{customer}/",
        "timeline": f"/customers/{customer}/timeline/",
    }[label]


def phase(name: str, bases: list[str]) -> dict:
    """USERS managers for SECONDS against `bases` (round robin per request)."""
    labels = [label for weight, label in MIX for _ in range(weight)]
    samples: dict[str, list[float]] = {label: [] for _, label in MIX}
    errors = [0]
    lock = threading.Lock()
    start_at = time.monotonic() + 2.0
    measure_from = start_at + WARMUP_SECONDS
    stop_at = measure_from + SECONDS

    def manager(n: int) -> None:
        rng = random.Random(n)
        browser = Browser(bases[0])
        browser.sign_in(MANAGERS[n % len(MANAGERS)])
        customers = browser.customer_ids()
        targets = itertools.cycle(bases[n % len(bases) :] + bases[: n % len(bases)])
        while time.monotonic() < start_at:
            time.sleep(0.01)
        while (now := time.monotonic()) < stop_at:
            label = rng.choice(labels)
            browser.base = next(targets)
            began = time.perf_counter()
            try:
                ok = browser.get(mix_path(label, customers, rng)).status_code == 200
            except OSError:
                ok = False
            elapsed = (time.perf_counter() - began) * 1000
            if now >= measure_from:
                with lock:
                    if ok:
                        samples[label].append(elapsed)
                    else:
                        errors[0] += 1

    threads = [threading.Thread(target=manager, args=(n,)) for n in range(USERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [ms for values in samples.values() for ms in values]
    result = {
        "containers": len(bases),
        "requests": len(every),
        "errors": errors[0],
        "throughput_rps": round(len(every) / SECONDS, 1),
        "all": summarise(every),
        "per_page": {label: summarise(values) for label, values in samples.items()},
    }
    log(
        f"{name}: {result['throughput_rps']} req/s, p50 {result['all']['p50_ms']} ms, "
        f"p95 {result['all']['p95_ms']} ms, errors {result['errors']}"
    )
    return result


def main() -> int:
    stack = Stack()
    try:
        stack.start_services()
        log("migrate + seed_demo (one-off container)")
        stack.one_off("migrate", FINPULSE_SEED_DEMO="1")
        port_a, port_b = PORT_BASE + 1, PORT_BASE + 2
        concurrency = os.environ.get("BENCH_WEB_CONCURRENCY", "2")
        stack.start("web-a", "web", port_a, WEB_CONCURRENCY=concurrency)
        stack.start("web-b", "web", port_b, WEB_CONCURRENCY=concurrency)
        a, b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
        log(f"{USERS} managers, {SECONDS:.0f} s per phase after {WARMUP_SECONDS:.0f} s warm-up")
        one = phase("one container", [a])
        two = phase("two containers", [a, b])
    except Exception:
        stack.dump_logs()
        raise
    finally:
        stack.teardown()
    path = write_results(
        "containers_bench",
        {
            "users": USERS,
            "seconds_per_phase": SECONDS,
            "gunicorn_workers_per_container": int(concurrency),
            "mix": {label: weight for weight, label in MIX},
            "one_container": one,
            "two_containers": two,
            "speedup": round(two["throughput_rps"] / one["throughput_rps"], 2) if one["throughput_rps"] else None,
        },
    )
    log(f"results in {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
