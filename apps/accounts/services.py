"""Every write to holdings: transactional, validated, audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.accounts.models import Holding, HoldingParty
from apps.core.audit import change_set, record_audit_event, snapshot
from apps.core.errors import DomainError, raise_as_domain_error
from apps.customers.models import Customer
from apps.customers.visibility import ensure_can_edit
from apps.products.models import Product

if TYPE_CHECKING:
    from apps.identity.models import User

HOLDING_FIELDS = (
    "balance",
    "credit_limit",
    "rate",
    "maturity_date",
    "maturity_instruction",
    "status",
    "currency",
)


def _validate(holding: Holding) -> None:
    # Checked here for a readable message; the database constraint only names itself.
    if holding.credit_limit is not None and holding.credit_limit < 0:
        raise DomainError("A credit limit cannot be negative.", field="credit_limit")
    try:
        holding.full_clean(exclude=["product"], validate_constraints=False)
    except ValidationError as error:
        raise_as_domain_error(error)


@transaction.atomic
def open_holding(
    *,
    actor: User | None,
    external_id: str,
    product: Product,
    category: str,
    parties: Mapping[Customer, str],
    currency: str,
    opened_on: dt.date,
    number: str = "",
    balance: Decimal = Decimal("0"),
    **details: Any,
) -> Holding:
    """Record a holding and who holds it (owner, joint, beneficiary, power of attorney)."""
    ensure_can_edit(actor)
    if not parties:
        raise DomainError("A holding needs at least one customer.", field="parties")
    unknown = set(details) - set(HOLDING_FIELDS)
    if unknown:
        raise DomainError(f"Unknown holding field(s): {', '.join(sorted(unknown))}.")
    holding = Holding(
        external_id=(external_id or "").strip(),
        product=product,
        category=category,
        currency=(currency or "").upper(),
        opened_on=opened_on,
        balance=balance,
        **details,
    )
    holding.set_number(number)
    _validate(holding)
    try:
        with transaction.atomic():
            holding.save()
    except IntegrityError as error:
        raise DomainError("A holding with this external id already exists.", field="external_id") from error
    HoldingParty.objects.bulk_create(
        [HoldingParty(holding=holding, customer=customer, role=role) for customer, role in parties.items()]
    )
    for customer in parties:
        record_audit_event(
            actor=actor,
            action="holding.opened",
            target=holding,
            customer_id=customer.pk,
            changes={"category": [None, category], "number": [None, holding.number_hint]},
            metadata={"role": parties[customer], "product": product.code},
        )
    return holding


@transaction.atomic
def update_holding(*, actor: User | None, holding: Holding, **changes: Any) -> Holding:
    ensure_can_edit(actor)
    unknown = set(changes) - set(HOLDING_FIELDS)
    if unknown:
        raise DomainError(f"Unknown holding field(s): {', '.join(sorted(unknown))}.")
    holding = Holding.objects.select_for_update().get(pk=holding.pk)
    before = snapshot(holding, changes)
    for name, value in changes.items():
        setattr(holding, name, value)
    diff = change_set(before, snapshot(holding, changes))
    if not diff:
        return holding
    _validate(holding)
    holding.save()
    owner_ids = list(holding.parties.values_list("customer_id", flat=True))
    for customer_id in owner_ids:
        record_audit_event(actor=actor, action="holding.updated", target=holding, customer_id=customer_id, changes=diff)
    return holding
