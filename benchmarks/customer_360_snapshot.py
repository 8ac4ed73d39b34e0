"""The customer 360 page as a manager and a compliance officer see it, in both languages.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/<db> \\
        python -m benchmarks.customer_360_snapshot <bench database> <out.json>

Renders, through the test client, the 360 page of twelve of bench.manager's customers for
bench.manager, and of four of them and another book's customer for bench.compliance, in en-GB and
it; inside one transaction that is rolled back at the end, one customer is given a relative
outside the manager's book in each direction and another seven open opportunities (more than the
panel lists), and the reveal form is posted refused (no reason), invalid (an unknown field) and
answered, plain and through htmx. Another book's customer must be a 404 for the manager. CSRF
tokens, nonces and the opportunities' ids (a sequence: a rolled-back run still uses them up) are
masked, so two runs on the same tree write the same file: run it on two trees in the same minutes
and compare the files (decision 167 did: every page byte-identical).
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from decimal import Decimal
from typing import Any

from benchmarks import workspace_bench
from benchmarks.common import write_snapshot

MASKS = [
    (re.compile(r'(csrfmiddlewaretoken" value=")[^"]+'), r"\1X"),
    (re.compile(r'(name="csrf-token" content=")[^"]+'), r"\1X"),
    (re.compile(r'nonce="[^"]+"'), 'nonce="X"'),
    (re.compile(r"/opportunities/\d+/|opportunity-\d+"), "OPPORTUNITY"),
]
REVEALS = ({"field": "all"}, {"field": "nope", "reason": "x"}, {"field": "email", "reason": "KYC review call"})


def mask(html: str) -> str:
    for pattern, replacement in MASKS:
        html = pattern.sub(replacement, html)
    return html


class _RollBack(Exception):
    pass


def snapshot(database: str) -> dict[str, Any]:
    workspace_bench.prepare_database(customers=100000, reseed=False, database=database)
    from django.conf import settings
    from django.core.cache import caches
    from django.db import transaction
    from django.test import Client

    from apps.customers.models import Customer, CustomerRelationship
    from apps.identity.models import User
    from apps.opportunities.models import Opportunity, Stage
    from apps.products.models import Product

    workspace_bench._collect_static(settings)
    for alias in settings.CACHES:
        caches[alias].clear()
    manager = User.objects.get(username="bench.manager")
    compliance = User.objects.get(username="bench.compliance")
    mine = list(Customer.objects.filter(primary_manager=manager).order_by("pk").values_list("pk", flat=True)[:12])
    other = list(
        Customer.objects.exclude(primary_manager=manager)
        .exclude(customeruserobjectpermission__user=manager)
        .order_by("pk")
        .values_list("pk", flat=True)[:2]
    )
    pages: dict[str, Any] = {}
    try:
        with transaction.atomic():
            CustomerRelationship.objects.create(from_customer_id=mine[0], to_customer_id=other[0], kind="household")
            CustomerRelationship.objects.create(from_customer_id=other[1], to_customer_id=mine[0], kind="spouse")
            product, stage = Product.objects.order_by("pk").first(), Stage.objects.order_by("pk").first()
            for day in range(1, 8):
                Opportunity.objects.create(
                    customer_id=mine[1], product=product, amount=Decimal("1234.50") + day, currency="EUR",
                    stage=stage, probability=50, expected_close=dt.date(2027, 1, day), owner=manager,
                    created_by=manager,
                )  # fmt: skip
            for user, ids in ((manager, mine), (compliance, [*mine[:4], other[0]])):
                for language in ("en-gb", "it"):
                    client = Client()
                    client.force_login(user)
                    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
                    for pk in ids:
                        response = client.get(f"/customers/{pk}/")
                        html = mask(response.content.decode())
                        pages[f"{user.username} {language} {pk}"] = [response.status_code, html]
                    if user == manager:
                        pages[f"{user.username} {language} other"] = [client.get(f"/customers/{other[0]}/").status_code]
                        for n, data in enumerate(REVEALS):
                            for htmx in (False, True):
                                headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
                                response = client.post(f"/customers/{mine[2]}/reveal/", data, **headers)
                                key = f"{user.username} {language} reveal {n} htmx={htmx}"
                                pages[key] = [response.status_code, mask(response.content.decode())]
            raise _RollBack
    except _RollBack:
        pass
    return pages


if __name__ == "__main__":
    raise SystemExit(write_snapshot(snapshot, sys.argv[1:]))
