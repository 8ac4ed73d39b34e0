from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from apps.opportunities.models import Opportunity, Stage
from apps.opportunities.services import create_opportunity
from tests.customers.factories import CustomerFactory
from tests.products.factories import ProductFactory

# The stages the data migration seeds; a transactional test (browser) flushes them, so the
# factory puts them back the same way.
STAGES = [
    ("Prospecting", 10, 10, False, False),
    ("Qualified", 20, 25, False, False),
    ("Proposal", 30, 50, False, False),
    ("Negotiation", 40, 75, False, False),
    ("Won", 90, 100, True, False),
    ("Lost", 100, 0, False, True),
]


def default_stages() -> dict[str, Stage]:
    for name, position, probability, is_won, is_lost in STAGES:
        Stage.objects.get_or_create(
            name=name,
            defaults={"position": position, "default_probability": probability, "is_won": is_won, "is_lost": is_lost},
        )
    return {stage.name: stage for stage in Stage.objects.all()}


def opportunity(*, owner: Any = None, customer: Any = None, **kwargs: Any) -> Opportunity:
    """An open opportunity through the service, on `customer` (a new one of `owner`'s if none)."""
    default_stages()
    if customer is None and "lead" not in kwargs:
        customer = CustomerFactory(assigned_to=owner)
    owner = owner or (customer.primary_manager if customer is not None else kwargs["lead"].assignee)
    values: dict[str, Any] = {
        "product": kwargs.pop("product", None) or ProductFactory(),
        "amount": Decimal("25000.00"),
        "currency": "GBP",
        "expected_close": dt.date(2026, 12, 31),
        **kwargs,
    }
    return create_opportunity(actor=None, customer=customer, owner=owner, **values)
