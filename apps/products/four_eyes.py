"""Rate changes need four eyes: an administrator proposes a dated rate slab, another approves it.

The change is applied by `add_product_rate` (the one home of the rate rules) acting as the
maker, only when a second administrator approves. The system (imports from the core banking
system, the demo) still calls the service directly: four eyes is about people.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from apps.approvals.registry import FourEyesAction, register
from apps.approvals.services import propose_change
from apps.core.templatetags.finpulse import format_amount_range, format_rate
from apps.products.models import Product
from apps.products.services import add_product_rate, ensure_can_manage_catalog

if TYPE_CHECKING:
    from apps.approvals.models import ChangeRequest
    from apps.identity.models import User

RATE_CHANGE = "product.rate_change"
PRODUCT_TARGET = "products.product"


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _apply_rate(change: ChangeRequest) -> Any:
    data = change.payload
    product = Product.objects.get(pk=data["product_id"])
    return add_product_rate(
        actor=change.maker,
        product=product,
        effective_from=dt.date.fromisoformat(data["effective_from"]),
        rate=Decimal(str(data["rate"])),
        min_amount=_decimal(data.get("min_amount")) or Decimal("0"),
        max_amount=_decimal(data.get("max_amount")),
        min_term_months=int(data.get("min_term_months") or 0),
        max_term_months=None if data.get("max_term_months") in (None, "") else int(data["max_term_months"]),
    )


def _describe_rate(data: Mapping[str, Any]) -> str:
    amounts = format_amount_range(
        _decimal(data.get("min_amount")) or 0, _decimal(data.get("max_amount")), data.get("currency", "")
    )
    return (
        f"{data.get('product_code', '?')}: rate {format_rate(data['rate'])} from {data['effective_from']} ({amounts})"
    )


def _may_approve_rate(user: User, change: ChangeRequest) -> bool:
    return bool(user.is_active and user.is_administrator)


register(
    FourEyesAction(
        name=RATE_CHANGE,
        label="Product rate change",
        apply=_apply_rate,
        describe=_describe_rate,
        may_approve=_may_approve_rate,
    )
)


def propose_rate_change(
    *,
    actor: User,
    product: Product,
    effective_from: dt.date,
    rate: Decimal,
    min_amount: Decimal = Decimal("0"),
    max_amount: Decimal | None = None,
    min_term_months: int = 0,
    max_term_months: int | None = None,
    reason: str = "",
) -> ChangeRequest:
    """Propose a new dated rate slab; it applies when a second administrator approves it."""
    ensure_can_manage_catalog(actor)
    payload = {
        "product_id": product.pk,
        "product_code": product.code,
        "currency": product.currency,
        "effective_from": effective_from,
        "rate": rate,
        "min_amount": min_amount,
        "max_amount": max_amount,
        "min_term_months": min_term_months,
        "max_term_months": max_term_months,
    }
    return propose_change(
        maker=actor,
        action=RATE_CHANGE,
        payload=payload,
        reason=reason,
        target_type=PRODUCT_TARGET,
        target_id=product.pk,
    )
