"""Customer services: each write records exactly its audit events; bad input is refused with
a readable message and leaves nothing half-written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from apps.core.errors import DomainError, PermissionDenied
from apps.core.models import AuditEvent
from apps.customers.models import (
    Customer,
    CustomerAssignment,
    CustomerConsent,
    CustomerRelationship,
    CustomerUserObjectPermission,
    IdentityDocument,
)
from apps.customers.services import (
    add_identity_document,
    assign_customer,
    assign_customers,
    create_customer,
    link_customers,
    record_consent,
    transfer_portfolio,
    update_customer,
)
from apps.identity import roles
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory


class World:
    def __init__(self, manager, other_manager, branch_manager, branch) -> None:  # type: ignore[no-untyped-def]
        self.manager, self.other_manager, self.branch_manager, self.branch = (
            manager,
            other_manager,
            branch_manager,
            branch,
        )
        self.customer = CustomerFactory(assigned_to=manager, branch=branch)
        self.second = CustomerFactory(assigned_to=manager, branch=branch)


@pytest.fixture
def world(manager, other_manager, branch_manager, branch) -> World:
    return World(manager, other_manager, branch_manager, branch)


def new_actions(after_id: int) -> list[str]:
    return sorted(AuditEvent.objects.filter(id__gt=after_id).values_list("action", flat=True))


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


SERVICE_CASES: dict[str, tuple[Callable[[World], object], list[str]]] = {
    "create_customer": (
        lambda w: create_customer(actor=w.branch_manager, external_id="NEW-1", branch=w.branch, last_name="Okafor"),
        ["customer.created"],
    ),
    "create_customer with a manager": (
        lambda w: create_customer(
            actor=w.branch_manager, external_id="NEW-2", branch=w.branch, last_name="Okafor", manager=w.manager
        ),
        ["customer.created", "customer.reassigned"],
    ),
    "update_customer": (
        lambda w: update_customer(actor=w.manager, customer=w.customer, segment="affluent", email="n@mail.example"),
        ["customer.updated"],
    ),
    "update_customer with nothing changed": (
        lambda w: update_customer(actor=w.manager, customer=w.customer, segment=w.customer.segment),
        [],
    ),
    "assign_customer": (
        lambda w: assign_customer(actor=w.branch_manager, customer=w.customer, manager=w.other_manager),
        ["customer.reassigned"],
    ),
    "assign_customer to the current manager": (
        lambda w: assign_customer(actor=w.branch_manager, customer=w.customer, manager=w.manager),
        [],
    ),
    "assign_customers": (
        lambda w: assign_customers(
            actor=w.branch_manager, customer_ids=[w.customer.pk, w.second.pk], manager=w.other_manager
        ),
        ["customer.reassigned", "customer.reassigned"],
    ),
    "transfer_portfolio": (
        lambda w: transfer_portfolio(actor=None, from_manager=w.manager, to_manager=w.other_manager, reason="Leaving"),
        ["customer.reassigned", "customer.reassigned", "portfolio.transferred"],
    ),
    "add_identity_document": (
        lambda w: add_identity_document(
            actor=w.manager, customer=w.customer, document_type="passport", number="P123", issuing_country="gb"
        ),
        ["document.added"],
    ),
    "link_customers": (
        lambda w: link_customers(actor=w.manager, from_customer=w.customer, to_customer=w.second, kind="spouse"),
        ["relationship.created"],
    ),
    "record_consent": (
        lambda w: record_consent(
            actor=w.manager, customer=w.customer, channel="email", purpose="marketing", granted=True, source="branch"
        ),
        ["consent.recorded"],
    ),
}


@pytest.mark.parametrize("case", list(SERVICE_CASES))
def test_each_customer_service_writes_exactly_its_audit_events(world, case):
    call, expected = SERVICE_CASES[case]
    after = last_event_id()

    call(world)

    assert new_actions(after) == sorted(expected)


def test_an_audit_event_names_its_actor_object_and_customer(world):
    after = last_event_id()

    document = add_identity_document(
        actor=world.manager, customer=world.customer, document_type="passport", number="P123", issuing_country="GB"
    )

    event = AuditEvent.objects.get(id__gt=after)
    assert (event.actor_id, event.object_type, event.object_id, event.customer_id) == (
        world.manager.pk,
        "customers.identitydocument",
        str(document.pk),
        world.customer.pk,
    )


def test_linking_the_same_customers_twice_records_one_event(world):
    link_customers(actor=world.manager, from_customer=world.customer, to_customer=world.second, kind="spouse")
    after = last_event_id()

    link_customers(actor=world.manager, from_customer=world.customer, to_customer=world.second, kind="spouse")

    assert new_actions(after) == []
    assert CustomerRelationship.objects.count() == 1


def test_reassignment_keeps_the_history_and_moves_permissions(world):
    assign_customer(actor=world.branch_manager, customer=world.customer, manager=world.other_manager, reason="Cover")

    history = list(CustomerAssignment.objects.filter(customer=world.customer).order_by("started_at"))
    assert [a.manager for a in history] == [world.manager, world.other_manager]
    assert history[0].ended_at is not None and history[1].ended_at is None
    holders = set(
        CustomerUserObjectPermission.objects.filter(content_object=world.customer).values_list("user", flat=True)
    )
    assert holders == {world.other_manager.pk}


# --- Bad input --------------------------------------------------------------------------------

TABLES = (Customer, CustomerAssignment, CustomerUserObjectPermission, IdentityDocument, CustomerConsent, AuditEvent)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in TABLES}


def inactive_manager(world: World):  # type: ignore[no-untyped-def]
    return UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=world.branch, is_active=False)


BAD_INPUT: dict[str, tuple[Callable[[World], object], type[DomainError], str]] = {
    "duplicate external id": (
        lambda w: create_customer(actor=None, external_id=w.customer.external_id, branch=w.branch, last_name="X"),
        DomainError,
        "external id already exists",
    ),
    "a second customer with the same national id": (
        lambda w: create_customer(
            actor=None, external_id="NEW-3", branch=w.branch, last_name="X", national_id=w.customer.national_id
        ),
        DomainError,
        "Another customer already has this national id.",
    ),
    "the same national id typed differently": (
        lambda w: create_customer(
            actor=None,
            external_id="NEW-4",
            branch=w.branch,
            last_name="X",
            national_id=" ".join(w.customer.national_id.lower()),
        ),
        DomainError,
        "Another customer already has this national id.",
    ),
    "changing to another customer's national id": (
        lambda w: update_customer(actor=w.manager, customer=w.second, national_id=w.customer.national_id),
        DomainError,
        "Another customer already has this national id.",
    ),
    "negative income": (
        lambda w: create_customer(
            actor=None, external_id="NEW-5", branch=w.branch, last_name="X", annual_income=Decimal("-1")
        ),
        DomainError,
        "Income cannot be negative.",
    ),
    "a business without a company name": (
        lambda w: create_customer(actor=None, external_id="NEW-6", branch=w.branch, kind="business"),
        DomainError,
        "A business customer needs a company name.",
    ),
    "an individual without a name": (
        lambda w: create_customer(actor=None, external_id="NEW-7", branch=w.branch),
        DomainError,
        "An individual customer needs a name.",
    ),
    "a blank external id": (
        lambda w: create_customer(actor=None, external_id="  ", branch=w.branch, last_name="X"),
        DomainError,
        "cannot be blank",
    ),
    "an unknown field": (
        lambda w: create_customer(actor=None, external_id="NEW-8", branch=w.branch, last_name="X", shoe_size=42),
        DomainError,
        "Unknown customer field(s): shoe_size.",
    ),
    "a new customer for an inactive manager": (
        lambda w: create_customer(
            actor=None, external_id="NEW-9", branch=w.branch, last_name="X", manager=inactive_manager(w)
        ),
        DomainError,
        "active employee",
    ),
    "a compliance officer editing": (
        lambda w: update_customer(
            actor=UserFactory(roles=[roles.COMPLIANCE_OFFICER]), customer=w.customer, segment="affluent"
        ),
        PermissionDenied,
        "may read customers but not change them",
    ),
    "a relationship manager reassigning": (
        lambda w: assign_customer(actor=w.manager, customer=w.customer, manager=w.other_manager),
        PermissionDenied,
        "Only an administrator or a branch manager",
    ),
    "a branch manager assigning outside their branch": (
        lambda w: assign_customer(
            actor=w.branch_manager,
            customer=w.customer,
            manager=UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=BranchFactory()),
        ),
        PermissionDenied,
        "within their own branch",
    ),
    "a portfolio transferred to the same manager": (
        lambda w: transfer_portfolio(actor=None, from_manager=w.manager, to_manager=w.manager),
        DomainError,
        "Choose a different manager",
    ),
    "a customer related to themselves": (
        lambda w: link_customers(actor=w.manager, from_customer=w.customer, to_customer=w.customer, kind="spouse"),
        DomainError,
        "cannot be related to themselves",
    ),
    "a document that expires before it was issued": (
        lambda w: add_identity_document(
            actor=w.manager,
            customer=w.customer,
            document_type="passport",
            number="P1",
            issuing_country="GB",
            issued_on=dt.date(2024, 1, 1),
            expiry_date=dt.date(2023, 1, 1),
        ),
        DomainError,
        "The expiry date must be after the issue date.",
    ),
    "a document without a number": (
        lambda w: add_identity_document(
            actor=w.manager, customer=w.customer, document_type="passport", number=" ", issuing_country="GB"
        ),
        DomainError,
        "cannot be blank",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_customer_input_is_refused_readably_and_nothing_is_written(world, case):
    call, error_class, message = BAD_INPUT[case]
    before = counts()
    world.customer.refresh_from_db()
    national_id_before = Customer.objects.get(pk=world.second.pk).national_id

    with pytest.raises(error_class) as refused:
        call(world)

    assert message.lower() in str(refused.value).lower()
    assert "constraint" not in str(refused.value).lower(), "a database constraint's name is not a message"
    assert counts() == before
    assert Customer.objects.get(pk=world.second.pk).national_id == national_id_before


def test_a_relationship_manager_looks_after_the_customers_they_open(manager):
    from apps.customers.services import create_customer
    from apps.customers.visibility import visible_customers

    customer = create_customer(actor=manager, external_id="RM-OPENED-1", branch=manager.branch, last_name="Opened")

    assert customer.primary_manager_id == manager.pk
    assert list(visible_customers(user=manager)) == [customer]


def test_a_relationship_manager_cannot_open_a_customer_in_another_branch(manager):
    from apps.core.errors import PermissionDenied
    from apps.customers.models import Customer
    from apps.customers.services import create_customer
    from tests.identity.factories import BranchFactory

    with pytest.raises(PermissionDenied, match="own branch"):
        create_customer(actor=manager, external_id="RM-OPENED-2", branch=BranchFactory(), last_name="Elsewhere")
    assert not Customer.objects.filter(external_id="RM-OPENED-2").exists()
