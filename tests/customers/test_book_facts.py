"""The list's branch filter offers the branches of the viewer's book, remembered across their
requests (apps.customers.book_facts, decision 150): each service that changes a book shows at
once, one viewer never gets another's, and a break-glass grant's branch lasts only as the grant."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.approvals.services import approve_change
from apps.break_glass.services import request_break_glass
from apps.customers import book_facts
from apps.customers.book_facts import book_branches
from apps.customers.services import assign_customers, transfer_portfolio
from apps.identity import roles
from apps.privacy.services import request_erasure
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory

LIST = reverse("customers:list")


@pytest.fixture(autouse=True)
def _redis_cache(redis_url, settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_USER_FACTS_SECONDS = 60  # kept with the user facts, as in production


def offered(client) -> list[str]:
    """The branch filter's options as the list page renders them (the empty choice left out)."""
    html = client.get(LIST).content.decode()
    select = re.search(r'<select name="branch".*?</select>', html, flags=re.S)
    assert select is not None
    return [label for value, label in re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', select.group(0))]


def branch_queries(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "identity_branch"')]


def test_the_options_are_read_once_and_then_remembered(client, manager):
    CustomerFactory(assigned_to=manager, branch=BranchFactory(name="Leeds", code="LDS"))
    client.force_login(manager)

    with CaptureQueriesContext(connection) as first:
        assert offered(client) == ["Leeds (LDS)"]
    with CaptureQueriesContext(connection) as second:
        assert offered(client) == ["Leeds (LDS)"]

    assert len(branch_queries(first)) == 1
    assert branch_queries(second) == []


def test_a_reassignment_shows_at_once_in_both_books(client, manager, other_manager):
    leeds, york = BranchFactory(name="Leeds", code="LDS"), BranchFactory(name="York", code="YRK")
    CustomerFactory(assigned_to=manager, branch=leeds)
    moving = CustomerFactory(assigned_to=other_manager, branch=york)
    CustomerFactory(assigned_to=other_manager, branch=leeds)
    client.force_login(manager)
    assert offered(client) == ["Leeds (LDS)"]
    client.force_login(other_manager)
    assert offered(client) == ["Leeds (LDS)", "York (YRK)"]

    assign_customers(actor=None, customer_ids=[moving.pk], manager=manager)

    assert offered(client) == ["Leeds (LDS)"]
    client.force_login(manager)
    assert offered(client) == ["Leeds (LDS)", "York (YRK)"]


def test_a_transferred_portfolio_shows_at_once(client, manager, other_manager):
    CustomerFactory(assigned_to=other_manager, branch=BranchFactory(name="York", code="YRK"))
    client.force_login(manager)
    assert offered(client) == []

    transfer_portfolio(actor=None, from_manager=other_manager, to_manager=manager, reason="Leaving")

    assert offered(client) == ["York (YRK)"]


def test_a_new_customer_in_the_branch_shows_at_once_to_its_branch_manager(client, branch_manager):
    client.force_login(branch_manager)
    assert offered(client) == []

    CustomerFactory(branch=branch_manager.branch)

    assert offered(client) == [str(branch_manager.branch)]


def test_a_renamed_or_closed_branch_shows_at_once(client, manager):
    leeds = BranchFactory(name="Leeds", code="LDS")
    CustomerFactory(assigned_to=manager, branch=leeds)
    client.force_login(manager)
    assert offered(client) == ["Leeds (LDS)"]

    leeds.name = "Leeds Central"
    leeds.save()
    assert offered(client) == ["Leeds Central (LDS)"]

    leeds.is_active = False
    leeds.save()
    assert offered(client) == []


def test_a_restricted_customer_leaves_the_options_at_once(client, manager, compliance_officer):
    held = CustomerFactory(assigned_to=manager, branch=BranchFactory(name="York", code="YRK"), status="closed")
    CustomerFactory(assigned_to=manager, branch=BranchFactory(name="Leeds", code="LDS"))
    client.force_login(manager)
    assert offered(client) == ["Leeds (LDS)", "York (YRK)"]

    request_erasure(actor=compliance_officer, customer=held, reference="DSAR-9")

    assert offered(client) == ["Leeds (LDS)"]


def test_a_break_glass_grant_adds_its_branch_for_the_grant_only(client, manager, settings):
    york = BranchFactory(name="York", code="YRK")
    owner = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=york, username="owner.rm")
    boss = UserFactory(roles=[roles.BRANCH_MANAGER], branch=york, username="owner.bm")
    CustomerFactory(assigned_to=owner, branch=york, external_id="BG-0001")
    settings.FINPULSE_BREAK_GLASS_HOURS = 1
    client.force_login(manager)
    assert offered(client) == []

    approve_change(
        checker=boss, change=request_break_glass(actor=manager, external_id="BG-0001", reason="At my counter")
    )

    assert offered(client) == ["York (YRK)"]


def test_an_entry_read_while_a_grant_is_in_force_lives_until_it_ends(manager):
    """A grant ends without any service to say so: the entry goes when it does."""
    from apps.customers.models import BreakGlassGrant

    york = BranchFactory(name="York", code="YRK")
    customer = CustomerFactory(branch=york)
    now = timezone.now()
    BreakGlassGrant.objects.create(
        user=manager, customer=customer, reason="test", approved_by=UserFactory(), starts_at=now,
        expires_at=now + dt.timedelta(seconds=30),
    )  # fmt: skip

    assert book_branches(manager) == ((york.pk, "York (YRK)"),)
    assert 0 < cache.ttl(book_facts._key(manager, book_facts.customer_scope(user=manager))) <= 30


def test_viewers_who_see_every_customer_get_every_branch_with_customers(client, compliance_officer, manager):
    CustomerFactory(assigned_to=manager, branch=BranchFactory(name="Leeds", code="LDS"))
    BranchFactory(name="Empty", code="EMP")
    client.force_login(compliance_officer)

    assert "Leeds (LDS)" in offered(client)
    assert "Empty (EMP)" not in offered(client)


def test_an_outdated_entry_is_not_believed(manager):
    """A read that began before a change committed stores the version it read, which the change's
    commit has since replaced: the next read asks again."""
    leeds = BranchFactory(name="Leeds", code="LDS")
    CustomerFactory(assigned_to=manager, branch=leeds)
    key = book_facts._key(manager, book_facts.customer_scope(user=manager))
    cache.set(key, (cache.get(book_facts.VERSION_KEY), ((leeds.pk, "stale"),)), 60)
    assert book_branches(manager) == ((leeds.pk, "stale"),)

    book_facts.forget_books()

    assert book_branches(manager) == ((leeds.pk, "Leeds (LDS)"),)
