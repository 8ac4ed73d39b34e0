"""The profile hash: the cache key of a piece of advice, and its identity on the stored row.

SHA-256 over the canonical JSON of the snapshot, the catalog version, the prompt version and
the model (or "rules" when the rule engine is the engine by design). The eligibility facts
that the snapshot only shows as bands (exact age, exact income, branch, products held) go in
as a digest too: a birthday or a raise that crosses a product's threshold inside one band
changes the candidates, so it must change the key. They are hashed, never sent anywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.db import connection

from apps.products.eligibility import CustomerFacts
from apps.products.models import Product


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def facts_digest(facts: CustomerFacts) -> str:
    return _sha256(
        canonical_json(
            {
                "kind": facts.kind,
                "age": facts.age,
                "income": str(facts.annual_income) if facts.annual_income is not None else None,
                "income_currency": facts.income_currency,
                "segment": facts.segment,
                "risk": facts.risk_profile,
                "branch": facts.branch_id,
                "held": sorted(facts.held_product_ids),
            }
        )
    )


def catalog_version(*, today: dt.date) -> str:
    """Changes whenever a product or a branch offer changes (one cheap query), and every day.

    Eligibility rules live on Product (whose updated_at moves on every save); branch offers are
    the m2m rows. Rate rows are not in it: a rate change invalidates only the advice it affects
    (services.invalidate_advice_for_rate), not everyone's. The business date is in: a rate dated
    today becomes current today, without any row changing, and the day's advice is rebuilt.
    """
    products = Product._meta.db_table
    branches = Product.branches.through._meta.db_table
    quote = connection.ops.quote_name
    # Table names come from _meta and are quoted; there is no user input in this SQL.
    sql = (
        f"SELECT (SELECT max(updated_at) FROM {quote(products)}), (SELECT count(*) FROM {quote(products)}), "  # noqa: S608  # nosec B608
        f"(SELECT max(id) FROM {quote(branches)}), (SELECT count(*) FROM {quote(branches)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return _sha256(canonical_json([*row, today.isoformat()]))[:32]


def profile_hash(
    *,
    snapshot: dict[str, Any],
    facts: CustomerFacts,
    catalog: str,
    prompt_version: str,
    model: str,
    situation: Any = None,
) -> str:
    """`situation`: the exact figures the reasons quote (maturing amounts and dates, balances),
    so two customers share advice only when its reasons are true for both."""
    return _sha256(
        canonical_json(
            {
                "snapshot": snapshot,
                "facts": facts_digest(facts),
                "situation": _sha256(canonical_json(situation)) if situation else None,
                "catalog": catalog,
                "prompt": prompt_version,
                "model": model,
            }
        )
    )
