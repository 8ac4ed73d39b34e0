"""Item 18 of issue #15: the customer list shows its total, sorts by column and remembers filters."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.workspace.customer_list import PAGE_SIZE
from apps.workspace.customer_views import remembered_filters
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


@pytest.mark.parametrize("with_redis", [True, False], ids=["beside the session", "in the session"])
def test_the_list_remembers_the_filters_until_reset(client, manager, settings, with_redis):
    if not with_redis:  # the bare machine's database cache: the session keeps them (decision 133)
        settings.REDIS_URL = ""
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


def test_a_search_for_personal_data_is_not_kept(client, manager):
    CustomerFactory(assigned_to=manager, email="who@mail.example", segment="premium")
    client.force_login(manager)

    response = client.get(LIST, {"q": "who@mail.example", "segment": "premium"})

    assert remembered_filters(response.wsgi_request) == {"segment": "premium"}
    assert "who@mail.example" not in repr(dict(client.session.items()))


def test_a_new_search_or_a_return_to_the_list_does_not_write_the_session(client, manager, redis_url):
    """With Redis the filters are kept beside the session (decision 133); without it, in it."""
    CustomerFactory(assigned_to=manager, first_name="Nadia", last_name="Search")
    client.force_login(manager)
    client.get(LIST, {"q": "nadia"})  # the session's first save is behind us

    with CaptureQueriesContext(connection) as queries:
        client.get(LIST, {"q": "search"})
        client.get(LIST, {"segment": "mass"})
        back = client.get(LIST)

    assert not [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]
    assert back.context["filters_restored"] is True
    assert back.context["form"].data == {"segment": "mass"}


def test_remembered_filters_belong_to_one_session(client, manager, other_manager):
    CustomerFactory(assigned_to=manager, segment="premium")
    client.force_login(manager)
    client.get(LIST, {"segment": "premium"})
    same_user_elsewhere, someone_else = Client(), Client()
    same_user_elsewhere.force_login(manager)
    someone_else.force_login(other_manager)

    for other in (same_user_elsewhere, someone_else):
        response = other.get(LIST)
        assert response.context["filters_restored"] is False
        assert "Your last search and filters." not in response.content.decode()
    assert client.get(LIST).context["filters_restored"] is True


def test_signing_out_forgets_the_filters(client, manager):
    CustomerFactory(assigned_to=manager, segment="premium")
    client.force_login(manager)
    client.get(LIST, {"segment": "premium"})

    client.post(reverse("logout"))
    client.force_login(manager)

    assert client.get(LIST).context["filters_restored"] is False
