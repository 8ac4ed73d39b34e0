"""Every htmx action on the main pages, clicked in Chromium: no Content Security Policy violation.

Issue #15 item 14. The pages (dashboard, customer list, a 360 page, tasks, alerts, the pipeline) are opened as
a relationship manager with a small book (holdings, tasks, alerts, an interaction). On each page
every visible link, button or form control that carries an htmx attribute is clicked in turn
(the page is reloaded between clicks, since an action may replace the element); the page's own
`securitypolicyviolation` events and the console's CSP reports are collected, as in
test_role_journeys.py. Also checked here: the customer list's previous-page link and the
new-task page's customer suggestions (only the user's book). Screenshots in test-artifacts/browser/.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.alerts.scans import run_scans
from apps.identity import roles
from tests.accounts.factories import HoldingFactory
from tests.conftest import BROWSER_ARTIFACTS, sign_in
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory
from tests.opportunities.factories import opportunity
from tests.tasks.factories import TaskFactory
from tests.workspace.test_role_journeys import CSP_LISTENER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
HTMX_ACTIONS = (
    "a[hx-get], a[hx-post], button[hx-get], button[hx-post], form[hx-post] button[type=submit],"
    " form[hx-get] button[type=submit], input[hx-get], select[hx-get]"
)


@pytest.fixture
def book(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_ADMIN_REQUIRE_TOTP = False
    branch = BranchFactory(code="LDN55", name="London")
    manager = UserFactory(username="rm.htmx", roles=[roles.RELATIONSHIP_MANAGER], branch=branch)
    other = UserFactory(username="rm.elsewhere", roles=[roles.RELATIONSHIP_MANAGER], branch=BranchFactory())
    customer = CustomerFactory(
        assigned_to=manager, first_name="Penelope", last_name="Ashcroft", email="penelope@mail.example"
    )
    for n in range(52):  # more than a page of the customer list (50)
        CustomerFactory(assigned_to=manager, first_name="Book", last_name=f"Member {n:02d}")
    CustomerFactory(assigned_to=other, first_name="Penelope", last_name="Outsider")
    today = timezone.localdate()
    HoldingFactory(customer=customer, category="term_deposit", opened_on=today - dt.timedelta(days=360))
    TaskFactory(customer=customer, title="Call about the renewal", due_at=timezone.now() + dt.timedelta(hours=2))
    opportunity(owner=manager, customer=customer, next_step="Send the renewal offer")
    run_scans()
    return manager, customer


def _click_every_action(page, url: str, label: str, csp: list[str]) -> int:  # type: ignore[no-untyped-def]
    page.goto(url)
    page.wait_for_load_state("networkidle")
    count = page.locator(HTMX_ACTIONS).count()
    clicked = 0
    for index in range(count):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        target = page.locator(HTMX_ACTIONS).nth(index)
        if not target.count() or not target.is_visible():
            continue
        tag = target.evaluate("e => e.tagName")
        if tag == "INPUT":
            target.fill("Pen")
        elif tag == "SELECT":
            continue
        else:
            target.click()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(150)
        clicked += 1
        csp += [f"{label}#{index}: {v}" for v in page.evaluate("window.__csp || []")]
    return clicked


def test_every_htmx_action_on_the_main_pages_runs_without_a_csp_violation(book, live_server, chromium):
    from playwright.sync_api import expect

    manager, customer = book
    BROWSER_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    csp: list[str] = []
    console: list[str] = []
    clicks: dict[str, int] = {}

    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.add_init_script(CSP_LISTENER)
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    expect.set_options(timeout=15_000)
    sign_in(page, base, manager.username, PASSWORD)
    expect(page.locator("h1")).to_contain_text("My day")

    pages = {
        "dashboard": f"{base}/",
        "customers": f"{base}/customers/?sort=name",
        "customer-360": f"{base}{customer.get_absolute_url()}",
        "tasks": f"{base}/tasks/",
        "alerts": f"{base}/alerts/",
        "pipeline": f"{base}/opportunities/",
    }
    for label, url in pages.items():
        # The page as the manager finds it, then every action on it (which may change it).
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(BROWSER_ARTIFACTS / f"htmx-{label}.png"), full_page=True)
        clicks[label] = _click_every_action(page, url, label, csp)

    # The customer list goes back a page with its filters and sort.
    page.goto(f"{base}/customers/?sort=name")
    first_names = page.locator("#customer-results tbody tr td:first-child").all_inner_texts()
    page.click("#customer-results a[rel=next]")
    expect(page.locator("#customer-results a[rel=prev]")).to_be_visible()
    page.click("#customer-results a[rel=prev]")
    # Back on the first page once its fragment is in (no "Previous page" link); networkidle
    # alone can return before htmx has swapped the answer in on a busy machine.
    expect(page.locator("#customer-results a[rel=prev]")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    assert page.locator("#customer-results tbody tr td:first-child").all_inner_texts() == first_names
    assert "sort=name" in page.url

    # The new-task page suggests customers by name, only from the user's book.
    page.goto(f"{base}/tasks/new/")
    page.fill("#id_customer", "Penelope")
    expect(page.locator("#task-customer-options option")).to_have_count(1)
    suggestion = page.locator("#task-customer-options option").first.get_attribute("value")
    assert suggestion == f"Penelope Ashcroft · {customer.external_id}"
    page.fill("#id_customer", suggestion)
    page.fill("#id_title", "Follow up the renewal")
    page.fill("#id_due_at", (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.screenshot(path=str(BROWSER_ARTIFACTS / "htmx-new-task.png"), full_page=True)
    page.click("main form[action='/tasks/new/'] button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Penelope Ashcroft")
    csp += [f"new-task: {v}" for v in page.evaluate("window.__csp || []")]

    # The dashboard's and the alert list's htmx runs on load (the bell, the panels): no click, same listener.
    assert all(clicks[label] > 0 for label in ("customers", "customer-360", "tasks", "pipeline")), clicks
    assert csp == []
    assert console == []
