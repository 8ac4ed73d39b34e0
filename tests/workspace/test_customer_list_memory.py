"""Item 18 of issue #15: the customer list shows its total, sorts by column and remembers filters."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.workspace.customer_list import PAGE_SIZE
from tests.customers.factories import CustomerFactory
from tests.workspace.support import (
    pinned_today,  # noqa: F401  (fixture)
    plain_static_files,  # noqa: F401  (fixture)
    role_permissions,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("plain_static_files", "pinned_today", "role_permissions")
LIST = reverse("customers:list")


def test_the_list_shows_the_total_of_every_page(client, manager):
    for _ in range(PAGE_SIZE + 3):
        CustomerFactory(assigned_to=manager)
    client.force_login(manager)

    response = client.get(LIST)

    assert response.context["page"].total == PAGE_SIZE + 3
    assert f"{PAGE_SIZE + 3} customers</strong>, {PAGE_SIZE} on this page" in response.content.decode()


def test_column_headers_sort_the_list_keeping_the_filters(client, manager):
    CustomerFactory(assigned_to=manager, segment="premium")
    client.force_login(manager)

    html = client.get(LIST, {"segment": "premium"}).content.decode()

    assert 'href="?segment=premium&amp;sort=kyc"' in html
    assert 'href="?segment=premium&amp;sort=name"' in html


def test_the_list_remembers_the_filters_until_reset(client, manager):
    CustomerFactory(assigned_to=manager, segment="premium", first_name="Premium", last_name="Person")
    CustomerFactory(assigned_to=manager, segment="mass", first_name="Mass", last_name="Market")
    client.force_login(manager)

    client.get(LIST, {"segment": "premium"})
    back = client.get(LIST)
    reset = client.get(LIST, {"reset": "1"})
    after_reset = client.get(LIST)

    assert [c.display_name for c in back.context["page"].customers] == ["Premium Person"]
    assert back.context["filters_restored"] is True
    assert "Your last search and filters." in back.content.decode()
    assert len(reset.context["page"].customers) == 2
    assert len(after_reset.context["page"].customers) == 2


def test_a_search_for_personal_data_is_not_kept_in_the_session(client, manager):
    CustomerFactory(assigned_to=manager, email="who@mail.example", segment="premium")
    client.force_login(manager)

    client.get(LIST, {"q": "who@mail.example", "segment": "premium"})

    assert client.session["customer_list_filters"] == {"segment": "premium"}
