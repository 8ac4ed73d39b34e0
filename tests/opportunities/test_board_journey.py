"""The pipeline in Chromium: open an opportunity, move it with the keyboard, win it; then the
same board at phone width. No Content Security Policy violation on the way (as
tests/workspace/test_htmx_csp.py checks the other pages). Screenshots in test-artifacts/browser/."""

from __future__ import annotations

import pytest

from apps.identity import roles
from apps.opportunities.models import Opportunity
from tests.conftest import BROWSER_ARTIFACTS, CHROMIUM_ARGS
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


def test_open_move_and_win_an_opportunity_on_the_board(book, live_server, chromium_path, monkeypatch):
    from playwright.sync_api import expect, sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    manager, customer = book
    BROWSER_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.add_init_script(CSP_LISTENER)
            expect.set_options(timeout=15_000)
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", manager.username)
            page.fill("#id_password", PASSWORD)
            page.click("form button[type=submit]")
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

            # Win: with its reason.
            card = page.locator(f"#opportunity-{made.pk}")
            card.locator("summary").click()
            card.locator("input[value=won]").check()
            card.locator("input[name=reason]").fill("Best rate on the market")
            card.locator("button", has_text="Close").click()
            won = page.locator(".board__column--won")
            expect(won).to_contain_text("Imogen Hartley")
            expect(won).to_contain_text("Best rate on the market")
            made.refresh_from_db()
            assert (made.outcome, made.close_reason) == ("won", "Best rate on the market")

            # Phone width: the columns stack, nothing scrolls sideways.
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.context.add_cookies(page.context.cookies())
            phone.goto(f"{base}/opportunities/")
            expect(phone.locator("#board")).to_contain_text("Imogen Hartley")
            overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            phone.screenshot(path=str(BROWSER_ARTIFACTS / "pipeline-390.png"), full_page=True)
            assert overflow <= 0, f"the board scrolls sideways by {overflow}px at 390px"

            assert page.evaluate("window.__csp || []") == []
        finally:
            browser.close()
