"""A related customer outside the viewer's book is never named: apps/customers/book.py."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from apps.customers.book import OUTSIDE_BOOK, Book, BookMiddleware, current_book
from apps.customers.models import Customer, CustomerRelationship
from apps.customers.services import assign_customer, link_customers
from apps.leads.models import Lead
from tests.customers.factories import CustomerFactory, break_glass_grant
from tests.leads.factories import lead_in_state
from tests.query_plans import estimated_costs, generic_plan, rows_read, statements_sent


def test_the_book_names_the_viewers_customers_and_nobody_elses(manager, other_manager):
    mine = CustomerFactory(assigned_to=manager, last_name="Mine")
    theirs = CustomerFactory(assigned_to=other_manager, last_name="Theirs", external_id="THEIRS-1")
    book = Book(user=manager)

    assert book.name(mine) == mine.display_name
    assert book.name(theirs) == OUTSIDE_BOOK
    assert book.customer_id(theirs.pk) is None
    assert book.customer_id(mine.pk) == mine.pk


def test_the_book_asks_the_selector_once_for_the_ids_a_page_names(manager, other_manager, django_assert_num_queries):
    ids = [CustomerFactory(assigned_to=manager).pk for _ in range(3)]
    ids += [CustomerFactory(assigned_to=other_manager).pk for _ in range(3)]
    book = Book(user=manager)
    book.user.role_names  # noqa: B018  (the roles are the user's, loaded once per request anyway)
    ContentType.objects.get_for_model(Customer)  # looked up once per process (visibility's compiled held ids)

    with django_assert_num_queries(1):
        assert book.sees_ids(ids) == set(ids[:3])
        assert [book.sees(pk) for pk in ids] == [True] * 3 + [False] * 3


def test_str_of_a_customer_outside_the_book_names_nobody_during_a_request(manager, other_manager):
    theirs = CustomerFactory(assigned_to=other_manager, last_name="Hiddenname", external_id="HIDDEN-1")
    request = RequestFactory().get("/")
    request.user = manager

    response = BookMiddleware(lambda r: HttpResponse(str(theirs)))(request)

    assert response.content.decode() == OUTSIDE_BOOK
    assert current_book() is None  # reset after the request: jobs and shells name in full
    assert "Hiddenname" in str(theirs)


def test_a_relationship_inline_names_a_relative_outside_the_book_as_such(manager, other_manager):
    mine = CustomerFactory(assigned_to=manager)
    theirs = CustomerFactory(assigned_to=other_manager, last_name="Hiddenname", external_id="HIDDEN-2")
    link = link_customers(actor=None, from_customer=mine, to_customer=theirs, kind="spouse")
    inline = admin.site._registry[type(mine)].inlines
    relationship_inline = next(i for i in inline if i.model is CustomerRelationship)(type(mine), admin.site)
    request = RequestFactory().get("/")
    request.user = manager

    label = BookMiddleware(lambda r: HttpResponse(relationship_inline.related_customer(link)))(request)

    assert label.content.decode() == OUTSIDE_BOOK


def _lead_converted_then_moved(manager, other_manager) -> Lead:  # type: ignore[no-untyped-def]
    lead = lead_in_state(Lead.State.CONVERTED, branch=manager.branch, assignee=manager, actor=manager)
    customer = lead.customer
    customer.last_name = "Movedaway"
    assign_customer(actor=None, customer=customer, manager=other_manager, reason="Moved to another book")
    return lead


def test_a_lead_whose_customer_moved_to_another_book_does_not_name_them(client, manager, other_manager):
    lead = _lead_converted_then_moved(manager, other_manager)
    client.force_login(manager)

    page = client.get(reverse("leads:detail", args=[lead.pk]))

    assert page.status_code == 200
    assert OUTSIDE_BOOK in page.text
    assert lead.customer.display_name not in page.text
    assert lead.customer.get_absolute_url() not in page.text


def test_the_lead_api_gives_no_id_for_a_customer_outside_the_book(manager, other_manager):
    lead = _lead_converted_then_moved(manager, other_manager)
    api = APIClient()
    api.force_authenticate(manager)

    body = api.get(f"/api/v1/leads/{lead.pk}/").json()

    assert body["id"] == lead.pk
    assert body["customer"] is None


def test_a_managers_customers_among_ids_are_read_by_a_compiled_statement_as_the_rule_says(
    manager, other_manager, branch_manager
):
    """Decision 167: a manager's relatives are read by a statement compiled once, the rule's held
    ids spliced in; it must find exactly what visible_customers finds, loaded the same way."""
    import datetime as dt

    from django.utils import timezone

    from apps.customers.book import _among, _among_query
    from apps.customers.models import Customer
    from apps.customers.visibility import visible_customers

    mine, restricted = CustomerFactory(assigned_to=manager), CustomerFactory(assigned_to=manager)
    Customer.objects.filter(pk=restricted.pk).update(restricted_at=timezone.now())
    granted, lapsed, theirs = (CustomerFactory(assigned_to=other_manager) for _ in range(3))
    now = timezone.now()
    for customer, ends in ((granted, now + dt.timedelta(hours=1)), (lapsed, now - dt.timedelta(seconds=1))):
        break_glass_grant(manager, customer, approved_by=other_manager, ends=ends)
    ids = [mine.pk, restricted.pk, granted.pk, lapsed.pk, theirs.pk, 10**12]
    fields, order = ("id", "display_name", "segment"), ("display_name", "id")

    for user in (manager, other_manager, branch_manager):
        book = Book(user=user)
        found = book.customers_among(ids, fields=fields, order_by=order)
        expected = list(visible_customers(user=user).filter(pk__in=ids).only(*fields).order_by(*order))
        assert [vars(c) | {"_state": None} for c in found] == [vars(c) | {"_state": None} for c in expected]
        assert [c.get_deferred_fields() for c in found] == [c.get_deferred_fields() for c in expected]
        # And it settled, for the page's other names, which of the ids are outside the book.
        assert book.sees_ids(ids) == {c.pk for c in expected}
    assert [c.pk for c in Book(user=manager).customers_among(ids, fields=fields, order_by=order)] == sorted(
        [mine.pk, granted.pk], key=lambda pk: (Customer.objects.get(pk=pk).display_name, pk)
    )
    assert (fields, order) in _among  # the managers' reads went through the compiled statement
    assert _among_query(fields, order) is _among_query(fields, order)


def test_the_relatives_statement_is_estimated_alike_with_or_without_its_ids(manager, other_manager):
    """Decision 197: the ids' array is read through a scalar subquery, so a plan made with the
    values cannot count the ids either and is estimated as the generic plan is; PostgreSQL's plan
    cache then keeps the generic plan (with `= ANY($ids)` alone the 360 page planned this
    statement anew at every run: the plans made with two ids were estimated cheaper)."""
    for _ in range(40):
        CustomerFactory(assigned_to=manager)
    relatives = [CustomerFactory(assigned_to=manager).pk, CustomerFactory(assigned_to=other_manager).pk]
    with statements_sent() as statements:
        Book(user=manager).customers_among(relatives, fields=("id", "display_name"), order_by=("id",))

    (statement,) = (s for s in statements if s[0].startswith('SELECT "customers_customer"'))
    generic, custom = estimated_costs(*statement)
    assert generic == custom


def test_a_managers_relatives_are_read_by_their_ids_not_through_the_whole_book(manager, other_manager):
    """Decision 191: under the generic plan PostgreSQL keeps for the prepared statement (it expects
    a manager's book to be a handful of customers, on purpose: apps/customers/visibility.py) the
    relatives are found by their ids, not by reading every customer of the book and keeping two."""
    for _ in range(40):
        CustomerFactory(assigned_to=manager)
    relatives = [CustomerFactory(assigned_to=manager).pk, CustomerFactory(assigned_to=other_manager).pk]
    with statements_sent() as statements:
        found = Book(user=manager).customers_among(relatives, fields=("id", "display_name"), order_by=("id",))
    assert [customer.pk for customer in found] == relatives[:1]

    (statement,) = (s for s in statements if s[0].startswith('SELECT "customers_customer"'))
    assert rows_read(generic_plan(*statement), "customers_customer") <= len(relatives)
