"""The relationship managers' mix for the capacity benchmark (run by benchmarks.capacity_bench).

Each simulated manager holds a session that capacity_bench signed in through the real sign-in
form before the run (FINPULSE_CAPACITY_PLAN names the file), thinks 3 to 10 seconds between
requests, and spreads them over the pages of a working day. The floor (`/accounts/session/`, the
cheapest signed-in view through the same middleware) is requested as often as a page, in the
same run, so each page can be reported as a multiple of it.

The users are FastHttpUser (geventhttpclient): Locust runs on the same 2 cores as the server, and
FastHttpUser spends about half the CPU per request of the requests-based HttpUser (0.7-0.95
against 1.4-1.8 ms; decision 126), CPU that would be taken from the server being measured.
capacity_bench reports Locust's own CPU per 1,000 requests beside the server's.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading

from locust import FastHttpUser, between, task

with open(os.environ["FINPULSE_CAPACITY_PLAN"], encoding="utf-8") as plan_file:
    PLAN = json.load(plan_file)
_next_session = itertools.cycle(range(len(PLAN["sessions"])))
_next_lock = threading.Lock()


class Manager(FastHttpUser):
    wait_time = between(3, 10)

    def on_start(self) -> None:
        with _next_lock:
            session = PLAN["sessions"][next(_next_session)]
        # The session cookie as the browser sends it; GET pages do not rotate it.
        self.headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in session["cookies"].items())}
        self.customers = session["customers"]
        self.terms = session["terms"]

    def _get(self, path: str, name: str) -> None:
        with self.client.get(
            path, name=name, headers=self.headers, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {path}")

    @task(3)
    def floor(self) -> None:
        self._get("/accounts/session/", "floor")

    @task(3)
    def dashboard(self) -> None:
        self._get("/", "dashboard")

    @task(3)
    def customer_list(self) -> None:
        self._get(f"/customers/?page={random.randint(1, 5)}", "customer list")

    @task(2)
    def search(self) -> None:
        self._get(f"/customers/?q={random.choice(self.terms)}", "search")

    @task(4)
    def customer_360(self) -> None:
        self._get(f"/customers/{random.choice(self.customers)}/", "customer 360")

    @task(2)
    def task_list(self) -> None:
        self._get("/tasks/", "tasks")

    @task(1)
    def api_list(self) -> None:
        self._get("/api/v1/customers/", "API customer list")
