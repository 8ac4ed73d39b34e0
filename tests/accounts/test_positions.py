"""The money sign convention (docs/decisions.md) and the one function that adds held, owed and net."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, connection, transaction

from apps.accounts.models import Holding, HoldingParty
from apps.accounts.positions import CurrencyPosition, position_of, positions_by_customer
from apps.core.errors import DomainError
from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory
from tests.imports.support import read_report, run_command, write_csv
from tests.query_plans import estimated_costs, statements_sent

D = Decimal
OWNER, JOINT = HoldingParty.Role.OWNER, HoldingParty.Role.JOINT
BENEFICIARY, ATTORNEY = HoldingParty.Role.BENEFICIARY, HoldingParty.Role.POWER_OF_ATTORNEY


def gbp(held: str, owed: str) -> CurrencyPosition:
    return CurrencyPosition(currency="GBP", held=D(held), owed=D(owed))


@pytest.mark.django_db
@pytest.mark.parametrize("category", [Holding.Category.LOAN, Holding.Category.CREDIT_CARD])
def test_the_database_refuses_a_loan_or_card_stored_as_a_positive_amount(category):
    holding = HoldingFactory(category=category, balance=D("-100.00"))

    with pytest.raises(IntegrityError, match="holding_balance_sign"), transaction.atomic():
        Holding.objects.filter(pk=holding.pk).update(balance=D("100.00"))


@pytest.mark.django_db
def test_the_database_still_refuses_a_negative_deposit_and_allows_an_overdrawn_current_account():
    deposit = HoldingFactory(category=Holding.Category.SAVINGS_ACCOUNT)
    account = HoldingFactory(category=Holding.Category.CURRENT_ACCOUNT)

    Holding.objects.filter(pk=account.pk).update(balance=D("-20.00"))
    with pytest.raises(IntegrityError, match="holding_balance_sign"), transaction.atomic():
        Holding.objects.filter(pk=deposit.pk).update(balance=D("-1.00"))


@pytest.mark.django_db
def test_opening_a_loan_with_a_positive_balance_is_refused_with_a_readable_message():
    with pytest.raises(DomainError, match="negative amount") as error:
        HoldingFactory(category=Holding.Category.LOAN, balance=D("9000.00"))

    assert error.value.field == "balance"
    assert not Holding.objects.exists()


@pytest.mark.django_db
def test_an_import_row_with_a_positive_card_balance_is_reported(tmp_path, branch):
    from tests.products.factories import ProductFactory

    CustomerFactory(external_id="CUST-A", branch=branch)
    ProductFactory(code="CARD1", category="card")
    header = ["external_id", "category", "product_code", "parties", "currency", "balance", "opened_on"]
    row = {"category": "credit_card", "product_code": "CARD1", "parties": "CUST-A", "currency": "GBP"}
    path = write_csv(
        tmp_path / "holdings.csv",
        [
            {**row, "external_id": "H-OWES", "balance": "-420.55", "opened_on": "2025-02-10"},
            {**row, "external_id": "H-WRONG", "balance": "420.55", "opened_on": "2025-02-10"},
        ],
        header=header,
    )

    result = run_command("import_holdings", path)

    assert result.returncode == 1
    assert list(Holding.objects.values_list("external_id", "balance")) == [("H-OWES", D("-420.55"))]
    assert [(r["row"], r["column"]) for r in read_report(tmp_path / "holdings.errors.csv")] == [("3", "balance")]


@pytest.mark.django_db
def test_held_owed_and_net_follow_the_sign_and_an_overdraft_is_owed():
    customer = CustomerFactory()
    HoldingFactory(customer=customer, category=Holding.Category.TERM_DEPOSIT, balance=D("40000.00"))
    HoldingFactory(customer=customer, category=Holding.Category.CURRENT_ACCOUNT, balance=D("-250.25"))
    HoldingFactory(customer=customer, category=Holding.Category.LOAN, balance=D("-12000.00"))
    HoldingFactory(customer=customer, category=Holding.Category.CREDIT_CARD, balance=D("-604.50"))
    HoldingFactory(customer=customer, category=Holding.Category.INVESTMENT, balance=D("500.00"), currency="EUR")

    positions = position_of([customer.pk])

    assert positions == [
        CurrencyPosition(currency="EUR", held=D("500.00"), owed=D("0")),
        gbp("40000.00", "12854.75"),
    ]
    assert positions[1].net == D("27145.25")


@pytest.mark.django_db
def test_beneficiary_and_power_of_attorney_holdings_count_for_nobody_but_their_owner():
    owner, heir, attorney = CustomerFactory(), CustomerFactory(), CustomerFactory()
    HoldingFactory(
        parties={owner: OWNER, heir: BENEFICIARY, attorney: ATTORNEY},
        category=Holding.Category.SAVINGS_ACCOUNT,
        balance=D("9999.00"),
    )

    assert position_of([owner.pk]) == [gbp("9999.00", "0")]
    assert position_of([heir.pk]) == []
    assert position_of([attorney.pk]) == []


@pytest.mark.django_db
def test_a_joint_holding_counts_in_full_for_each_holder_and_once_for_both():
    first, second = CustomerFactory(), CustomerFactory()
    HoldingFactory(parties={first: OWNER, second: JOINT}, category=Holding.Category.LOAN, balance=D("-1000.00"))
    HoldingFactory(customer=second, balance=D("300.00"))

    assert position_of([first.pk]) == [gbp("0", "1000.00")]
    assert position_of([first.pk, second.pk]) == [gbp("300.00", "1000.00")]
    assert positions_by_customer([first.pk, second.pk]) == {
        first.pk: [gbp("0", "1000.00")],
        second.pk: [gbp("300.00", "1000.00")],
    }


@pytest.mark.django_db
def test_closed_and_matured_holdings_are_not_in_the_position():
    customer = CustomerFactory()
    HoldingFactory(customer=customer, balance=D("10.00"), status=Holding.Status.CLOSED)
    HoldingFactory(customer=customer, category=Holding.Category.TERM_DEPOSIT, status=Holding.Status.MATURED)

    assert position_of([customer.pk]) == []


@pytest.mark.django_db
def test_the_data_migration_turns_loans_stored_as_positive_amounts_negative():
    migration = importlib.import_module("apps.accounts.migrations.0002_liability_balances_owed_negative")
    with connection.cursor() as cursor:  # the table as it was before 0003 (rolled back with the test)
        cursor.execute(f"ALTER TABLE {Holding._meta.db_table} DROP CONSTRAINT holding_balance_sign")
    loan = HoldingFactory(category=Holding.Category.LOAN, balance=D("-10.00"))
    card = HoldingFactory(category=Holding.Category.CREDIT_CARD, balance=D("-5.00"))
    account = HoldingFactory(category=Holding.Category.CURRENT_ACCOUNT, balance=D("20.00"))
    Holding.objects.filter(pk=loan.pk).update(balance=D("1200.00"))

    migration.owed_is_negative(django_apps, None)

    balances = dict(Holding.objects.values_list("pk", "balance"))
    assert balances == {loan.pk: D("-1200.00"), card.pk: D("-5.00"), account.pk: D("20.00")}


@pytest.mark.django_db
def test_a_position_from_loaded_holdings_is_the_position_the_database_sums():
    """position_of_loaded (the 360 page's holdings, no query) agrees with position_of (SQL)."""
    from apps.accounts.positions import position_of_loaded

    customer, spouse = CustomerFactory(), CustomerFactory()
    holdings = [
        HoldingFactory(customer=customer, category=Holding.Category.CURRENT_ACCOUNT, balance=D("-120.50")),
        HoldingFactory(parties={customer: OWNER, spouse: JOINT}, category=Holding.Category.SAVINGS_ACCOUNT),
        HoldingFactory(customer=customer, category=Holding.Category.LOAN, currency="EUR", balance=D("-9000.00")),
        HoldingFactory(customer=customer, category=Holding.Category.INVESTMENT, currency="USD", balance=D("0.00")),
        HoldingFactory(customer=customer, category=Holding.Category.SAVINGS_ACCOUNT, balance=D("55.00")),
    ]
    Holding.objects.filter(pk=holdings[-1].pk).update(status=Holding.Status.MATURED)
    loaded = list(Holding.objects.filter(pk__in=[h.pk for h in holdings]))
    expected = position_of([customer.pk])

    assert position_of_loaded([*loaded, loaded[0]]) == expected  # a holding listed twice counts once
    assert [p.currency for p in expected] == ["EUR", "GBP", "USD"]
    assert gbp("1500.00", "120.50") in expected  # the matured one counts nowhere


@pytest.mark.django_db
def test_the_compiled_position_statement_is_one_text_and_sums_as_the_orm_does():
    """position_of runs the ORM's own compilation of its rules, made once (decision 120): the
    same text for one customer or a household, the same figures as the ORM queryset gives."""
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.positions import _position, _positions_query, counted_holdings

    first, second, third = CustomerFactory(), CustomerFactory(), CustomerFactory()
    HoldingFactory(parties={first: OWNER, second: JOINT}, category=Holding.Category.LOAN, balance=D("-1000.00"))
    HoldingFactory(customer=second, balance=D("300.00"))
    HoldingFactory(customer=third, currency="EUR", balance=D("42.10"))
    HoldingFactory(parties={third: "beneficiary", first: OWNER}, balance=D("7.00"))
    texts = set()
    for ids in ([first.pk], [first.pk, second.pk], [first.pk, second.pk, third.pk], [third.pk], [third.pk + 1000]):
        with CaptureQueriesContext(connection) as captured:
            figures = position_of(ids)
        assert len(captured.captured_queries) == 1
        texts.add(captured.captured_queries[0]["sql"].split("unnest(")[0])
        assert figures == [_position(*row) for row in sorted(_positions_query(counted_holdings(ids)))]
    assert len(texts) == 1
    assert position_of([first.pk, second.pk, third.pk]) == [
        CurrencyPosition(currency="EUR", held=D("42.10"), owed=D("0.00")),
        gbp("307.00", "1000.00"),
    ]
    assert position_of([]) == []


def test_the_position_statement_is_estimated_alike_with_or_without_its_ids(db):
    """Decision 197: position_of's ids are read through a scalar subquery, so a plan made with them
    is estimated as the generic plan is, and PostgreSQL's plan cache keeps the generic plan (with
    `unnest($ids)` alone a household's position was planned anew at every run)."""
    first, second = CustomerFactory(), CustomerFactory()
    HoldingFactory(customer=first, parties={first: "owner", second: "joint"}, balance=Decimal("10.00"))
    with statements_sent() as statements:
        assert position_of([first.pk, second.pk])

    (statement,) = statements
    generic, custom = estimated_costs(*statement)
    assert generic == custom
