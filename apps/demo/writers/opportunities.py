"""The demo pipeline: a few opportunities per manager, across the stages, so the board is full.

Written through apps.opportunities.services (audited, by the system), each recorded with a
`demo:` source so a second run finds it and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from apps.customers.models import Customer
from apps.demo.catalog import USERS
from apps.demo.planner import DEMO_PREFIX
from apps.demo.report import SeedReport
from apps.opportunities.models import Opportunity, Stage
from apps.opportunities.services import close_opportunity, create_opportunity, move_opportunity
from apps.products.models import Product

# (stage name, product code, amount, days to the expected close, next step, outcome reason)
PIPELINE = (
    ("Prospecting", "DEP-TD-FIXED", "25000", 45, "Call about the renewal terms", ""),
    ("Qualified", "INV-BALANCED", "60000", 30, "Send the fund factsheet", ""),
    ("Proposal", "LN-PERSONAL", "15000", 21, "Offer letter to sign", ""),
    ("Negotiation", "DEP-TD-FIXED", "120000", 10, "Agree the rate with pricing", ""),
    ("Won", "CARD-CLASSIC", "5000", -5, "", "Took the card with the renewal"),
)


def _product(code: str, products: dict[str, Product]) -> Product | None:
    product = products.get(code)
    if product is not None and product.is_active:
        return product
    return next((p for p in products.values() if p.is_active), None)


def ensure_opportunities(
    users: dict[str, Any], products: dict[str, Product], today: dt.date, report: SeedReport
) -> None:
    stages = {stage.name: stage for stage in Stage.objects.filter(is_active=True)}
    done = set(Opportunity.objects.filter(source_object__startswith="demo:").values_list("source_object", flat=True))
    for spec in USERS:
        manager = users.get(spec.username)
        if manager is None or not spec.book_weight:
            continue
        customers = list(
            Customer.objects.filter(primary_manager=manager, external_id__startswith=DEMO_PREFIX, status="active")
            .order_by("external_id")
            .only("pk")[: len(PIPELINE)]
        )
        for n, (customer, row) in enumerate(zip(customers, PIPELINE, strict=False)):
            stage_name, code, amount, days, next_step, reason = row
            key = f"demo:{spec.username}:{n}"
            product = _product(code, products)
            if key in done or product is None or stage_name not in stages:
                continue
            opportunity = create_opportunity(
                actor=None,
                customer=customer,
                owner=manager,
                product=product,
                amount=Decimal(amount),
                currency=product.currency,
                expected_close=today + dt.timedelta(days=days),
                next_step=next_step,
                source_object=key,
            )
            stage = stages[stage_name]
            if stage.is_closing:
                close_opportunity(actor=None, opportunity=opportunity, won=stage.is_won, reason=reason)
            elif stage != opportunity.stage:
                move_opportunity(actor=None, opportunity=opportunity, stage=stage)
            report.created["opportunities"] += 1
