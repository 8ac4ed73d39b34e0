"""Every write to opportunities: transactional, validated, audited.

An opportunity is opened on a customer (or a lead not yet converted), moves through the open
stages, and ends won or lost with a reason. Closed is final: a new approach is a new
opportunity (docs/decisions.md 80). Compliance officers read and change nothing
(`ensure_can_edit`); an owner must be able to see what they own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.audit import AuditEntry, record_audit_event, record_audit_events
from apps.core.currencies import ISO_CURRENCIES
from apps.core.errors import Conflict, DomainError, NotFound
from apps.customers.models import Customer
from apps.customers.visibility import ensure_can_edit, visible_customers
from apps.leads.selectors import visible_leads
from apps.leads.services import NewCustomerDetails, convert_lead
from apps.opportunities.models import REASON_MAX_LENGTH, Opportunity, Stage
from apps.opportunities.selectors import closing_stage, first_open_stage, possible_owners
from apps.products.models import Product

if TYPE_CHECKING:
    from apps.identity.models import User
    from apps.leads.models import Lead

MAX_AMOUNT = Decimal("9999999999999999.99")  # 18 digits, 2 decimals: the column's limit
NEXT_STEP_MAX_LENGTH = 200


def _clean_amount(amount: Any) -> Decimal:
    try:
        value = Decimal(str(amount))
    except (ArithmeticError, ValueError):
        raise DomainError("Give the amount as a number.", field="amount") from None
    if not value.is_finite() or value <= 0:
        raise DomainError("The amount must be more than zero.", field="amount")
    if value > MAX_AMOUNT or value != value.quantize(Decimal("0.01")):
        raise DomainError("The amount has at most 16 digits and 2 decimals.", field="amount")
    return value


def _clean_currency(currency: str) -> str:
    code = (currency or "").strip().upper()
    if code not in ISO_CURRENCIES:
        raise DomainError("Choose a currency the bank deals in (ISO 4217 code).", field="currency")
    return code


def _clean_probability(probability: Any) -> int:
    if isinstance(probability, bool) or not isinstance(probability, int) or not 0 <= probability <= 100:
        raise DomainError("The probability is a whole per cent from 0 to 100.", field="probability")
    return probability


def _clean_next_step(next_step: str) -> str:
    text = (next_step or "").strip()
    if len(text) > NEXT_STEP_MAX_LENGTH:
        raise DomainError(f"Keep the next step to {NEXT_STEP_MAX_LENGTH} characters.", field="next_step")
    return text


def _ensure_owner(owner: User, *, customer: Customer | None, lead: Lead | None) -> None:
    """An opportunity is never given to someone who cannot open its customer (or lead)."""
    if not possible_owners(customer=customer, lead=lead).filter(pk=owner.pk).exists():
        raise DomainError("This person cannot see the customer, so cannot own the opportunity.", field="owner")


def _ensure_sees(actor: User | None, *, customer: Customer | None, lead: Lead | None) -> None:
    if actor is None:
        return
    if customer is not None and not visible_customers(user=actor).filter(pk=customer.pk).exists():
        raise NotFound("No such customer.")
    if lead is not None and not visible_leads(user=actor).filter(pk=lead.pk).exists():
        raise NotFound("No such lead.")


def _summary(opportunity: Opportunity) -> dict[str, Any]:
    # Amounts and stages are business figures, not personal data; the next step is free text
    # about a person, so the chain records that it changed, never what it says.
    return {
        "product": opportunity.product_id,
        "amount": str(opportunity.amount),
        "currency": opportunity.currency,
        "stage": opportunity.stage_id,
        "probability": opportunity.probability,
        "expected_close": opportunity.expected_close.isoformat(),
        "owner": opportunity.owner_id,
    }


@transaction.atomic
def create_opportunity(
    *,
    actor: User | None,
    product: Product,
    amount: Any,
    currency: str,
    expected_close: dt.date,
    customer: Customer | None = None,
    lead: Lead | None = None,
    owner: User | None = None,
    stage: Stage | None = None,
    probability: int | None = None,
    next_step: str = "",
    source: str = Opportunity.Source.MANUAL,
    source_object: str = "",
) -> Opportunity:
    """Open an opportunity on a customer or on a lead (exactly one), in an open stage."""
    ensure_can_edit(actor)
    if (customer is None) == (lead is None):
        raise DomainError("An opportunity is on a customer or on a lead.", field="customer")
    _ensure_sees(actor, customer=customer, lead=lead)
    if lead is not None and not lead.is_open:
        raise Conflict("This lead is closed: open the opportunity on its customer.")
    owner = owner or actor
    if owner is None:
        raise DomainError("Name the opportunity's owner.", field="owner")
    _ensure_owner(owner, customer=customer, lead=lead)
    stage = stage or first_open_stage()
    if stage.is_closing or not stage.is_active:
        raise DomainError("A new opportunity starts in an open stage.", field="stage")
    if not product.is_active:
        raise DomainError("This product is withdrawn: choose an active one.", field="product")
    opportunity = Opportunity(
        customer=customer,
        lead=lead,
        product=product,
        amount=_clean_amount(amount),
        currency=_clean_currency(currency),
        stage=stage,
        probability=stage.default_probability if probability is None else _clean_probability(probability),
        expected_close=expected_close,
        owner=owner,
        next_step=_clean_next_step(next_step),
        source=source,
        source_object=source_object,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    try:
        with transaction.atomic():
            opportunity.save()
    except IntegrityError:
        if source_object and Opportunity.objects.filter(source_object=source_object, outcome="open").exists():
            raise Conflict("An open opportunity already follows this up.") from None
        raise
    record_audit_event(
        actor=actor,
        action="opportunity.created",
        target=opportunity,
        metadata={**_summary(opportunity), "source": source, "source_object": source_object, "lead": lead and lead.pk},
    )
    return opportunity


def _locked_open(*, actor: User | None, opportunity: Opportunity, refusal: str) -> Opportunity:
    """The opportunity locked for the caller's transaction, when the actor may edit and it is
    still open; one closed meanwhile is a Conflict saying `refusal`."""
    ensure_can_edit(actor)
    locked = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    if locked.outcome != Opportunity.Outcome.OPEN:
        raise Conflict(refusal)
    return locked


def _close(locked: Opportunity, *, stage: Stage, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        word = "won" if stage.is_won else "lost"
        raise DomainError(f"Say why the opportunity was {word}.", field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise DomainError(f"Keep the reason to {REASON_MAX_LENGTH} characters.", field="reason")
    locked.outcome = Opportunity.Outcome.WON if stage.is_won else Opportunity.Outcome.LOST
    locked.close_reason = reason
    locked.closed_at = timezone.now()


@transaction.atomic
def move_opportunity(*, actor: User | None, opportunity: Opportunity, stage: Stage, reason: str = "") -> Opportunity:
    """Move an open opportunity to another active stage; its probability becomes the stage's
    default. A won or lost stage closes it, and needs the reason."""
    locked = _locked_open(actor=actor, opportunity=opportunity, refusal="This opportunity is closed.")
    if not stage.is_active:
        raise DomainError("This stage is no longer in use.", field="stage")
    if stage.pk == locked.stage_id:
        return locked
    before = {"stage": locked.stage_id, "probability": locked.probability}
    locked.stage = stage
    locked.probability = stage.default_probability
    fields = ["stage", "probability", "updated_at"]
    action = "opportunity.moved"
    metadata: dict[str, Any] = {}
    if stage.is_closing:
        _close(locked, stage=stage, reason=reason)
        fields += ["outcome", "close_reason", "closed_at"]
        action = f"opportunity.{locked.outcome}"
        metadata = {"reason": locked.close_reason}
    locked.save(update_fields=fields)
    record_audit_event(
        actor=actor,
        action=action,
        target=locked,
        changes={
            name: [before[name], value] for name, value in (("stage", stage.pk), ("probability", locked.probability))
        },
        metadata=metadata,
    )
    return locked


def close_opportunity(*, actor: User | None, opportunity: Opportunity, won: bool, reason: str) -> Opportunity:
    """Win or lose an open opportunity, with the reason (to the first active won/lost stage)."""
    return move_opportunity(actor=actor, opportunity=opportunity, stage=closing_stage(won=won), reason=reason)


@transaction.atomic
def update_opportunity(
    *,
    actor: User | None,
    opportunity: Opportunity,
    amount: Any = None,
    currency: str | None = None,
    probability: int | None = None,
    expected_close: dt.date | None = None,
    next_step: str | None = None,
    owner: User | None = None,
) -> Opportunity:
    """Change an open opportunity's figures, next step or owner (its customer and product stay)."""
    locked = _locked_open(actor=actor, opportunity=opportunity, refusal="A closed opportunity cannot be changed.")
    before = _summary(locked)
    before_step = locked.next_step
    if amount is not None:
        locked.amount = _clean_amount(amount)
    if currency is not None:
        locked.currency = _clean_currency(currency)
    if probability is not None:
        locked.probability = _clean_probability(probability)
    if expected_close is not None:
        locked.expected_close = expected_close
    if next_step is not None:
        locked.next_step = _clean_next_step(next_step)
    if owner is not None and owner.pk != locked.owner_id:
        _ensure_owner(owner, customer=locked.customer, lead=locked.lead)
        locked.owner = owner
    after = _summary(locked)
    changes: dict[str, list[Any]] = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if locked.next_step != before_step:
        changes["next_step"] = ["[text]", "[text changed]"]
    if not changes:
        return locked
    locked.save()
    record_audit_event(actor=actor, action="opportunity.updated", target=locked, changes=changes)
    return locked


@transaction.atomic
def open_opportunities_for_customers(
    *,
    actor: User,
    customer_ids: Iterable[int],
    product: Product,
    amount: Any,
    currency: str,
    expected_close: dt.date,
    next_step: str = "",
) -> list[Opportunity]:
    """The customer list's bulk action ("add to opportunity"): one opportunity per ticked
    customer, owned by the actor, all or none: a customer outside the actor's book (a tampered
    form, or moved meanwhile) refuses the batch. One audit event per opportunity, in one statement."""
    ensure_can_edit(actor)
    if not product.is_active:
        raise DomainError("This product is withdrawn: choose an active one.", field="product")
    from apps.customers.visibility import active_managers

    if not active_managers().filter(pk=actor.pk).exists():
        raise DomainError("Only relationship and branch managers hold opportunities.")
    stage = first_open_stage()
    clean = {
        "amount": _clean_amount(amount),
        "currency": _clean_currency(currency),
        "next_step": _clean_next_step(next_step),
    }
    ids = sorted({int(pk) for pk in customer_ids})
    customers = list(visible_customers(user=actor).filter(pk__in=ids).order_by("pk").only("pk"))
    if len(customers) != len(ids):
        raise NotFound("No such customer.")
    rows = [
        Opportunity(
            customer=customer,
            product=product,
            stage=stage,
            probability=stage.default_probability,
            expected_close=expected_close,
            owner=actor,
            source=Opportunity.Source.CUSTOMER_LIST,
            created_by=actor,
            **clean,
        )
        for customer in customers
    ]
    created = Opportunity.objects.bulk_create(rows)
    record_audit_events(
        AuditEntry(
            action="opportunity.created",
            actor=actor,
            target=opportunity,
            changes={},
            metadata={**_summary(opportunity), "source": opportunity.source},
        )
        for opportunity in created
    )
    return created


@transaction.atomic
def save_stage(*, actor: User | None, stage: Stage) -> Stage:
    """Create or change a stage of the board (administrators, in the admin). A stage in use is
    deactivated, never deleted; its won/lost meaning cannot change while opportunities sit in it."""
    ensure_can_edit(actor)
    if stage.is_won and stage.is_lost:
        raise DomainError("A stage is won or lost, not both.", field="is_lost")
    if stage.default_probability is None or not 0 <= stage.default_probability <= 100:
        raise DomainError("The default probability is a per cent from 0 to 100.", field="default_probability")
    before: dict[str, Any] = {}
    if stage.pk is not None:
        saved = Stage.objects.select_for_update().get(pk=stage.pk)
        before = {
            name: getattr(saved, name)
            for name in ("name", "position", "default_probability", "is_won", "is_lost", "is_active")
        }
        meaning_changed = (saved.is_won, saved.is_lost) != (stage.is_won, stage.is_lost)
        if meaning_changed and saved.opportunities.exists():
            raise Conflict("Opportunities sit in this stage: add a new stage instead of changing what it means.")
    after = {
        name: getattr(stage, name)
        for name in ("name", "position", "default_probability", "is_won", "is_lost", "is_active")
    }
    try:
        with transaction.atomic():
            stage.save()
    except IntegrityError:
        raise DomainError("Another stage has this name or position.", field="position") from None
    record_audit_event(
        actor=actor,
        action="opportunity_stage.updated" if before else "opportunity_stage.created",
        target=stage,
        changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
    )
    return stage


@transaction.atomic
def convert_lead_with_opportunity(
    *,
    actor: User,
    lead: Lead,
    product: Product,
    amount: Any,
    currency: str,
    expected_close: dt.date,
    next_step: str = "",
    customer: Customer | None = None,
    details: NewCustomerDetails | None = None,
) -> Opportunity:
    """A lead converts into a customer and an opportunity, in one transaction.

    The conversion is the leads app's own (apps.leads.services.convert_lead: it links or creates
    the customer through the customer service, audited); the lead's open opportunities then
    follow it to the customer, and the new opportunity is opened on the customer for the lead's
    advisor. Any refusal rolls all of it back: never a customer without its opportunity.
    """
    converted = convert_lead(actor=actor, lead=lead, customer=customer, details=details)
    on_customer = cast("Customer", converted.customer)
    for waiting in Opportunity.objects.select_for_update().filter(lead_id=lead.pk, outcome=Opportunity.Outcome.OPEN):
        waiting.lead, waiting.customer = None, on_customer
        waiting.save(update_fields=["lead", "customer", "updated_at"])
        record_audit_event(
            actor=actor,
            action="opportunity.moved_to_customer",
            target=waiting,
            changes={"lead": [lead.pk, None], "customer": [None, on_customer.pk]},
        )
    owner = converted.assignee or actor
    if not possible_owners(customer=on_customer).filter(pk=owner.pk).exists():
        owner = actor
    return create_opportunity(
        actor=actor,
        customer=on_customer,
        owner=owner,
        product=product,
        amount=amount,
        currency=currency,
        expected_close=expected_close,
        next_step=next_step,
        source=Opportunity.Source.LEAD,
        source_object=f"lead:{lead.pk}",
    )
