"""The search box finds a customer the way a manager types: one word of a business name, a phone
number in any form, an external id in any case or without its prefix. Three characters are
still the minimum for a name, and the closest names still come first."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.customers.models import Customer, external_id_tail_of
from tests.customers.factories import CustomerFactory, break_glass_grant
from tests.workspace.support import (
    pinned_today,  # noqa: F401  (fixture)
    plain_static_files,  # noqa: F401  (fixture)
    role_permissions,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("plain_static_files", "pinned_today", "role_permissions")
LIST = reverse("customers:list")


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return [c.display_name for c in response.context["page"].customers]


def business(manager, name: str, **fields) -> Customer:  # type: ignore[no-untyped-def]
    return CustomerFactory(
        assigned_to=manager, kind="business", company_name=name, first_name="", last_name="", **fields
    )


def test_one_word_of_a_multi_word_name_finds_the_customer(client, manager):
    business(manager, "Lowther Brewing Company Ltd")
    business(manager, "Lowther Engineering Ltd")
    client.force_login(manager)

    assert names(client.get(LIST, {"q": "Brewing"})) == ["Lowther Brewing Company Ltd"]
    assert names(client.get(LIST, {"q": "brewing"})) == ["Lowther Brewing Company Ltd"]


def test_a_word_search_ranks_the_closest_name_first(client, manager):
    business(manager, "Brewing Supplies Northern Region Trading Ltd")
    business(manager, "Ale Brewing")
    business(manager, "Brewin Dolphin")
    client.force_login(manager)

    found = names(client.get(LIST, {"q": "Brewing"}))

    assert found[:2] == ["Ale Brewing", "Brewing Supplies Northern Region Trading Ltd"]


def test_two_characters_are_still_refused(client, manager):
    business(manager, "Lowther Brewing Company Ltd")
    client.force_login(manager)

    response = client.get(LIST, {"q": "Br"})

    assert response.context["page"] is None
    assert "Type at least 3 characters" in response.content.decode()


@pytest.mark.parametrize("typed", ["07700 900059", "+44 7700 900059", "447700900059", "0044 7700 900059"])
def test_a_phone_number_in_any_form_finds_the_customer(client, manager, typed):
    wanted = CustomerFactory(assigned_to=manager, phone="+44 7700 900059")
    CustomerFactory(assigned_to=manager, phone="+44 7700 900060")
    client.force_login(manager)

    assert names(client.get(LIST, {"q": typed})) == [wanted.display_name]


@pytest.mark.parametrize("typed", ["cb00012345", "CB00012345", "cb0001234", "12345", "00012345"])
def test_an_external_id_matches_in_any_case_and_by_its_number_alone(client, manager, typed):
    wanted = CustomerFactory(assigned_to=manager, external_id="CB00012345")
    CustomerFactory(assigned_to=manager, external_id="CB00123456")
    CustomerFactory(assigned_to=manager, external_id="CB00112345")
    client.force_login(manager)

    assert names(client.get(LIST, {"q": typed})) == [wanted.display_name]


def test_the_number_of_an_external_id_is_its_digits_without_leading_zeros():
    assert external_id_tail_of("00012345") == "12345"
    assert external_id_tail_of(" 12345 ") == "12345"
    assert external_id_tail_of("CB12345") is None
    assert external_id_tail_of("000") is None


def test_an_external_id_search_uses_the_tail_expression_the_index_is_built_on(client, manager):
    client.force_login(manager)

    with CaptureQueriesContext(connection) as queries:
        client.get(LIST, {"q": "12345"})

    sql = "\n".join(q["sql"] for q in queries.captured_queries)
    assert "ltrim(substring(" in sql and "UPPER(" in sql


def test_a_managers_compiled_name_search_reads_what_the_orm_reads(manager, other_manager, branch_manager):
    """Decision 178: a manager's name search is one statement compiled once per process, the term put
    at each of its four places and its LIKE pattern made as Django makes it; for terms with LIKE's
    own characters, a break-glass grant in force and lapsed, a restricted customer and another
    book, it finds exactly what the ORM finds, in the same order, with the same values."""
    import datetime as dt

    from django.utils import timezone

    from apps.workspace.customer_list import (
        PAGE_FIELDS,
        CustomerQuery,
        _best_matches,
        _customer_rows,
        _is_plain_name_search,
        _plain_name_search,
        filtered_customers,
    )

    now = timezone.now()
    for name in ("Lowther Brewing Company Ltd", "Lowther 100% Ltd", "Low_ther Ltd", "Lowe O'Brien"):
        business(manager, name)
    business(manager, "Lowther Zed Ltd", external_id="LOWTHER-Z")
    restricted = business(manager, "Lowther Restricted Ltd")
    Customer.objects.filter(pk=restricted.pk).update(restricted_at=now)
    for name, ends in (("Lowther Granted Ltd", now + dt.timedelta(hours=1)), ("Lowther Lapsed Ltd", now)):
        break_glass_grant(manager, business(other_manager, name), approved_by=other_manager, ends=ends)
    business(other_manager, "Lowther Theirs Ltd")

    for user in (manager, other_manager):
        for term in ("Lowther", "lowther-z", "her 100%", "Low_", "O'Brien", "Ltd", "zzzqqq", "a\\b"):
            query = CustomerQuery(term=term, sort="relevance")
            assert _is_plain_name_search(user, query)
            shown = [*PAGE_FIELDS, "branch_name", "manager_names"]
            expected = _customer_rows(
                shown, _best_matches(filtered_customers(user=user, query=query), term=term, names=list(PAGE_FIELDS))
            )
            assert _plain_name_search(user=user, term=term).customers == expected
    found = {row.display_name for row in _plain_name_search(user=manager, term="Lowther").customers}
    assert "Lowther Granted Ltd" in found and "Lowther Zed Ltd" in found
    assert not found & {"Lowther Lapsed Ltd", "Lowther Restricted Ltd", "Lowther Theirs Ltd"}
    assert not _is_plain_name_search(branch_manager, CustomerQuery(term="Lowther", sort="relevance"))
    assert not _is_plain_name_search(manager, CustomerQuery(term="Lowther", sort="relevance", segment="mass"))
