"""The task list (tabs, filters, pages) and a customer's task panel as several viewers see them, in both languages.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/<db> \\
        python -m benchmarks.task_pages_snapshot <bench database> <out.json>

Renders, through the test client, for bench.manager, rm001, rm002, bench.branch (a branch manager)
and bench.compliance in en-GB and it: /tasks/ plain, each tab (overdue, today, upcoming, an unknown
one), pages 1-3, a page past the last and a page that is not a number, a tab's second page, the
htmx refresh of the counts, and the task panel of the viewer's first customer with a task (whole
page and htmx). Every page is asked twice, so the second answer comes from the row caches the
first one filled: both are written. Every cache is cleared first; CSRF tokens and nonces are masked
(benchmarks.list_pages_snapshot.mask), so two runs on the same tree write the same file: run it
on two trees in the same minutes and compare the files (decision 182 did).
"""

from __future__ import annotations

import sys
from typing import Any

from benchmarks import workspace_bench
from benchmarks.common import write_snapshot
from benchmarks.list_pages_snapshot import mask

TASKS = "/tasks/"
PAGES = ["", "?when=overdue", "?when=today", "?when=upcoming", "?when=bogus", "?page=2", "?page=3"]
PAGES += ["?page=99", "?page=x", "?when=overdue&page=2", "?when=upcoming&page=2"]
VIEWERS = ("bench.manager", "rm001", "rm002", "bench.branch", "bench.compliance")


def snapshot(database: str) -> dict[str, Any]:
    workspace_bench.prepare_database(customers=100000, reseed=False, database=database)
    workspace_bench._ensure_branch_manager()  # bench.branch, as the benchmark makes it
    from django.conf import settings
    from django.core.cache import caches
    from django.test import Client

    from apps.identity.models import User
    from apps.tasks.models import Task

    workspace_bench._collect_static(settings)
    for alias in settings.CACHES:
        caches[alias].clear()
    out: dict[str, Any] = {}
    for username in VIEWERS:
        user = User.objects.get(username=username)
        task = Task.objects.filter(assignee=user, status=Task.Status.OPEN).order_by("pk").first()
        panel = [f"/customers/{task.customer_id}/tasks/"] if task else []
        for language in ("en-gb", "it"):
            client = Client()
            client.force_login(user)
            client.cookies["finpulse_language"] = language
            asked: list[tuple[str, dict[str, str]]] = [(f"{TASKS}{query}", {}) for query in PAGES]
            asked.append((TASKS, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "task-counts"}))
            asked.append((f"{TASKS}?when=overdue", {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "task-counts"}))
            for url in panel:
                asked += [(url, {}), (url, {"HTTP_HX_REQUEST": "true"})]
            for url, headers in asked:
                for time in ("first", "again"):
                    response = client.get(url, **headers)
                    key = f"{username} {language} {url} htmx={bool(headers)} {headers.get('HTTP_HX_TARGET', '')} {time}"
                    out[key] = [response.status_code, mask(response.content.decode())]
    return out


if __name__ == "__main__":
    raise SystemExit(write_snapshot(snapshot, sys.argv[1:]))
