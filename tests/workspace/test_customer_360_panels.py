"""The 360 page's kept panels (holdings, household, opportunities, documents: decision 189): read
back while nothing they show changed, rendered again as soon as something did, never another
viewer's or another language's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client

from apps.accounts.models import Holding, HoldingParty
from apps.accounts.services import update_holding
from apps.core import fragments
from apps.customers.models import CustomerRelationship, IdentityDocument
from apps.customers.services import assign_customer, link_customers
from apps.opportunities.selectors import OPEN_LISTED
from apps.workspace.customer_panels import DOCUMENTS, HOLDINGS, HOUSEHOLD, OPPORTUNITIES
from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory
from tests.opportunities.factories import opportunity
from tests.workspace.support import (
    pinned_today,  # noqa: F401  (fixture)
    plain_static_files,  # noqa: F401  (fixture)
    role_permissions,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("plain_static_files", "pinned_today", "role_permissions")
PANELS = {HOLDINGS, HOUSEHOLD, OPPORTUNITIES, DOCUMENTS}


@pytest.fixture(autouse=True)
def _no_kept_fragments() -> None:
    """No entry left by an earlier run on the same Redis database (each xdist worker has its own)."""
    caches[fragments.CACHE_ALIAS].clear()


def _view(client: Client, customer, language: str = "en-gb") -> tuple[str, set[str]]:  # type: ignore[no-untyped-def]
    """The page's HTML and which of the panels' templates were rendered for it."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(customer.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode(), {t.name for t in response.templates} & PANELS


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def _panels(html: str) -> list[str]:
    """The four sections (the page's CSRF token differs from one response to the next)."""
    return [_section(html, name) for name in ("holdings", "household", "opportunities", "documents")]


def test_a_second_view_reads_the_panels_and_a_changed_balance_shows_at_once(client, manager):
    customer = CustomerFactory(assigned_to=manager)
    holding = HoldingFactory(customer=customer, balance=Decimal("1234.56"), currency="GBP")
    client.force_login(manager)

    first, rendered = _view(client, customer)
    assert rendered == PANELS
    again, rendered_again = _view(client, customer)
    assert _panels(again) == _panels(first) and rendered_again == set()  # one entry read, nothing rendered

    update_holding(actor=manager, holding=holding, balance=Decimal("98765.43"))
    changed, rendered = _view(client, customer)

    holdings = _section(changed, "holdings")
    assert "98,765.43" in holdings and "1,234.56" not in holdings
    assert HOLDINGS in rendered


def test_a_relative_moved_out_of_the_viewers_book_is_shown_only_as_outside_it(client, manager, other_manager):
    customer = CustomerFactory(assigned_to=manager)
    relative = CustomerFactory(assigned_to=manager, first_name="Rosalind", last_name="Relative")
    link_customers(actor=None, from_customer=customer, to_customer=relative, kind=CustomerRelationship.Kind.SPOUSE)
    client.force_login(manager)
    before, _ = _view(client, customer)
    assert "Rosalind Relative" in _section(before, "household")
    _view(client, customer)  # kept

    assign_customer(actor=None, customer=relative, manager=other_manager)
    after, rendered = _view(client, customer)

    household = _section(after, "household")
    assert "a customer outside your book" in household and "Spouse or partner" in household
    assert "Rosalind" not in after and relative.get_absolute_url() not in after
    assert HOUSEHOLD in rendered


def test_each_language_has_its_own_entry(client, manager):
    customer = CustomerFactory(assigned_to=manager)
    HoldingFactory(customer=customer, balance=Decimal("1500.25"), currency="EUR")
    client.force_login(manager)

    english, rendered_en = _view(client, customer, "en-gb")
    italian, rendered_it = _view(client, customer, "it")
    english_again, rendered_en_again = _view(client, customer, "en-gb")

    assert rendered_en == PANELS and rendered_it == PANELS  # Italian is another entry, not English read back
    assert rendered_en_again == set() and _panels(english_again) == _panels(english)
    assert "Holdings" in _section(english, "holdings") and "1,500.25" in english
    assert "Holdings" not in _section(italian, "holdings") and "1.500,25" in italian


def test_the_add_an_opportunity_button_is_only_for_a_viewer_who_may_edit(client, manager, compliance_officer):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(manager)
    mine, _ = _view(client, customer)
    officer = Client()
    officer.force_login(compliance_officer)
    theirs, rendered = _view(officer, customer)

    assert "Add an opportunity" in _section(mine, "opportunities")
    assert "Add an opportunity" not in _section(theirs, "opportunities")
    assert OPPORTUNITIES in rendered  # not the manager's entry


def test_the_panels_other_branches_print_as_the_sections_did(client, manager):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(manager)
    empty, _ = _view(client, customer)
    assert '<p class="empty">No holdings.</p>' in empty
    assert '<p class="empty">No household members.</p>' in empty
    assert '<p class="empty">No open opportunities.</p>' in empty
    assert '<p class="empty">No identity documents on file.</p>' in empty

    HoldingFactory(parties={customer: HoldingParty.Role.BENEFICIARY}, balance=Decimal("50.00"))
    HoldingFactory(customer=customer, category=Holding.Category.LOAN, balance=Decimal("-200.00"))
    IdentityDocument.objects.create(
        customer=customer, document_type="passport", number="P1", issuing_country="GB", expiry_date=None
    )
    for day in range(OPEN_LISTED + 1):
        opportunity(customer=customer, owner=manager, expected_close=dt.date(2027, 1, 1) + dt.timedelta(days=day))
    html, _ = _view(client, customer)

    assert '<div class="holding-group" id="holdings-not-counted">' in html
    assert "<small>(owed to the bank)</small>" in html
    assert "<small>no expiry date</small>" in _section(html, "documents")
    assert f"The {OPEN_LISTED} closing soonest; the others are on the board." in _section(html, "opportunities")
