"""Holding services: audited per party; impossible holdings refused by clean() with a readable
message, and by the database itself when clean() is bypassed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.accounts.models import Holding, HoldingParty
from apps.accounts.services import open_holding, update_holding
from apps.core.errors import DomainError, PermissionDenied
from apps.core.models import AuditEvent
from apps.identity import roles
from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory
from tests.identity.factories import UserFactory
from tests.products.factories import ProductFactory


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def new_events(after_id: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=after_id).order_by("id"))


@pytest.fixture
def customer(manager, branch):
    return CustomerFactory(assigned_to=manager, branch=branch)


def test_opening_a_holding_records_one_event_per_party(manager, branch, customer):
    joint = CustomerFactory(assigned_to=manager, branch=branch)
    after = last_event_id()

    holding = open_holding(
        actor=manager,
        external_id="ACC-1",
        product=ProductFactory(),
        category="savings_account",
        parties={customer: "owner", joint: "joint"},
        currency="gbp",
        opened_on=dt.date(2025, 3, 1),
        number="GB29NWBK60161331926819",
        balance=Decimal("2500.00"),
    )

    events = new_events(after)
    assert [e.action for e in events] == ["holding.opened", "holding.opened"]
    assert {(e.customer_id, e.metadata["role"]) for e in events} == {(customer.pk, "owner"), (joint.pk, "joint")}
    assert all(e.object_id == str(holding.pk) for e in events)
    assert "GB29NWBK60161331926819" not in str([e.changes for e in events])
    assert holding.currency == "GBP"
    assert set(HoldingParty.objects.filter(holding=holding).values_list("customer", "role")) == {
        (customer.pk, "owner"),
        (joint.pk, "joint"),
    }


def test_the_factory_builds_a_holding_through_the_service(customer):
    after = last_event_id()

    holding = HoldingFactory(customer=customer, category="term_deposit")

    assert [e.action for e in new_events(after)] == ["holding.opened"]
    assert holding.maturity_date == holding.opened_on + dt.timedelta(days=365)
    assert list(holding.parties.values_list("customer", "role")) == [(customer.pk, "owner")]


def test_updating_a_holding_records_one_event_per_party_with_the_change(manager, customer):
    holding = HoldingFactory(customer=customer)
    after = last_event_id()

    update_holding(actor=manager, holding=holding, balance=Decimal("99.50"))

    events = new_events(after)
    assert [e.action for e in events] == ["holding.updated"]
    assert events[0].changes == {"balance": ["1500.00", "99.50"]}


def test_an_update_that_changes_nothing_records_nothing(manager, customer):
    holding = HoldingFactory(customer=customer)
    after = last_event_id()

    update_holding(actor=manager, holding=holding, balance=holding.balance)

    assert new_events(after) == []


# --- Bad input --------------------------------------------------------------------------------


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Holding, HoldingParty, AuditEvent)}


def open_with(customer, **overrides):  # type: ignore[no-untyped-def]
    values = {
        "actor": None,
        "external_id": "ACC-NEW",
        "product": ProductFactory(),
        "category": "savings_account",
        "parties": {customer: "owner"},
        "currency": "GBP",
        "opened_on": dt.date(2025, 3, 1),
        "number": "12345678",
        "balance": Decimal("10.00"),
    }
    values.update(overrides)
    return open_holding(**values)


BAD_OPENINGS = {
    "a negative savings balance": (
        {"balance": Decimal("-0.01")},
        "The balance of a deposit, savings account or investment cannot be negative.",
    ),
    "maturity before opening": (
        {
            "category": "term_deposit",
            "maturity_date": dt.date(2025, 2, 1),
            "maturity_instruction": "renew",
        },
        "The maturity date cannot be before the opening date.",
    ),
    "an unknown currency": ({"currency": "XYZ"}, "'XYZ' is not a currency code we deal in (ISO 4217)."),
    "a term deposit without maturity": ({"category": "term_deposit"}, "A term deposit needs a maturity date."),
    "no customer": ({"parties": {}}, "A holding needs at least one customer."),
    "an unknown field": ({"colour": "red"}, "Unknown holding field(s): colour."),
    "a negative credit limit": (
        {"category": "credit_card", "credit_limit": Decimal("-5")},
        "A credit limit cannot be negative.",
    ),
}


@pytest.mark.parametrize("case", list(BAD_OPENINGS))
def test_an_impossible_holding_is_refused_readably_and_nothing_is_written(customer, case):
    overrides, message = BAD_OPENINGS[case]
    before = counts()

    with pytest.raises(DomainError) as refused:
        open_with(customer, **overrides)

    assert message in str(refused.value)
    assert "constraint" not in str(refused.value).lower()
    assert counts() == before


def test_a_duplicate_external_id_is_refused(customer):
    HoldingFactory(customer=customer, external_id="ACC-DUP")
    before = counts()

    with pytest.raises(DomainError, match=r"(?i)external id already exists"):
        open_with(customer, external_id="ACC-DUP")

    assert counts() == before


def test_a_compliance_officer_cannot_open_a_holding(customer):
    with pytest.raises(PermissionDenied):
        open_with(customer, actor=UserFactory(roles=[roles.COMPLIANCE_OFFICER]))


def test_a_credit_card_keeps_only_the_last_four_digits(customer):
    holding = open_with(customer, category="credit_card", number="4000 0566 5566 5556", balance=Decimal("-120.00"))

    stored = Holding.objects.get(pk=holding.pk)
    assert stored.number == ""
    assert stored.number_hint == "••••5556"
    assert Holding.objects.filter(pk=holding.pk, number__isnull=True).exists()


def test_an_update_to_an_impossible_value_leaves_the_holding_unchanged(manager, customer):
    holding = HoldingFactory(customer=customer, category="term_deposit")
    before = counts()

    with pytest.raises(DomainError, match="cannot be before the opening date"):
        update_holding(actor=manager, holding=holding, maturity_date=holding.opened_on - dt.timedelta(days=1))
    with pytest.raises(DomainError, match="currency code"):
        update_holding(actor=manager, holding=holding, currency="ABC")

    holding.refresh_from_db()
    assert holding.maturity_date == holding.opened_on + dt.timedelta(days=365)
    assert holding.currency == "GBP"
    assert counts() == before


BYPASSING_CLEAN = {
    "a negative deposit balance": {"category": "term_deposit", "balance": Decimal("-1")},
    "maturity before opening": {"maturity_date": dt.date(2024, 1, 1)},
    "a currency that is not an ISO code": {"currency": "gb"},
    "a stored card number": {"category": "credit_card", "number": "4000056655665556"},
    "a term deposit without an instruction": {"category": "term_deposit", "maturity_instruction": ""},
}


@pytest.mark.parametrize("case", list(BYPASSING_CLEAN))
def test_the_database_refuses_an_impossible_holding_even_without_clean(customer, case):
    values = {
        "external_id": "RAW-1",
        "product": ProductFactory(),
        "category": "term_deposit",
        "currency": "GBP",
        "opened_on": dt.date(2025, 3, 1),
        "maturity_date": dt.date(2026, 3, 1),
        "maturity_instruction": "renew",
        "balance": Decimal("100"),
        **BYPASSING_CLEAN[case],
    }
    before = Holding.objects.count()

    with pytest.raises(IntegrityError), transaction.atomic():
        Holding.objects.create(**values)

    assert Holding.objects.count() == before


@pytest.mark.parametrize("given", ["4111 1111 1111 6781", "6781"])
def test_a_card_keeps_only_its_last_four_digits_whether_given_in_full_or_not(given):
    from apps.accounts.models import Holding

    card = Holding(category=Holding.Category.CREDIT_CARD)
    card.set_number(given)

    assert (card.number, card.number_hint) == ("", "••••6781")
