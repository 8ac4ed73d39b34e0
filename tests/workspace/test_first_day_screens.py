"""Issue #15's screenshot defects, checked where they show: in Chromium at 1366 px.

A timeline event reads "Holding opened: <product>" (no space before the colon: a bare text node
in the flex row got the row's gap); the export's reason box shows its whole placeholder; a
relationship manager sees no "Admin" link. Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import pytest

from apps.identity import roles
from tests.accounts.factories import HoldingFactory
from tests.conftest import BROWSER_ARTIFACTS, sign_in
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory
from tests.identity.totp_support import current_code, enrol_totp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
# Direct text children of a flex row are anonymous flex items: the row's gap lands before them.
BARE_TEXT_IN_TIMELINE = """
() => [...document.querySelectorAll('.timeline-head')].flatMap(head =>
  [...head.childNodes]
    .filter(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim())
    .map(n => n.textContent.trim()))
"""
# The placeholder's width in the input's own font against the room the input gives its text.
PLACEHOLDER_FITS = """
input => {
  const style = getComputedStyle(input);
  const context = document.createElement('canvas').getContext('2d');
  context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return {text: context.measureText(input.placeholder).width, room};
}
"""


def _sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, base, username, PASSWORD)
    page.wait_for_url(f"{base}/")


def test_the_screens_a_manager_sees_on_the_first_day(live_server, chromium, settings):
    from playwright.sync_api import expect

    settings.FINPULSE_ADMIN_REQUIRE_TOTP = False
    manager = UserFactory(
        username="rm.firstday", roles=[roles.RELATIONSHIP_MANAGER], branch=BranchFactory(code="LDN77", name="London")
    )
    customer = CustomerFactory(assigned_to=manager, first_name="Penelope", last_name="Ashcroft")
    HoldingFactory(customer=customer, actor=manager)
    BROWSER_ARTIFACTS.mkdir(parents=True, exist_ok=True)

    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    expect.set_options(timeout=10_000)
    _sign_in(page, live_server.url, manager.username)

    # No Admin link for a relationship manager: they could not use it.
    expect(page.locator("header nav a", has_text="Admin")).to_have_count(0)

    # The 360 timeline: "Holding opened: <product>", the colon against the label.
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    entry = page.locator(".timeline-entry.event", has_text="Holding opened").first
    expect(entry).to_be_visible()
    assert page.evaluate(BARE_TEXT_IN_TIMELINE) == []
    assert "Holding opened:" in entry.inner_text()
    entry.scroll_into_view_if_needed()
    page.screenshot(path=str(BROWSER_ARTIFACTS / "first-day-timeline.png"), full_page=True)

    # The customer list: the export reason's placeholder is not cut at 1366 px.
    page.goto(f"{live_server.url}/customers/")
    reason = page.locator("#export-reason")
    expect(reason).to_be_visible()
    fit = reason.evaluate(PLACEHOLDER_FITS)
    assert fit["text"] <= fit["room"], fit
    page.screenshot(path=str(BROWSER_ARTIFACTS / "first-day-customer-list.png"), full_page=True)


def test_a_branch_manager_previews_a_portfolio_move_then_confirms_it(live_server, chromium, settings):
    from playwright.sync_api import expect

    from apps.customers.models import Customer
    from tests.tasks.factories import TaskFactory

    settings.FINPULSE_ADMIN_REQUIRE_TOTP = False
    branch = BranchFactory(code="LDN78", name="London")
    boss = UserFactory(username="bm.firstday", roles=[roles.BRANCH_MANAGER], branch=branch)
    leaving = UserFactory(
        username="rm.leaving", first_name="Lee", last_name="Leaving", roles=[roles.RELATIONSHIP_MANAGER], branch=branch
    )
    taking = UserFactory(
        username="rm.taking", first_name="Tia", last_name="Taking", roles=[roles.RELATIONSHIP_MANAGER], branch=branch
    )
    customer = CustomerFactory(assigned_to=leaving, first_name="Moira", last_name="Moving", branch=branch)
    TaskFactory(customer=customer, title="Call Moira about the renewal")
    device = enrol_totp(boss)  # a transfer needs a recent second factor (step-up)
    BROWSER_ARTIFACTS.mkdir(parents=True, exist_ok=True)

    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    expect.set_options(timeout=10_000)
    _sign_in(page, live_server.url, boss.username)
    page.goto(f"{live_server.url}/accounts/step-up/?next=/portfolio/")
    page.fill("input[name=otp_token]", current_code(device))
    page.click("#step-up button[type=submit]")
    expect(page.locator("main")).to_contain_text("Second factor confirmed")
    page.select_option("#transfer-form select[name=from_manager]", str(leaving.pk))
    page.select_option("#transfer-form select[name=to_manager]", str(taking.pk))
    page.fill("#transfer-form input[name=reason]", "Lee leaves the bank")
    page.click("#transfer-form button[type=submit]")

    expect(page.locator("#move-summary")).to_contain_text("1 customer")
    expect(page.locator("#move-customers")).to_contain_text("Moira Moving")
    expect(page.locator("#move-tasks")).to_contain_text("Call Moira about the renewal")
    page_title = [page.locator("h1").inner_text()]
    page.screenshot(path=str(BROWSER_ARTIFACTS / "portfolio-move-preview.png"), full_page=True)
    assert Customer.objects.get(pk=customer.pk).primary_manager_id == leaving.pk  # nothing moved yet

    page.click("#confirm-move button[type=submit]")
    # Four eyes: the confirm proposes; the portfolio page shows it waiting.
    expect(page.locator("main")).to_contain_text("Transfer proposed")
    expect(page.locator("#pending-changes")).to_contain_text("Transfer the portfolio of rm.leaving")

    assert Customer.objects.get(pk=customer.pk).primary_manager_id == leaving.pk
    from apps.approvals.models import ChangeRequest
    from apps.approvals.services import approve_change

    deputy = UserFactory(username="bm.deputy", roles=[roles.BRANCH_MANAGER], branch=branch)
    approve_change(checker=deputy, change=ChangeRequest.objects.get(action="portfolio.transfer"))
    assert Customer.objects.get(pk=customer.pk).primary_manager_id == taking.pk
    assert customer.tasks.get().assignee_id == taking.pk
    assert "rm.leaving" in page_title[0] and "Lee Leaving" in page_title[0]
