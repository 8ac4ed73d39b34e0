"""import_holdings: products and customers resolved by code and external id, joint parties kept in step."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.accounts.models import Holding, HoldingParty
from apps.core.models import AuditEvent
from tests.customers.factories import CustomerFactory
from tests.imports.support import read_report, run_command, write_csv
from tests.products.factories import ProductFactory

HEADER = [
    "external_id",
    "category",
    "product_code",
    "parties",
    "number",
    "currency",
    "balance",
    "credit_limit",
    "rate",
    "opened_on",
    "maturity_date",
    "maturity_instruction",
    "status",
]


@pytest.fixture
def people(branch):  # type: ignore[no-untyped-def]
    return (
        CustomerFactory(external_id="CUST-A", branch=branch),
        CustomerFactory(external_id="CUST-B", branch=branch),
    )


@pytest.fixture
def products(db):  # type: ignore[no-untyped-def]
    return ProductFactory(code="TD12", category="deposit"), ProductFactory(code="CARD1", category="card")


def deposit(external_id: str, **overrides: str) -> dict[str, str]:
    row = {
        "external_id": external_id,
        "category": "term_deposit",
        "product_code": "TD12",
        "parties": "CUST-A:owner|CUST-B:joint",
        "number": "GB29NWBK60161331926819",
        "currency": "GBP",
        "balance": "25000.00",
        "rate": "4.1000",
        "opened_on": "2025-06-01",
        "maturity_date": "2026-06-01",
        "maturity_instruction": "renew",
        "status": "active",
    }
    row.update(overrides)
    return row


def test_holdings_resolve_their_product_and_joint_customers(tmp_path, people, products):
    card = {
        "external_id": "H-CARD",
        "category": "Credit card",
        "product_code": "card1",
        "parties": "CUST-B",
        "number": "4929 0000 0000 6781",
        "currency": "gbp",
        "balance": "-420.55",
        "credit_limit": "5000",
        "opened_on": "2025-02-10",
    }
    path = write_csv(tmp_path / "holdings.csv", [deposit("H-TD"), card], header=HEADER)

    result = run_command("import_holdings", path)

    assert result.returncode == 0, result.stdout + result.stderr
    deposit_row = Holding.objects.get(external_id="H-TD")
    assert deposit_row.product == products[0]
    assert (deposit_row.number, deposit_row.number_hint) == ("GB29NWBK60161331926819", "••••6819")
    assert deposit_row.balance == Decimal("25000.00") and deposit_row.maturity_instruction == "renew"
    parties = dict(HoldingParty.objects.filter(holding=deposit_row).values_list("customer__external_id", "role"))
    assert parties == {"CUST-A": "owner", "CUST-B": "joint"}
    card_row = Holding.objects.get(external_id="H-CARD")
    assert (card_row.category, card_row.currency, card_row.number, card_row.number_hint) == (
        "credit_card",
        "GBP",
        "",
        "••••6781",
    )  # a card number is never stored, only its last four digits
    events = AuditEvent.objects.filter(action="holding.imported", object_id=str(deposit_row.pk))
    assert sorted(events.values_list("customer_id", flat=True)) == sorted(p.pk for p in people)


def test_bad_holdings_are_reported_with_their_row_and_column(tmp_path, people, products):
    rows = [
        deposit("H-1"),  # 2 good
        deposit("H-2", maturity_date="2025-01-01"),  # 3 maturity before opening
        deposit("H-3", product_code="NOPE"),  # 4 unknown product
        deposit("H-4", parties="CUST-A|CUST-Z:joint"),  # 5 unknown customer
        deposit("H-5", maturity_instruction=""),  # 6 a deposit without an instruction
        deposit("H-6", currency="ZZZ"),  # 7 unknown currency
        deposit("H-7", parties="CUST-A:owner|CUST-A:joint"),  # 8 the same customer twice
        deposit("H-8", category="savings_account", balance="-5"),  # 9 negative savings balance
        deposit("H-9", opened_on="01/06/2025"),  # 10 bad date
    ]
    path = write_csv(tmp_path / "holdings.csv", rows, header=HEADER)

    result = run_command("import_holdings", path)

    assert result.returncode == 1
    assert list(Holding.objects.values_list("external_id", flat=True)) == ["H-1"]
    report = read_report(tmp_path / "holdings.errors.csv")
    assert {(int(r["row"]), r["column"]) for r in report} == {
        (3, "maturity_date"),
        (4, "product_code"),
        (5, "parties"),
        (6, "maturity_instruction"),
        (7, "currency"),
        (8, "parties"),
        (9, "balance"),
        (10, "opened_on"),
    }
    by_row = {int(r["row"]): r for r in report}
    assert by_row[3]["message"] == "The maturity date cannot be before the opening date."
    assert by_row[5]["message"] == "No customer with the external id CUST-Z."


def test_a_second_run_is_unchanged_and_party_changes_are_applied(tmp_path, people, products):
    path = write_csv(tmp_path / "holdings.csv", [deposit("H-1")], header=HEADER)
    run_command("import_holdings", path)
    events = AuditEvent.objects.count()

    again = run_command("import_holdings", path)

    assert again.returncode == 0 and "Nothing changed" in again.stdout
    assert AuditEvent.objects.count() == events + 1  # the run's own event only

    write_csv(path, [deposit("H-1", parties="CUST-B:owner", balance="26000.00")], header=HEADER)
    changed = run_command("import_holdings", path)

    assert changed.returncode == 0 and "updated 1" in changed.stdout
    holding = Holding.objects.get(external_id="H-1")
    assert holding.balance == Decimal("26000.00")
    assert dict(HoldingParty.objects.filter(holding=holding).values_list("customer__external_id", "role")) == {
        "CUST-B": "owner"
    }


def test_the_fixed_facts_of_a_holding_cannot_be_changed_by_an_import(tmp_path, people, products):
    path = write_csv(tmp_path / "holdings.csv", [deposit("H-1")], header=HEADER)
    run_command("import_holdings", path)
    write_csv(path, [deposit("H-1", opened_on="2025-05-01", number="GB00OTHER")], header=HEADER)

    result = run_command("import_holdings", path)

    assert result.returncode == 1
    columns = {r["column"] for r in read_report(tmp_path / "holdings.errors.csv")}
    assert columns == {"opened_on", "number"}
    assert Holding.objects.get(external_id="H-1").number == "GB29NWBK60161331926819"
