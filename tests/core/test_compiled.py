"""A queryset compiled once (apps/core/compiled.py) reads what the ORM reads, with each call's values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, F, Q
from django.db.models.expressions import RawSQL
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import Holding, HoldingParty
from apps.core.compiled import CompiledQuery, correlate
from apps.customers.models import Customer
from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

MARK = -424242


def parties_of(customer_id: int):  # type: ignore[no-untyped-def]
    return (
        HoldingParty.objects.filter(customer_id=customer_id)
        .exclude(holding__status=Holding.Status.CLOSED)
        .select_related("holding", "holding__product")
        .defer("holding__number")
        .annotate(doubled=F("holding__balance") * 2)
        .order_by("holding__opened_on", "holding_id")
    )


def seen(parties: list[HoldingParty]) -> list[tuple[object, ...]]:
    return [
        (
            p.pk,
            p.role,
            p.customer_id,
            p.holding.pk,
            p.holding.balance,
            p.holding.currency,
            p.holding.opened_on,
            p.holding.status,
            p.holding.product.name,
            p.doubled,  # type: ignore[attr-defined]
        )
        for p in parties
    ]


def test_each_call_reads_what_the_orm_reads_for_its_own_values_in_one_query():
    query = CompiledQuery(HoldingParty, parties_of, customer_id=MARK)
    first, second, nobody = CustomerFactory(), CustomerFactory(), CustomerFactory()
    for n in range(3):
        HoldingFactory(customer=first, balance=Decimal(n) + Decimal("0.25"), currency=("EUR", "GBP")[n % 2])
    HoldingFactory(customer=first, status=Holding.Status.CLOSED)
    HoldingFactory(customer=second, balance=Decimal("-10.50"), category=Holding.Category.LOAN)

    with CaptureQueriesContext(connection) as captured:
        rows = query.rows(customer_id=first.pk)

    assert len(captured.captured_queries) == 1
    assert len(rows) == 3
    assert seen(rows) == seen(list(parties_of(first.pk)))
    assert seen(query.rows(customer_id=second.pk)) == seen(list(parties_of(second.pk)))
    assert query.rows(customer_id=nobody.pk) == []
    # Instances as the ORM makes them: saved, with their related objects loaded, deferred fields deferred.
    assert not rows[0]._state.adding and rows[0]._state.db == "default"
    with CaptureQueriesContext(connection) as captured:
        assert rows[0].holding.product.name
    assert len(captured.captured_queries) == 0
    assert "number" in rows[0].holding.get_deferred_fields()


def test_a_marker_that_is_not_exactly_one_parameter_is_refused():
    missing = CompiledQuery(Customer, lambda pk: Customer.objects.all(), pk=MARK)
    dated_twice = CompiledQuery(
        Customer,
        lambda day: Customer.objects.filter(kyc_review_date=day).exclude(kyc_review_date=day),
        day=dt.date(1901, 1, 1),
    )

    for query in (missing, dated_twice):  # only a number, an instant or a text may stand at several
        with pytest.raises(RuntimeError, match="not once"):
            query.rows(**dict.fromkeys(query._markers, 1))


def test_a_number_or_instant_at_several_parameters_is_put_at_each_and_reads_what_the_orm_reads():
    """Decision 177: a bound the statement tests twice is one marker, proven by a second compile."""
    from apps.tasks.models import Task
    from tests.tasks.factories import TaskFactory

    when_marker = dt.datetime(1901, 2, 3, 4, 5, 6, tzinfo=dt.UTC)

    def tasks(pk: int, when: dt.datetime):  # type: ignore[no-untyped-def]
        return (
            Task.objects.filter(Q(due_at__lt=when) | Q(reminder_at__lt=when) | Q(customer_id=pk))
            .exclude(assignee_id=pk)
            .annotate(early=Count("pk", filter=Q(due_at__lt=when)))
            .order_by("id")
            .values_list("id", "early")
        )

    query = CompiledQuery(Task, tasks, pk=MARK, when=when_marker)
    now = timezone.now()
    from apps.identity import roles
    from tests.identity.factories import UserFactory

    manager = UserFactory(roles=[roles.RELATIONSHIP_MANAGER])
    made = [
        TaskFactory(customer=CustomerFactory(assigned_to=manager), assignee=manager, due_at=now + dt.timedelta(days=n))
        for n in (-3, -1, 2, 5)
    ]
    for pk in (made[0].customer_id, made[1].assignee_id, 0):
        for when in (now - dt.timedelta(days=2), now, now + dt.timedelta(days=3)):
            _names, rows = query.values(pk=pk, when=when)
            assert [tuple(row) for row in rows] == list(tasks(pk, when))
    assert len(query._compiled("default")[2]["when"]) == 3


def test_a_repeated_marker_is_refused_where_a_parameter_is_derived_from_it_or_spliced():
    derived = CompiledQuery(
        Customer, lambda pk: Customer.objects.filter(pk=pk).exclude(id=pk).exclude(id=pk + 1).values_list("id"), pk=MARK
    )
    with pytest.raises(RuntimeError, match="other than a marker"):
        derived.values(pk=1)
    both = CompiledQuery(Customer, lambda pk: Customer.objects.filter(pk=pk).exclude(id=pk).values_list("id"), pk=MARK)
    assert both.values(pk=1)[1] == []
    with pytest.raises(TypeError, match="lone marker"):
        both.values(pk=RawSQL("%s", (1,)))
    with pytest.raises(TypeError):
        CompiledQuery(Customer, lambda pk: Customer.objects.filter(pk=pk), pk=MARK).rows(id=1)


def test_an_encrypted_column_is_refused():
    query = CompiledQuery(Customer, lambda pk: Customer.objects.filter(pk=pk), pk=MARK)

    with pytest.raises(RuntimeError, match="encrypted"):
        query.rows(pk=CustomerFactory().pk)


def test_correlate_puts_the_outer_column_where_the_marker_was_and_nowhere_else():
    query = Customer.objects.filter(pk=MARK, last_name="50%").values_list("id")
    sql, params = query.query.sql_with_params()

    text, rest = correlate(sql, params, marker=MARK, column="book.id")

    assert list(rest) == [p for p in params if p != MARK]
    assert text.count("%s") == len(rest) and "book.id" in text
    with connection.cursor() as cursor:  # runs as the inside of a LATERAL join
        cursor.execute(f"SELECT x.id FROM (VALUES (1)) book(id) CROSS JOIN LATERAL ({text}) x(id)", rest)
        assert cursor.fetchall() == []


def test_correlate_refuses_a_marker_that_is_not_exactly_one_parameter():
    twice = Customer.objects.filter(pk=MARK).exclude(primary_manager_id=MARK).values_list("id")
    sql, params = twice.query.sql_with_params()
    with pytest.raises(RuntimeError):
        correlate(sql, params, marker=MARK, column="book.id")
    with pytest.raises(RuntimeError):
        correlate("SELECT 1", [], marker=MARK, column="book.id")


def test_a_values_list_reads_its_columns_and_converted_values_as_the_orm_does():
    """CompiledQuery.values (decision 170): a values_list() queryset's rows and column names, through
    the compiler's converters (a JSON object becomes a dict), with each call's values, no instances."""
    from django.db.models.functions import JSONObject

    def holdings_of(customer_id: int):  # type: ignore[no-untyped-def]
        return (
            HoldingParty.objects.filter(customer_id=customer_id)
            .annotate(doubled=F("holding__balance") * 2, about=JSONObject(currency=F("holding__currency")))
            .order_by("holding_id")
            .values_list("id", "role", "holding__balance", "doubled", "about")
        )

    query = CompiledQuery(HoldingParty, holdings_of, customer_id=MARK)
    first, second = CustomerFactory(), CustomerFactory()
    for n in range(3):
        HoldingFactory(customer=first, balance=Decimal(n) + Decimal("0.25"), currency=("EUR", "GBP")[n % 2])
    HoldingFactory(customer=second, balance=Decimal("-10.50"))

    for customer in (first, second, CustomerFactory()):
        names, rows = query.values(customer_id=customer.pk)
        assert names == ["id", "role", "holding__balance", "doubled", "about"]
        assert [tuple(row) for row in rows] == list(holdings_of(customer.pk))
    assert query.values(customer_id=first.pk)[1][0][4] == {"currency": "EUR"}


def test_a_text_marker_and_a_like_pattern_derived_from_it_read_what_the_orm_reads():
    """Decision 178: a text marker at several parameters, and the LIKE pattern the ORM makes of it,
    declared as derived and proven by the second compile; undeclared, the pattern is refused."""
    from django.db.models import Q

    def like(term: str) -> str:
        return connection.ops.prep_for_like_query(term) + "%"

    def named(term: str):  # type: ignore[no-untyped-def]
        return (
            Customer.objects.filter(Q(last_name__istartswith=term) | Q(first_name=term) | Q(company_name=term))
            .order_by("id")
            .values_list("id", "last_name")
        )

    for last in ("Ab%c", "Ab_c", "Abxc", "Smith", "a\\b"):
        CustomerFactory(last_name=last, first_name="Ab%")
    query = CompiledQuery(Customer, named, term="zzmarker").deriving(like=("term", like))
    for term in ("Ab%", "Ab_", "Abx", "ab", "Smith", "a\\", "%", "_"):
        assert [tuple(row) for row in query.values(term=term)[1]] == list(named(term))
    with pytest.raises(RuntimeError, match="other than a marker"):
        CompiledQuery(Customer, named, term="zzmarker").values(term="Ab%")
