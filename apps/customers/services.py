"""Every write to customers: transactional, validated, audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.audit import (
    AuditEntry,
    change_set,
    clean_reveal_reason,
    record_audit_event,
    record_audit_events,
    record_read_event,
    snapshot,
)
from apps.core.bulk import copy_rows
from apps.core.errors import DomainError, PermissionDenied, raise_as_domain_error
from apps.customers.book_facts import forget_books
from apps.customers.fields import EXPORTED_PII, PROFILE_FIELDS
from apps.customers.models import (
    AUDIT_MASKED_FIELDS,
    Customer,
    CustomerAssignment,
    CustomerConsent,
    CustomerRelationship,
    CustomerUserObjectPermission,
    IdentityDocument,
)
from apps.customers.visibility import can_reveal_pii, ensure_can_edit
from apps.identity import roles

if TYPE_CHECKING:
    from apps.identity.models import User

MANAGER_PERMISSIONS = ("view_customer", "change_customer")


def _apply_profile(customer: Customer, data: Mapping[str, Any]) -> None:
    unknown = set(data) - set(PROFILE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown customer field(s): {', '.join(sorted(unknown))}.")
    for name, value in data.items():
        if name in ("national_id", "email", "phone", "address"):
            customer.set_pii(name, value or "")
        else:
            setattr(customer, name, value)
    customer.display_name = customer.compose_display_name()


def _validate_and_save(customer: Customer, **save_kwargs: Any) -> None:
    try:
        customer.full_clean(exclude=["branch", "primary_manager", "national_id_index"], validate_constraints=False)
    except ValidationError as error:
        raise_as_domain_error(error)
    if customer.national_id_index:
        clash = Customer.objects.filter(national_id_index=customer.national_id_index).exclude(pk=customer.pk)
        if clash.exists():
            raise DomainError("Another customer already has this national id.", field="national_id")
    try:
        with transaction.atomic():
            customer.save(**save_kwargs)
    except IntegrityError as error:
        if "external_id" in str(error):
            raise DomainError("A customer with this external id already exists.", field="external_id") from error
        if "national_id" in str(error):
            raise DomainError("Another customer already has this national id.", field="national_id") from error
        raise


@transaction.atomic
def create_customer(
    *, actor: User | None, external_id: str, branch: Any, manager: User | None = None, reason: str = "", **profile: Any
) -> Customer:
    """Create a customer; with `manager`, assign them at once (permissions and history).

    A relationship manager (not a branch manager or administrator) opens customers in their
    own branch only, and looks after the customers they open: otherwise a customer they just
    created would vanish from their own view.
    """
    ensure_can_edit(actor)
    self_claim = actor is not None and not (actor.is_administrator or actor.is_branch_manager)
    if actor is not None and self_claim:
        if getattr(branch, "pk", branch) != actor.branch_id:
            raise PermissionDenied("A relationship manager opens customers in their own branch only.")
        if manager is not None and manager.pk != actor.pk:
            raise PermissionDenied("Only an administrator or a branch manager can assign customers to others.")
        manager = actor
    customer = Customer(external_id=(external_id or "").strip(), branch=branch)
    _apply_profile(customer, profile)
    _validate_and_save(customer)
    forget_books()  # its branch's managers see it: their branch filter may gain the branch
    after = snapshot(customer, [*profile.keys(), "external_id"])
    record_audit_event(
        actor=actor, action="customer.created", target=customer, changes=change_set({}, after, pii=AUDIT_MASKED_FIELDS)
    )
    if manager is not None:
        _assign(actor, [customer.pk], manager, reason or "New customer", self_claim=self_claim)
        customer.refresh_from_db(fields=["primary_manager"])
    return customer


@transaction.atomic
def update_customer(*, actor: User | None, customer: Customer, **profile: Any) -> Customer:
    ensure_can_edit(actor)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = snapshot(customer, profile.keys())
    _apply_profile(customer, profile)
    after = snapshot(customer, profile.keys())
    changes = change_set(before, after, pii=AUDIT_MASKED_FIELDS)
    if not changes:
        return customer
    _validate_and_save(customer)
    record_audit_event(actor=actor, action="customer.updated", target=customer, changes=changes)
    return customer


@transaction.atomic
def record_customer_export(
    *, actor: User | None, filters: Mapping[str, Any], rows: int, include_pii: bool, reason: str = "", **details: Any
) -> None:
    """Exports (page or command) are audited: who, which filters, how many rows, and whether
    PII left the bank's systems. Only a user who may reveal PII may export it, and says why."""
    if include_pii and (actor is None or not can_reveal_pii(user=actor)):
        raise PermissionDenied("Your role may not export personal data.")
    if include_pii:
        details["reason"] = clean_reveal_reason(reason)
    record_audit_events(
        [
            AuditEntry(
                action="customer.exported",
                actor=actor,
                object_type="customers.customer",
                metadata={
                    "filters": dict(filters),
                    "rows": rows,
                    "include_pii": include_pii,
                    "pii_fields": list(EXPORTED_PII) if include_pii else [],
                    **details,
                },
            )
        ]
    )


def _ensure_can_assign(
    actor: User | None,
    customers: Sequence[tuple[int, int | None, int | None]],
    manager: User,
    *,
    self_claim: bool = False,
) -> None:
    if not manager.is_active:
        raise DomainError("Customers can only be assigned to an active employee.", field="manager")
    if not (manager.has_role(roles.RELATIONSHIP_MANAGER) or manager.has_role(roles.BRANCH_MANAGER)):
        raise DomainError("Customers can only be assigned to a relationship or branch manager.", field="manager")
    if actor is None or actor.is_administrator:
        return
    if self_claim and manager.pk == actor.pk and all(branch == actor.branch_id for _, branch, _ in customers):
        return
    if actor.is_branch_manager and actor.branch_id:
        if manager.branch_id != actor.branch_id or any(branch != actor.branch_id for _, branch, _ in customers):
            raise PermissionDenied("A branch manager assigns customers within their own branch only.")
        return
    raise PermissionDenied("Only an administrator or a branch manager can assign customers.")


@transaction.atomic
def assign_customers(*, actor: User | None, customer_ids: Iterable[int], manager: User, reason: str = "") -> int:
    """Make `manager` the primary manager of these customers, in a constant number of queries.

    Grants the manager view/change on each customer, revokes them from whoever held them
    through assignment, closes the previous assignment and opens a new one, and records one
    audit event per customer moved. Returns how many customers changed hands.
    """
    return _assign(actor, customer_ids, manager, reason)


def _assign(
    actor: User | None, customer_ids: Iterable[int], manager: User, reason: str, *, self_claim: bool = False
) -> int:
    ids = sorted(set(customer_ids))
    rows = list(
        Customer.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "branch_id", "primary_manager_id")
    )
    _ensure_can_assign(actor, rows, manager, self_claim=self_claim)
    moving = [(pk, previous) for pk, _, previous in rows if previous != manager.pk]
    if not moving:
        return 0
    forget_books()  # the books these customers leave and join (their branch filters)
    moving_ids = [pk for pk, _ in moving]
    now = timezone.now()
    permissions = list(Permission.objects.filter(content_type__app_label="customers", codename__in=MANAGER_PERMISSIONS))
    CustomerUserObjectPermission.objects.filter(content_object_id__in=moving_ids, permission__in=permissions).exclude(
        user=manager
    ).delete()
    CustomerUserObjectPermission.objects.bulk_create(
        [
            CustomerUserObjectPermission(user=manager, permission=permission, content_object_id=pk)
            for pk in moving_ids
            for permission in permissions
        ],
        ignore_conflicts=True,
    )
    CustomerAssignment.objects.filter(customer_id__in=moving_ids, ended_at__isnull=True).update(ended_at=now)
    CustomerAssignment.objects.bulk_create(
        [
            CustomerAssignment(customer_id=pk, manager=manager, assigned_by=actor, reason=reason, started_at=now)
            for pk in moving_ids
        ]
    )
    Customer.objects.filter(pk__in=moving_ids).update(primary_manager=manager, updated_at=now)
    record_audit_events(
        AuditEntry(
            action="customer.reassigned",
            actor=actor,
            customer_id=pk,
            object_type="customers.customer",
            object_id=pk,
            changes={"primary_manager": [previous, manager.pk]},
            metadata={"reason": reason},
        )
        for pk, previous in moving
    )
    return len(moving)


@transaction.atomic
def open_first_assignments(*, actor: User | None, customers: Sequence[Customer], reason: str = "") -> None:
    """Customers just created with their primary manager set (the import's bulk path): grant
    that manager's object permissions and open the assignment history, in a fixed number of
    statements (COPY). Nobody held these customers before, so nothing is revoked or closed; the
    caller's creation audit event records the primary manager."""
    if not customers:
        return
    forget_books()
    by_manager: dict[int | None, list[Customer]] = {}
    for customer in customers:
        by_manager.setdefault(customer.primary_manager_id, []).append(customer)
    for group in by_manager.values():
        manager = cast("User", group[0].primary_manager)  # the caller sets it on every customer
        _ensure_can_assign(actor, [(c.pk, c.branch_id, None) for c in group], manager)
    now = timezone.now()
    permissions = list(Permission.objects.filter(content_type__app_label="customers", codename__in=MANAGER_PERMISSIONS))
    copy_rows(
        CustomerUserObjectPermission,
        ["user", "permission", "content_object"],
        ((c.primary_manager_id, permission.pk, c.pk) for c in customers for permission in permissions),
    )
    actor_id = actor.pk if actor is not None else None
    copy_rows(
        CustomerAssignment,
        ["customer", "manager", "assigned_by", "reason", "started_at", "ended_at"],
        ((c.pk, c.primary_manager_id, actor_id, reason, now, None) for c in customers),
    )


def assign_customer(*, actor: User | None, customer: Customer, manager: User, reason: str = "") -> Customer:
    assign_customers(actor=actor, customer_ids=[customer.pk], manager=manager, reason=reason)
    customer.refresh_from_db(fields=["primary_manager", "updated_at"])
    return customer


@transaction.atomic
def transfer_portfolio(*, actor: User | None, from_manager: User, to_manager: User, reason: str = "") -> int:
    """Move every customer of a manager (e.g. leaving the bank) to another manager."""
    if from_manager.pk == to_manager.pk:
        raise DomainError("Choose a different manager to receive the portfolio.", field="to_manager")
    ids = Customer.objects.filter(primary_manager=from_manager).values_list("pk", flat=True)
    moved = assign_customers(actor=actor, customer_ids=list(ids), manager=to_manager, reason=reason)
    record_audit_event(
        actor=actor,
        action="portfolio.transferred",
        target=from_manager,
        metadata={"to_manager": to_manager.pk, "customers": moved, "reason": reason},
    )
    return moved


@transaction.atomic
def add_identity_document(
    *,
    actor: User | None,
    customer: Customer,
    document_type: str,
    number: str,
    issuing_country: str,
    expiry_date: dt.date | None = None,
    issued_on: dt.date | None = None,
) -> IdentityDocument:
    ensure_can_edit(actor)
    # Checked here for a readable message; the database constraint only names itself.
    if issued_on and expiry_date and expiry_date <= issued_on:
        raise DomainError("The expiry date must be after the issue date.", field="expiry_date")
    document = IdentityDocument(
        customer=customer,
        document_type=document_type,
        issuing_country=(issuing_country or "").upper(),
        expiry_date=expiry_date,
        issued_on=issued_on,
    )
    document.set_number(number)
    try:
        document.full_clean(validate_constraints=False)
    except ValidationError as error:
        raise_as_domain_error(error)
    document.save()
    record_audit_event(
        actor=actor,
        action="document.added",
        target=document,
        changes={"document_type": [None, document_type], "number": [None, "[redacted]"]},
    )
    return document


@transaction.atomic
def link_customers(
    *, actor: User | None, from_customer: Customer, to_customer: Customer, kind: str
) -> CustomerRelationship:
    ensure_can_edit(actor)
    if from_customer.pk == to_customer.pk:
        raise DomainError("A customer cannot be related to themselves.", field="to_customer")
    relationship, created = CustomerRelationship.objects.get_or_create(
        from_customer=from_customer, to_customer=to_customer, kind=kind
    )
    if created:
        record_audit_event(
            actor=actor,
            action="relationship.created",
            target=relationship,
            customer_id=from_customer.pk,
            metadata={"to_customer": to_customer.pk, "kind": kind},
        )
    return relationship


@transaction.atomic
def record_consent(
    *, actor: User | None, customer: Customer, channel: str, purpose: str, granted: bool, source: str = ""
) -> CustomerConsent:
    ensure_can_edit(actor)
    consent, _ = CustomerConsent.objects.update_or_create(
        customer=customer,
        channel=channel,
        purpose=purpose,
        defaults={"granted": granted, "recorded_at": timezone.now(), "source": source},
    )
    record_audit_event(
        actor=actor,
        action="consent.recorded",
        target=consent,
        metadata={"channel": channel, "purpose": purpose, "granted": granted, "source": source},
    )
    return consent


PURPOSE_MAX_LENGTH = 200


def clean_purpose(purpose: str | None) -> str:
    """A stated purpose of a read, as typed (one line, bounded); blank when none was given."""
    return " ".join((purpose or "").split())[:PURPOSE_MAX_LENGTH]


def record_customer_view(*, actor: User, customer: Customer, purpose: str = "") -> None:
    """Opening a customer's 360 page is a read a regulator asks about: one audit event, one INSERT.

    No lock, no savepoint and no transaction of its own: a page view writes nothing else, so the
    INSERT alone is the transaction (autocommit: one round trip, not BEGIN, INSERT, COMMIT); inside
    a request's transaction (or a test's) it adds exactly the event's INSERT."""
    purpose = clean_purpose(purpose)
    record_read_event(
        actor=actor, action="customer.viewed", target=customer, metadata={"purpose": purpose} if purpose else {}
    )
