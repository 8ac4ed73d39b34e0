"""The book report in a real browser: the charts are drawn under the Content Security Policy, a
bar opens the customer list filtered to the customers behind it.

Screenshots: test-artifacts/browser/report-branch-manager.png, report-drill-down.png.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.accounts.models import Holding
from apps.core.business_date import business_today
from apps.core.models import FxRate
from apps.identity import roles
from tests.accounts.factories import HoldingFactory
from tests.conftest import BROWSER_ARTIFACTS, sign_in
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory
from tests.interactions.factories import InteractionFactory
from tests.workspace.test_role_journeys import CSP_LISTENER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def branch_book(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_ADMIN_REQUIRE_TOTP = False
    settings.FINPULSE_REPORTING_CURRENCY = "EUR"
    today = business_today()
    branch = BranchFactory(code="RPT01", name="Report Street")
    boss = UserFactory(
        username="bm.report", first_name="Beatrix", last_name="Boss", roles=[roles.BRANCH_MANAGER], branch=branch
    )
    alice = UserFactory(
        username="rm.alice.r", first_name="Alice", last_name="Able", roles=[roles.RELATIONSHIP_MANAGER], branch=branch
    )
    bob = UserFactory(
        username="rm.bob.r", first_name="Bob", last_name="Baker", roles=[roles.RELATIONSHIP_MANAGER], branch=branch
    )
    saver = CustomerFactory(assigned_to=alice, first_name="Sally", last_name="Saver", segment="private")
    borrower = CustomerFactory(assigned_to=bob, first_name="Barry", last_name="Borrower", segment="premium")
    HoldingFactory(customer=saver, category=Holding.Category.SAVINGS_ACCOUNT, balance=Decimal("12000.00"))
    HoldingFactory(
        customer=saver,
        category=Holding.Category.TERM_DEPOSIT,
        balance=Decimal("5000.00"),
        maturity_date=today + dt.timedelta(days=15),
    )
    HoldingFactory(customer=borrower, category=Holding.Category.LOAN, balance=Decimal("-8000.00"), currency="EUR")
    InteractionFactory(customer=borrower, author=bob, occurred_at=timezone.now() - dt.timedelta(days=3))
    FxRate.objects.create(rate_date=today, base_currency="GBP", quote_currency="EUR", rate="1.17")
    return boss


def test_a_branch_manager_reads_the_report_and_drills_down_to_the_customers(live_server, chromium, branch_book):
    from playwright.sync_api import expect

    BROWSER_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    console_csp: list[str] = []
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.add_init_script(CSP_LISTENER)
    page.on("console", lambda m: console_csp.append(m.text) if "Content Security Policy" in m.text else None)
    expect.set_options(timeout=15_000)
    sign_in(page, live_server.url, branch_book.username, PASSWORD)
    expect(page.locator("h1")).to_contain_text("My day")

    page.click("nav >> text=Reports")
    expect(page.locator("h1")).to_contain_text("Branch report")
    page.wait_for_load_state("networkidle")
    # Every chart was drawn by Chart.js: a canvas it sized and painted.
    for chart in ("positions", "ladder", "cadence"):
        canvas = page.locator(f"#chart-{chart}")
        expect(canvas).to_have_attribute("data-chart-drawn", "true")
        painted = page.evaluate(
            """id => {
                const canvas = document.getElementById(id);
                const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) return true; }
                return false;
            }""",
            f"chart-{chart}",
        )
        assert painted, f"the {chart} chart is blank"
    # The figures, as a reader checks them: GBP 17,000 held at 1.17 = EUR 19,890.00.
    expect(page.locator("#positions")).to_contain_text("19,890.00")
    expect(page.locator("#positions")).to_contain_text("8,000.00")
    expect(page.locator("#managers")).to_contain_text("Alice Able")
    expect(page.locator("#managers")).to_contain_text("Bob Baker")
    page.screenshot(path=str(BROWSER_ARTIFACTS / "report-branch-manager.png"), full_page=True)

    # Select the loan bar of the chart: the customer list, filtered to its customers.
    index = page.evaluate(
        "() => JSON.parse(document.getElementById('report-chart-data').textContent).positions.labels.indexOf('Loan')"
    )
    assert index >= 0
    box = page.evaluate(
        """i => {
            const chart = Chart.getChart('chart-positions');
            const bar = chart.getDatasetMeta(1).data[i];
            const rect = chart.canvas.getBoundingClientRect();
            return {x: rect.left + bar.x, y: rect.top + (bar.y + bar.base) / 2};
        }""",
        index,
    )
    page.mouse.click(box["x"], box["y"])
    expect(page.locator("h1")).to_contain_text("Customers")
    results = page.locator("#customer-results")
    expect(results).to_contain_text("Barry Borrower")
    expect(results).not_to_contain_text("Sally Saver")
    page.screenshot(path=str(BROWSER_ARTIFACTS / "report-drill-down.png"), full_page=True)
    csp = page.evaluate("() => window.__csp")
    assert csp == [] and console_csp == [], (csp, console_csp)
