"""The customer list, search, task list and API list as several viewers see them, in both languages.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/<db> \\
        python -m benchmarks.list_pages_snapshot <bench database> <out.json>

Renders, through the test client, each page for bench.manager, rm001, rm002 and bench.compliance
in en-GB and it: plain, sorted, filtered (segment, branch in and out of the book, KYC, maturing),
searches (names, external ids, too short), next pages and back, htmx fragments, task tabs and
pages, the API's customer and task lists; every cache is cleared first. CSRF tokens, nonces and
signed cursors are masked, so two runs on the same tree write the same file: run it on two trees
in the same minutes and compare the files (decision 170 did: 532 pages byte-identical).
"""

from __future__ import annotations

import re
import sys
from typing import Any

from benchmarks import workspace_bench
from benchmarks.common import write_snapshot

MASKS = [
    (re.compile(r'(csrfmiddlewaretoken" value=")[^"]+'), r"\1X"),
    (re.compile(r'("X-CSRFToken": ")[^"]+'), r"\1X"),
    (re.compile(r'(name="csrf-token" content=")[^"]+'), r"\1X"),
    (re.compile(r'nonce="[^"]+"'), 'nonce="X"'),
    (re.compile(r'cursor=[^&"\s<]+'), "cursor=X"),
    (re.compile(r'"(next|previous)":"[^"]*"'), r'"\1":"X"'),
    (re.compile(r"request[_-]id[^<]{0,80}"), "RID"),
]
LIST = "/customers/"
PLAIN = [LIST, f"{LIST}?page=2", f"{LIST}?sort=updated", f"{LIST}?sort=kyc", f"{LIST}?segment=mass"]
FILTERED = [f"{LIST}?kyc_due=on", f"{LIST}?maturing=on", f"{LIST}?sort=name&maturing=on&kyc_due=on"]
ODD = [f"{LIST}?q=zzzqqq", *(f"{LIST}?branch={b}" for b in ("1", "2", "999", "x")), f"{LIST}?q=ab"]
ODD += [f"{LIST}?reset=1", f"{LIST}?sort=bogus", f"{LIST}?q=CB00"]
TASKS = ["/tasks/", "/tasks/?when=overdue", "/tasks/?when=today", "/tasks/?when=upcoming", "/tasks/?page=2"]
TASKS += ["/tasks/?page=99"]
API = ["/api/v1/customers/", "/api/v1/customers/?page_size=5", "/api/v1/tasks/", "/api/v1/customers/?segment=mass"]
WALKED = (LIST, f"{LIST}?sort=kyc", f"{LIST}?sort=updated")


def mask(html: str) -> str:
    for pattern, replacement in MASKS:
        html = pattern.sub(replacement, html)
    return html


def cursors(html: str) -> list[str]:
    return [link.replace("&amp;", "&") for link in re.findall(r'href="\?([^"]*cursor=[^"]+)"', html)]


def snapshot(database: str) -> dict[str, Any]:
    workspace_bench.prepare_database(customers=100000, reseed=False, database=database)
    from django.conf import settings
    from django.core.cache import caches
    from django.test import Client

    from apps.customers.models import Customer
    from apps.identity.models import User

    for alias in settings.CACHES:
        caches[alias].clear()
    out: dict[str, Any] = {}
    for username in ("bench.manager", "rm001", "rm002", "bench.compliance"):
        user = User.objects.get(username=username)
        mine = list(
            Customer.objects.filter(primary_manager=user).order_by("pk").values_list("last_name", "external_id")[:40]
        )
        terms = sorted({last for last, _ in mine if len(last) >= 3})[:3] or ["Smith", "Rossi"]
        searches = [f"{LIST}?q={term}" for term in terms] + [f"{LIST}?q={terms[0]}&sort=name"]
        searches += [f"{LIST}?q={mine[0][1]}"] if mine else []
        for language in ("en-gb", "it"):
            client = Client()
            client.force_login(user)
            client.cookies["finpulse_language"] = language
            for url in [*PLAIN, *FILTERED, *ODD, *searches, *TASKS, *API]:
                for htmx in (False, True) if url.startswith(LIST) else (False,):
                    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "customer-results"} if htmx else {}
                    response = client.get(url, **headers)
                    body = response.content.decode()
                    out[f"{username} {language} {url} htmx={htmx}"] = [response.status_code, mask(body)]
                    if url in WALKED and not htmx:  # three pages on, then one back
                        for step in range(3):
                            if not (links := cursors(body)):
                                break
                            body = client.get(f"{LIST}?{links[-1]}").content.decode()
                            out[f"{username} {language} {url} next{step}"] = mask(body)
                        if links := cursors(body):
                            back = client.get(f"{LIST}?{links[0]}").content.decode()
                            out[f"{username} {language} {url} back"] = mask(back)
            following = client.get("/api/v1/customers/").json().get("next")
            if following:
                out[f"{username} {language} api next"] = mask(client.get(following).content.decode())
    return out


if __name__ == "__main__":
    raise SystemExit(write_snapshot(snapshot, sys.argv[1:]))
