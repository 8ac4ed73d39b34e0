"""The dashboard (`/`) as several viewers see it, in both languages, cold and warm.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/<db> \\
        python -m benchmarks.dashboard_snapshot <bench database> <out.json>

Renders, through the test client, the dashboard for bench.manager, rm001, rm024 (managers of
500 customers), bench.branch (a branch manager) and bench.compliance, in en-GB and it, with the
business date unpinned and pinned to three days (decision 181 checked the same), and the htmx
request of the dashboard. Every combination starts with every cache cleared (cold: the panels,
the day texts, the top bar and the bell are built) and asks again (warm: read back from the
caches the first answer filled): both are written. CSRF tokens and nonces are masked
(benchmarks.list_pages_snapshot.mask), so two runs on the same tree write the same file: run it
on two trees in the same minutes and compare the files (decision 186 did).
"""

from __future__ import annotations

import sys
from typing import Any

from benchmarks import workspace_bench
from benchmarks.common import write_snapshot
from benchmarks.list_pages_snapshot import mask

DASHBOARD = "/"
VIEWERS = ("bench.manager", "rm001", "rm024", "bench.branch", "bench.compliance")
DATES = ("", "2026-09-15", "2026-12-24", "2027-03-01")  # "": the business date as the bank has it


def snapshot(database: str) -> dict[str, Any]:
    workspace_bench.prepare_database(customers=100000, reseed=False, database=database)
    workspace_bench._ensure_branch_manager()  # bench.branch, as the benchmark makes it
    from django.conf import settings
    from django.core.cache import caches
    from django.test import Client, override_settings

    from apps.core.business_date import forget_cached_override
    from apps.identity.models import User

    workspace_bench._collect_static(settings)
    out: dict[str, Any] = {}
    for date in DATES:
        with override_settings(FINPULSE_BUSINESS_DATE=date or settings.FINPULSE_BUSINESS_DATE):
            for username in VIEWERS:
                user = User.objects.get(username=username)
                for language in ("en-gb", "it"):
                    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
                        for alias in settings.CACHES:
                            caches[alias].clear()
                        forget_cached_override()
                        client = Client()
                        client.force_login(user)
                        client.cookies["finpulse_language"] = language
                        for time in ("cold", "warm"):
                            response = client.get(DASHBOARD, **headers)
                            key = f"{date or 'today'} {username} {language} htmx={bool(headers)} {time}"
                            out[key] = [response.status_code, mask(response.content.decode())]
    return out


if __name__ == "__main__":
    raise SystemExit(write_snapshot(snapshot, sys.argv[1:]))
