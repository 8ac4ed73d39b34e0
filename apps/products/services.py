"""Every write to the product catalog: transactional, validated, audited.

The catalog belongs to the bank, not to a customer: only administrators (or the system,
actor=None, e.g. the demo seed or an import from the core banking system) change it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Min, Q

from apps.core.audit import change_set, record_audit_event
from apps.core.business_date import business_today
from apps.core.dispatch import task_named
from apps.core.errors import Conflict, DomainError, PermissionDenied, raise_as_domain_error
from apps.core.templatetags.finpulse import format_amount, format_amount_range, format_rate
from apps.products.fields import PRODUCT_FIELDS
from apps.products.models import Product, ProductFee, ProductRate

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from apps.identity.models import User


def ensure_can_manage_catalog(actor: User | None) -> None:
    """Only administrators change the catalog; the system (None) may too."""
    if actor is not None and not (actor.is_active and actor.is_administrator):
        raise PermissionDenied("Only an administrator can change the product catalog.")


def terms_problems(product: Product) -> list[tuple[str, str]]:
    """The catalog's rules on a product's terms that its model fields cannot state: (field, message)."""
    problems = []
    if (
        product.min_risk_profile is not None
        and product.max_risk_profile is not None
        and product.min_risk_profile > product.max_risk_profile
    ):
        problems.append(("max_risk_profile", "The highest risk profile must be at least the lowest."))
    if not (product.for_individuals or product.for_businesses):
        problems.append(("for_individuals", "A product must be offered to individuals, businesses or both."))
    return problems


def _tidy(product: Product, names: Iterable[str]) -> None:
    """Normalise what was just set: a trimmed name, an upper-case currency, each segment once."""
    names = set(names)
    if "name" in names:
        product.name = (product.name or "").strip()
    if "currency" in names and product.currency:
        product.currency = product.currency.upper()
    if "eligible_segments" in names and product.eligible_segments:
        product.eligible_segments = list(dict.fromkeys(product.eligible_segments))


def _check_terms(product: Product) -> None:
    for field, message in terms_problems(product):
        raise DomainError(message, field=field)
    try:
        product.full_clean(exclude=["branches"])
    except ValidationError as error:
        raise_as_domain_error(error)


def minimum_and_slabs_problem(*, minimum: Decimal | None, lowest_slab: Decimal, currency: str) -> str:
    """The one rule between a product's minimum amount and its rate slabs of one date.

    No slab starts below the minimum, and the lowest slab starts at it: the catalog never
    quotes a rate for an amount the product does not take, nor takes an amount it has no rate
    for. Adding a slab (add_product_rate) and changing the minimum (update_product) both ask
    this; '' means they agree.
    """
    minimum = minimum or Decimal("0")
    if lowest_slab < minimum:
        return f"The product takes {format_amount_range(minimum, None, currency)}: a slab cannot start below that."
    if lowest_slab != minimum:
        return f"The lowest slab must start at the product's minimum amount ({format_amount(minimum)} {currency})"
    return ""


def _check_minimum_against_slabs(product: Product) -> None:
    """The minimum agrees with the slabs in force today and every slab dated later.

    Slabs superseded before today are history (what customers were quoted) and are not judged
    against today's minimum.
    """
    rates = ProductRate.objects.filter(product=product)
    in_force = rates.filter(effective_from__lte=business_today()).order_by("-effective_from")
    since = in_force.values_list("effective_from", flat=True).first()
    if since is not None:
        rates = rates.filter(effective_from__gte=since)
    lowest_by_date = rates.values("effective_from").annotate(lowest=Min("min_amount")).order_by("effective_from")
    for row in lowest_by_date:
        problem = minimum_and_slabs_problem(
            minimum=product.min_amount, lowest_slab=row["lowest"], currency=product.currency
        )
        if problem:
            # Whichever way the minimum misses, the slabs of that date do not start at it.
            day = row["effective_from"]
            raise DomainError(
                "The lowest slab must start at the product's minimum amount: the slabs from "
                f"{day.day} {day:%b %Y} start at {format_amount(row['lowest'])} {product.currency}. "
                "Add slabs that start at the new minimum first.",
                field="min_amount",
            )


def _audit_value(value: Any) -> Any:
    return [str(v) for v in value] if isinstance(value, list | tuple) else value


@transaction.atomic
def create_product(
    *, actor: User | None, code: str, name: str, category: str, branches: Iterable[Any] = (), **fields: Any
) -> Product:
    """Add a product to the catalog. `branches` empty means every branch offers it."""
    ensure_can_manage_catalog(actor)
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise DomainError(f"Unknown product field(s): {', '.join(sorted(unknown))}.")
    product = Product(code=(code or "").strip().upper(), name=(name or "").strip(), category=category, **fields)
    _tidy(product, ("currency", "eligible_segments"))
    _check_terms(product)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as error:
        raise DomainError("A product with this code already exists.", field="code") from error
    branches = list(branches)
    if branches:
        product.branches.set(branches)
    after = {"code": product.code, "name": product.name, "category": category, **fields}
    after = {key: _audit_value(value) for key, value in after.items()}
    record_audit_event(
        actor=actor,
        action="product.created",
        target=product,
        changes=change_set({}, after),
        metadata={"branches": sorted(b.code for b in branches)},
    )
    return product


def _overlaps(low_a: Decimal | int, high_a: Any, low_b: Decimal | int, high_b: Any, *, inclusive: bool) -> bool:
    """Do two ranges meet? None as the upper end means "no limit"."""
    if inclusive:
        return (high_b is None or low_a <= high_b) and (high_a is None or low_b <= high_a)
    return (high_b is None or low_a < high_b) and (high_a is None or low_b < high_a)


@transaction.atomic
def add_product_rate(
    *,
    actor: User | None,
    product: Product,
    effective_from: dt.date,
    rate: Decimal,
    min_amount: Decimal = Decimal("0"),
    max_amount: Decimal | None = None,
    min_term_months: int = 0,
    max_term_months: int | None = None,
) -> ProductRate:
    """Add a dated rate slab (amounts: from min up to, not including, max; terms inclusive).

    A rate change is a new row, never an overwrite, so "the rate on the maturity date" can
    always be answered. For the same reason a person cannot date a rate before today (that
    would rewrite the rate customers were quoted); only the system, loading history from the
    core banking system, may. Slabs of one date may not overlap, so a lookup has one answer.
    The product's minimum amount and its slabs agree: no slab starts below the minimum, and the
    lowest slab of a date starts at it (so the catalog never quotes a rate for an amount the
    product does not take, nor takes an amount it has no rate for).
    """
    ensure_can_manage_catalog(actor)
    if actor is not None and effective_from < business_today():
        raise DomainError("A new rate cannot take effect before today.", field="effective_from")
    if max_term_months is not None and max_term_months < min_term_months:
        raise DomainError("The longest term must be at least the shortest.", field="max_term_months")
    slab = ProductRate(
        product=product,
        effective_from=effective_from,
        rate=rate,
        min_amount=min_amount,
        max_amount=max_amount,
        min_term_months=min_term_months,
        max_term_months=max_term_months,
    )
    try:
        slab.full_clean(exclude=["product"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise_as_domain_error(error)
    if not Decimal("-5") <= Decimal(rate) <= Decimal("100"):
        raise DomainError("A rate must be between -5% and 100% a year.", field="rate")
    if min_amount < 0:
        raise DomainError("A slab cannot start below zero.", field="min_amount")
    if max_amount is not None and max_amount <= min_amount:
        raise DomainError("The slab's upper amount must be above its lower amount.", field="max_amount")
    # Lock the product so two slabs for the same date cannot both pass the overlap check.
    product_min = Product.objects.select_for_update().filter(pk=product.pk).values_list("min_amount", flat=True).get()
    same_day = ProductRate.objects.filter(product=product, effective_from=effective_from)
    lowest = same_day.order_by("min_amount").values_list("min_amount", flat=True).first()
    problem = minimum_and_slabs_problem(
        minimum=product_min,
        lowest_slab=min_amount if lowest is None else min(min_amount, lowest),
        currency=product.currency,
    )
    if problem:
        below = min_amount < (product_min or Decimal("0"))
        raise DomainError(problem if below else f"{problem}; add that slab first.", field="min_amount")
    for other in same_day.filter(Q(max_amount__isnull=True) | Q(max_amount__gt=min_amount)):
        amounts_meet = _overlaps(min_amount, max_amount, other.min_amount, other.max_amount, inclusive=False)
        terms_meet = _overlaps(
            min_term_months, max_term_months, other.min_term_months, other.max_term_months, inclusive=True
        )
        if amounts_meet and terms_meet:
            raise Conflict(f"This slab overlaps the {format_rate(other.rate)} slab already set for {effective_from}.")
    slab.save()
    record_audit_event(
        actor=actor,
        action="product_rate.added",
        target=slab,
        changes={"rate": [None, str(slab.rate)], "effective_from": [None, effective_from.isoformat()]},
        metadata={
            "product": product.code,
            "min_amount": str(min_amount),
            "max_amount": None if max_amount is None else str(max_amount),
            "min_term_months": min_term_months,
            "max_term_months": max_term_months,
        },
    )
    product_id, effective = product.pk, effective_from.isoformat()
    transaction.on_commit(lambda: publish_rate_change(product_id=product_id, effective_from=effective))
    return slab


def publish_rate_change(*, product_id: int, effective_from: str) -> bool:
    """Tell the advice engine (by task name: products sit below it) that a rate changed, so it
    invalidates the advice that change affects and nothing else. A broker outage is logged: the
    affected advice then lives until its cache time or the next business day, never longer."""
    from kombu.exceptions import OperationalError as KombuOperationalError

    try:
        task_named("recommendations.rate_changed").apply_async(
            (product_id, effective_from), retry=True, retry_policy={"max_retries": 1, "interval_start": 0}
        )
    except (KombuOperationalError, OSError) as error:
        logger.warning("Broker unreachable (%s): advice not invalidated for a rate change.", type(error).__name__)
        return False
    return True


@transaction.atomic
def add_product_fee(
    *,
    actor: User | None,
    product: Product,
    name: str,
    amount: Decimal = Decimal("0"),
    percentage: Decimal | None = None,
    frequency: str = ProductFee.Frequency.ONE_OFF,
) -> ProductFee:
    """Add a fee (a fixed amount, a percentage, or both) to a product."""
    ensure_can_manage_catalog(actor)
    fee = ProductFee(
        product=product, name=(name or "").strip(), amount=amount, percentage=percentage, frequency=frequency
    )
    if fee.amount < 0 or (fee.percentage is not None and fee.percentage < 0):
        raise DomainError("A fee cannot be negative.", field="amount")
    try:
        fee.full_clean(exclude=["product"], validate_constraints=False)
    except ValidationError as error:
        raise_as_domain_error(error)
    fee.save()
    record_audit_event(
        actor=actor,
        action="product_fee.added",
        target=fee,
        changes={"name": [None, fee.name], "amount": [None, str(fee.amount)]},
        metadata={
            "product": product.code,
            "percentage": None if percentage is None else str(percentage),
            "frequency": frequency,
        },
    )
    return fee


@transaction.atomic
def update_product(
    *, actor: User | None, product: Product, branches: Iterable[Any] | None = None, **changes: Any
) -> Product:
    """Change a product's terms, eligibility or availability (its code and category stay).

    `branches` None leaves availability alone; an empty list means every branch offers it.
    Rates and fees are not changed here: they are new dated rows (add_product_rate/_fee).
    """
    ensure_can_manage_catalog(actor)
    unknown = set(changes) - {"name", *PRODUCT_FIELDS}
    if unknown:
        raise DomainError(f"Unknown product field(s): {', '.join(sorted(unknown))}.")
    product = Product.objects.select_for_update().get(pk=product.pk)
    before = {name: _audit_value(getattr(product, name)) for name in changes}
    for name, value in changes.items():
        setattr(product, name, value)
    _tidy(product, changes)
    _check_terms(product)
    if "min_amount" in changes:
        _check_minimum_against_slabs(product)
    diff = change_set(before, {name: _audit_value(getattr(product, name)) for name in changes})
    metadata: dict[str, Any] = {}
    if branches is not None:
        branches = list(branches)
        old_codes = sorted(product.branches.values_list("code", flat=True))
        new_codes = sorted(b.code for b in branches)
        if old_codes != new_codes:
            product.branches.set(branches)
            metadata["branches"] = [old_codes, new_codes]
    if not diff and not metadata:
        return product
    product.save()
    record_audit_event(actor=actor, action="product.updated", target=product, changes=diff, metadata=metadata)
    return product
