"""The pipeline in Chromium: open an opportunity, move it with the keyboard, drag it to the
next stage, drag it onto Won (which opens the win form: a reason is required) and win it; all six
columns on a 1280 px desktop without sideways scrolling; then the same board at phone width. No
Content Security Policy violation on the way (as tests/workspace/test_htmx_csp.py checks the other
pages). Screenshots in test-artifacts/browser/."""

from __future__ import annotations

import pytest

from apps.core.models import AuditEvent
from apps.identity import roles
from apps.opportunities.models import Opportunity
from tests.conftest import BROWSER_ARTIFACTS, sign_in
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory
from tests.opportunities.factories import default_stages, opportunity
from tests.products.factories import ProductFactory
from tests.workspace.test_role_journeys import CSP_LISTENER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def book(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_ADMIN_REQUIRE_TOTP = False
    default_stages()
    branch = BranchFactory(code="LDN77", name="London")
    manager = UserFactory(username="rm.pipeline", roles=[roles.RELATIONSHIP_MANAGER], branch=branch)
    customer = CustomerFactory(assigned_to=manager, first_name="Imogen", last_name="Hartley", external_id="CB-PIPE-1")
    other = UserFactory(username="rm.other", roles=[roles.RELATIONSHIP_MANAGER], branch=BranchFactory())
    opportunity(owner=other, customer=CustomerFactory(assigned_to=other, last_name="Outsider"), next_step="Hidden")
    ProductFactory(name="Fixed Saver", code="FS-12")
    return manager, customer


def test_open_move_and_win_an_opportunity_on_the_board(book, live_server, chromium):
    from playwright.sync_api import expect

    manager, customer = book
    BROWSER_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url

    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script(CSP_LISTENER)
    expect.set_options(timeout=15_000)
    sign_in(page, base, manager.username, PASSWORD)
    expect(page.locator("h1")).to_contain_text("My day")

    # Create: from the nav, a new opportunity on the manager's customer, by number.
    page.click("nav >> text=Pipeline")
    expect(page.locator("h1")).to_contain_text("Opportunities pipeline")
    expect(page.locator("#board")).not_to_contain_text("Outsider")
    page.click("text=New opportunity")
    page.fill("#id_customer", customer.external_id)
    page.select_option("#id_product", label="Fixed Saver (FS-12)")
    page.fill("#id_amount", "42000")
    page.select_option("#id_currency", "GBP")
    page.fill("#id_expected_close", "2026-12-31")
    page.fill("#id_next_step", "Send the renewal offer")
    page.click("main button:has-text('Open opportunity')")
    expect(page.locator("h1")).to_contain_text("Fixed Saver")
    made = Opportunity.objects.get(customer=customer)

    # Move: on the board, with the keyboard only (focus the list, choose, press Enter).
    page.goto(f"{base}/opportunities/")
    card = page.locator(f"#opportunity-{made.pk}")
    expect(page.locator("#board .board__column").first).to_contain_text("Imogen Hartley")
    card.locator("select[name=stage]").focus()
    card.locator("select[name=stage]").select_option(label="Proposal")
    card.locator("select[name=stage]").press("Tab")
    page.keyboard.press("Enter")  # the focused "Move" button
    proposal = page.locator(".board__column", has=page.locator("h2", has_text="Proposal"))
    expect(proposal).to_contain_text("Imogen Hartley")
    expect(proposal).to_contain_text("50%")
    page.screenshot(path=str(BROWSER_ARTIFACTS / "pipeline-moved.png"), full_page=True)

    # Desktop: every column, Won and Lost included, is on screen without sideways scrolling.
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the board scrolls sideways by {overflow}px at 1280px"
    for closing in (".board__column--won", ".board__column--lost"):
        box = page.locator(closing).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1280, (closing, box)

    # Drag: the card onto the next stage; the same move endpoint and service (audited).
    negotiation = page.locator(".board__column", has=page.locator("h2", has_text="Negotiation"))
    page.locator(f"#opportunity-{made.pk}").drag_to(negotiation)
    expect(negotiation.locator(f"#opportunity-{made.pk}")).to_be_visible()
    expect(negotiation).to_contain_text("75%")
    made.refresh_from_db()
    assert made.stage.name == "Negotiation"
    assert AuditEvent.objects.filter(action="opportunity.moved", object_id=str(made.pk)).count() == 2
    page.screenshot(path=str(BROWSER_ARTIFACTS / "pipeline-dragged-1280.png"), full_page=True)

    # Win: dragged onto Won, the card opens its win form with Won ticked; the reason is asked.
    card = page.locator(f"#opportunity-{made.pk}")
    card.drag_to(page.locator(".board__column--won"))
    expect(card.locator("input[name=reason]")).to_be_focused()
    expect(card.locator("input[value=won]")).to_be_checked()
    made.refresh_from_db()
    assert made.outcome == "open"  # nothing closes without a reason
    card.locator("input[name=reason]").fill("Best rate on the market")
    card.locator("button", has_text="Close").click()
    won = page.locator(".board__column--won")
    expect(won).to_contain_text("Imogen Hartley")
    expect(won).to_contain_text("Best rate on the market")
    made.refresh_from_db()
    assert (made.outcome, made.close_reason) == ("won", "Best rate on the market")

    # Phone width: the columns stack, nothing scrolls sideways.
    phone = chromium.new_page(viewport={"width": 390, "height": 844})
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{base}/opportunities/")
    expect(phone.locator("#board")).to_contain_text("Imogen Hartley")
    overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    phone.screenshot(path=str(BROWSER_ARTIFACTS / "pipeline-390.png"), full_page=True)
    assert overflow <= 0, f"the board scrolls sideways by {overflow}px at 390px"

    assert page.evaluate("window.__csp || []") == []
