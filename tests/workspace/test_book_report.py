"""The book report's figures: exact sums on known data, the visibility rule, FX never guessed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.accounts.models import Holding, HoldingParty
from apps.core.business_date import business_today
from apps.core.models import FxRate
from apps.identity import roles
from apps.recommendations.services import record_feedback
from apps.tasks.services import cancel_task, complete_task
from apps.workspace.book_report import UNASSIGNED, ReportPeriod, book_report
from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory
from tests.interactions.factories import InteractionFactory
from tests.opportunities.factories import opportunity
from tests.recommendations.factories import advice_for
from tests.tasks.factories import TaskFactory

CADENCE = {"private": 30, "premium": 90, "affluent": 180}


@pytest.fixture
def book(db, settings, manager, other_manager):  # type: ignore[no-untyped-def]
    """A manager's book with known holdings, contacts, tasks and advice; a colleague's and an
    outsider's customers beside it, with amounts that would show if they were counted."""
    settings.FINPULSE_RELATIONSHIP_CADENCE_DAYS = CADENCE
    settings.FINPULSE_REPORTING_CURRENCY = "EUR"
    today = business_today()
    now = timezone.now()
    private = CustomerFactory(assigned_to=manager, segment="private", customer_since=dt.date(2020, 1, 1))
    premium = CustomerFactory(assigned_to=manager, segment="premium", customer_since=dt.date(2020, 1, 1))
    colleague = CustomerFactory(assigned_to=other_manager, segment="private", customer_since=dt.date(2020, 1, 1))
    outsider_manager = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=BranchFactory())
    outsider = CustomerFactory(assigned_to=outsider_manager, segment="private", customer_since=dt.date(2020, 1, 1))

    HoldingFactory(customer=private, category=Holding.Category.SAVINGS_ACCOUNT, balance=Decimal("1000.00"))
    HoldingFactory(customer=private, category=Holding.Category.LOAN, balance=Decimal("-400.00"))
    HoldingFactory(
        customer=premium,
        category=Holding.Category.TERM_DEPOSIT,
        currency="EUR",
        balance=Decimal("2000.00"),
        maturity_date=today + dt.timedelta(days=10),
    )
    # Joint: both owners are in the book; counted once, in full.
    HoldingFactory(
        parties={private: HoldingParty.Role.OWNER, premium: HoldingParty.Role.JOINT},
        category=Holding.Category.INVESTMENT,
        currency="USD",
        balance=Decimal("500.00"),
    )
    # A power of attorney is not the customer's money: never added up.
    HoldingFactory(
        customer=premium, role=HoldingParty.Role.POWER_OF_ATTORNEY, balance=Decimal("777.00"), currency="GBP"
    )
    HoldingFactory(customer=colleague, category=Holding.Category.SAVINGS_ACCOUNT, balance=Decimal("700.00"))
    HoldingFactory(
        customer=outsider,
        category=Holding.Category.TERM_DEPOSIT,
        balance=Decimal("99999.00"),
        maturity_date=today + dt.timedelta(days=3),
    )
    FxRate.objects.create(
        rate_date=today - dt.timedelta(days=1), base_currency="GBP", quote_currency="EUR", rate="1.15"
    )
    # An older GBP rate, and a rate dated after the report: neither is used.
    FxRate.objects.create(rate_date=today - dt.timedelta(days=3), base_currency="GBP", quote_currency="EUR", rate="9")
    FxRate.objects.create(rate_date=today + dt.timedelta(days=1), base_currency="GBP", quote_currency="EUR", rate="8")

    InteractionFactory(customer=private, author=manager, occurred_at=now - dt.timedelta(days=40))
    InteractionFactory(customer=premium, author=manager, occurred_at=now - dt.timedelta(days=10))
    InteractionFactory(customer=outsider, author=outsider_manager, occurred_at=now - dt.timedelta(days=1))

    late = TaskFactory(customer=private, due_at=now - dt.timedelta(days=2))
    complete_task(actor=manager, task=late)
    on_time = TaskFactory(customer=premium, due_at=now + dt.timedelta(minutes=30))
    complete_task(actor=manager, task=on_time)
    TaskFactory(customer=private, due_at=now - dt.timedelta(days=1))  # open, overdue
    cancel_task(actor=manager, task=TaskFactory(customer=private, due_at=now - dt.timedelta(days=1)))
    complete_task(actor=outsider_manager, task=TaskFactory(customer=outsider, due_at=now + dt.timedelta(minutes=5)))

    advice = advice_for(manager)  # a new affluent customer since 2019, never contacted: overdue
    record_feedback(actor=manager, recommendation=advice, product_id=advice.items[0]["product_id"], decision="accepted")
    outsider_advice = advice_for(outsider_manager)
    record_feedback(
        actor=outsider_manager,
        recommendation=outsider_advice,
        product_id=outsider_advice.items[0]["product_id"],
        decision="accepted",
    )
    return today


def _period(today: dt.date) -> ReportPeriod:
    return ReportPeriod(start=today - dt.timedelta(days=30), end=today + dt.timedelta(days=1))


def _positions(report):  # type: ignore[no-untyped-def]
    return {(row.category, row.side, row.money.currency): row.money.amount for row in report.positions}


def test_assets_and_liabilities_by_category_and_currency_count_only_the_book(book, manager):
    report = book_report(user=manager, period=_period(book))

    assert _positions(report) == {
        ("savings_account", "held", "GBP"): Decimal("1000.00"),
        ("loan", "owed", "GBP"): Decimal("400.00"),
        ("term_deposit", "held", "EUR"): Decimal("2000.00"),
        ("investment", "held", "USD"): Decimal("500.00"),
    }


def test_reporting_currency_uses_the_newest_loaded_rate_and_shows_a_missing_one(book, manager):
    report = book_report(user=manager, period=_period(book))

    # GBP 1000 x 1.15 + EUR 2000; the USD investment has no rate: listed, not converted.
    assert report.held.total == Decimal("3150.00")
    assert [(m.currency, m.amount) for m in report.held.missing] == [("USD", Decimal("500.00"))]
    assert report.owed.total == Decimal("460.00") and report.owed.is_complete
    assert report.conversions["GBP"].rate == Decimal("1.15")
    assert report.conversions["GBP"].rate_date == book - dt.timedelta(days=1)
    assert [c.currency for c in report.missing_rates] == ["USD"]


def test_a_rate_older_than_the_allowed_age_is_missing(book, manager, settings):
    settings.FINPULSE_FX_RATE_MAX_AGE_DAYS = 0

    report = book_report(user=manager, period=_period(book))

    assert report.conversions["GBP"].is_missing
    assert report.held.total == Decimal("2000.00")
    assert {m.currency for m in report.held.missing} == {"GBP", "USD"}


def test_no_inverse_rate_is_derived(book, manager):
    # EUR -> GBP is loaded nowhere; GBP -> EUR exists but is not inverted.
    report = book_report(user=manager, currency="GBP", period=_period(book))

    assert report.conversions["EUR"].is_missing
    assert report.held.total == Decimal("1000.00")


def test_maturity_ladder_puts_each_maturity_in_its_week(book, manager):
    report = book_report(user=manager, period=_period(book))

    assert len(report.ladder) == 13
    week = report.ladder[1]  # matures in 10 days: the second week
    assert [(m.currency, m.amount) for m in week.held] == [("EUR", Decimal("2000.00"))]
    assert week.held_total.total == Decimal("2000.00")
    assert week.start == book + dt.timedelta(days=7)
    # The outsider's deposit maturing in 3 days is not in week 0.
    assert sum(w.holdings for w in report.ladder) == 1


def test_contact_cadence_compliance_by_segment(book, manager):
    report = book_report(user=manager, period=_period(book))

    by_segment = {row.segment: (row.customers, row.overdue) for row in report.cadence}
    # private: contacted 40 days ago, cadence 30: overdue. premium: 10 days ago, cadence 90.
    # affluent (the advice customer): never contacted, a customer since 2019: overdue.
    assert by_segment == {"private": (1, 1), "premium": (1, 0), "affluent": (1, 1)}


def test_tasks_done_on_time_in_the_period(book, manager):
    report = book_report(user=manager, period=_period(book))

    tasks = report.tasks
    assert (tasks.due, tasks.on_time, tasks.late, tasks.open_overdue) == (3, 1, 1, 1)


def test_advice_accepted_in_the_period(book, manager):
    report = book_report(user=manager, period=_period(book))

    assert (report.advice.accepted, report.advice.dismissed) == (1, 0)


def test_a_relationship_manager_gets_no_per_manager_rows(book, manager):
    assert book_report(user=manager, period=_period(book)).managers == []


def test_a_branch_manager_sees_each_manager_and_the_branch(book, branch_manager, manager, other_manager):
    report = book_report(user=branch_manager, period=_period(book))

    # The branch: both managers' books, not the outsider's.
    assert _positions(report)[("savings_account", "held", "GBP")] == Decimal("1700.00")
    assert report.held.total == Decimal("1700.00") * Decimal("1.15") + Decimal("2000.00")
    rows = {row.manager_id: row for row in report.managers}
    assert set(rows) == {manager.pk, other_manager.pk}
    assert rows[manager.pk].held.total == Decimal("3150.00")
    assert rows[other_manager.pk].held.total == Decimal("805.00")
    assert rows[manager.pk].maturing.total == Decimal("2000.00")
    assert (rows[manager.pk].customers, rows[manager.pk].overdue) == (3, 2)
    assert (rows[other_manager.pk].customers, rows[other_manager.pk].overdue) == (1, 1)  # never contacted
    assert rows[manager.pk].tasks.on_time == 1 and rows[manager.pk].advice.accepted == 1
    assert UNASSIGNED not in rows


def test_the_report_is_empty_for_a_manager_without_customers(db, branch):
    newcomer = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=branch)

    report = book_report(user=newcomer)

    assert report.positions == [] and report.held.total == 0
    assert all(not week.held and not week.owed for week in report.ladder)
    assert report.tasks.due == 0 and report.advice.decided == 0


def _grow_book(manager, customers: int) -> None:  # type: ignore[no-untyped-def]
    for n in range(customers):
        customer = CustomerFactory(assigned_to=manager, segment="private")
        HoldingFactory(customer=customer, currency=("GBP", "EUR", "USD")[n % 3], balance=Decimal(n + 1))
        InteractionFactory(customer=customer, author=manager)
        TaskFactory(customer=customer)
        opportunity(owner=manager, customer=customer, currency=("GBP", "EUR")[n % 2])


def test_the_report_runs_the_same_queries_whatever_the_book_size(db, branch_manager, manager, other_manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    book_report(user=branch_manager)  # first use fills the per-process caches (content types)
    counts = []
    for customers in (2, 12):
        _grow_book(manager, customers)
        _grow_book(other_manager, customers)
        with CaptureQueriesContext(connection) as queries:
            book_report(user=branch_manager)
        counts.append(len(queries))

    assert counts[0] == counts[1] <= 10, counts


# --- the page and its export ---------------------------------------------------------------


def test_the_report_page_shows_the_figures_and_links_each_bar_to_its_customers(book, client, manager):
    from django.urls import reverse

    client.force_login(manager)
    response = client.get(reverse("workspace:book_report"))

    assert response.status_code == 200
    text = response.content.decode()
    assert "3,150.00" in text  # held in EUR
    assert "No EUR rate loaded for USD" in text
    charts = response.context["charts"]
    assert charts["positions"]["labels"]
    assert all(link.startswith(reverse("customers:list") + "?") for link in charts["positions"]["links"])
    assert "99,999" not in text  # the outsider's deposit


def test_the_report_page_stays_within_15_queries(book, client, branch_manager, django_assert_max_num_queries):
    from django.urls import reverse

    client.force_login(branch_manager)
    client.get(reverse("workspace:book_report"))  # warm the per-process caches
    with django_assert_max_num_queries(15):
        response = client.get(reverse("workspace:book_report"), {"currency": "GBP", "days": 30})
    assert response.status_code == 200


def test_exporting_the_report_is_audited_before_the_file_is_sent(book, client, manager):
    from django.urls import reverse

    from apps.core.models import AuditEvent

    client.force_login(manager)
    response = client.get(reverse("workspace:book_report_export"), {"currency": "EUR"})

    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert "Savings account,held,GBP,1000.00,EUR,1150.00" in body
    assert "99999" not in body
    event = AuditEvent.objects.get(action="report.exported")
    assert event.actor_id == manager.pk and event.metadata["filters"]["currency"] == "EUR"
    assert event.metadata["rows"] == body.count("\n") - 1


def test_a_bad_report_option_falls_back_to_the_defaults(book, client, manager):
    from django.urls import reverse

    client.force_login(manager)
    response = client.get(reverse("workspace:book_report"), {"currency": "XXX", "days": "nine"})

    assert response.status_code == 200
    assert response.context["report"].reporting_currency == "EUR"
    assert response.context["form"].errors


# --- drill-down: the customer list filtered to the customers behind a bar ------------------


def _names(client, url):  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200
    return sorted(customer.pk for customer in response.context["page"].customers)


def test_each_bar_lists_exactly_the_customers_behind_it(book, client, manager):
    from django.urls import reverse

    client.force_login(manager)
    report = client.get(reverse("workspace:book_report")).context
    rows = {(row.category, row.money.currency): link for row, link in report["position_rows"]}
    private = manager.primary_customers.get(segment="private").pk
    premium = manager.primary_customers.get(segment="premium").pk

    assert _names(client, rows[("investment", "USD")]) == sorted([private, premium])  # the joint holding
    assert _names(client, rows[("loan", "GBP")]) == [private]
    week_links = [link for _, link in report["ladder_rows"]]
    assert _names(client, week_links[1]) == [premium]
    assert _names(client, week_links[0]) == []  # the outsider's deposit maturing in 3 days is not listed
    overdue = {row.segment: link for row, link in report["cadence_rows"]}
    assert _names(client, overdue["private"]) == [private]
    assert _names(client, overdue["premium"]) == []


def test_a_drill_down_never_reaches_outside_the_book(book, client, manager, other_manager):
    from django.urls import reverse

    client.force_login(manager)

    listed = _names(client, reverse("customers:list") + f"?manager={other_manager.pk}")

    assert listed == []


def test_the_cadence_rule_names_the_last_contact_subquery_once():
    # The planner costs a correlated subquery per mention: one branch per segment named it eight
    # times, which made the whole-bank cadence count look expensive enough for JIT compilation
    # (seconds at 100,000 customers; docs/operations.md, "Book report plan").
    from apps.customers.models import Customer
    from apps.workspace.customer_list import contact_overdue, with_contact_dates

    counted = with_contact_dates(Customer.objects.all()).filter(contact_overdue(today=dt.date(2026, 3, 2)))

    assert str(counted.values("pk").query).count('FROM "interactions_interaction"') == 1


@pytest.mark.django_db
def test_who_is_overdue_for_contact_by_their_segments_cadence(manager):
    from apps.workspace.customer_list import contact_overdue_ids

    today = business_today()
    long_ago = today - dt.timedelta(days=400)
    never_contacted = CustomerFactory(assigned_to=manager, segment="private", customer_since=long_ago)
    new_customer = CustomerFactory(assigned_to=manager, segment="private", customer_since=today)
    stale = CustomerFactory(assigned_to=manager, segment="private", customer_since=long_ago)
    fresh = CustomerFactory(assigned_to=manager, segment="private", customer_since=long_ago)
    slow_cadence = CustomerFactory(assigned_to=manager, segment="affluent", customer_since=long_ago)
    no_cadence = CustomerFactory(assigned_to=manager, segment="mass", customer_since=long_ago)
    for customer, days in ((stale, 40), (fresh, 10), (slow_cadence, 40), (no_cadence, 300)):
        InteractionFactory(customer=customer, occurred_at=timezone.now() - dt.timedelta(days=days))

    overdue = set(contact_overdue_ids(today=today).values_list("pk", flat=True))

    assert overdue == {never_contacted.pk, stale.pk}
    assert new_customer.pk not in overdue and fresh.pk not in overdue and slow_cadence.pk not in overdue
