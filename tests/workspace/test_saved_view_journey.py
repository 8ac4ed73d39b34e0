"""Saved views and bulk actions in a real browser: filter the list, save it as a view, pin it on
the dashboard, open it from there, tick customers and create a task for each. No Content Security
Policy violation on the way. Screenshots: test-artifacts/browser/saved-view-*.png.
"""

from __future__ import annotations

import datetime as dt

import pytest

from apps.identity import roles
from apps.tasks.models import Task
from apps.workspace.models import SavedView
from tests.conftest import BROWSER_ARTIFACTS, sign_in
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory
from tests.workspace.test_role_journeys import CSP_LISTENER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def book(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_ADMIN_REQUIRE_TOTP = False
    manager = UserFactory(
        username="rm.views",
        first_name="Vera",
        last_name="Views",
        roles=[roles.RELATIONSHIP_MANAGER],
        branch=BranchFactory(code="VW01", name="Views Row"),
    )
    private = [
        CustomerFactory(assigned_to=manager, first_name=name, last_name="Private", segment="private")
        for name in ("Paula", "Peter")
    ]
    CustomerFactory(assigned_to=manager, first_name="Mona", last_name="Mass", segment="mass")
    return manager, private


def test_save_a_view_pin_it_and_create_tasks_for_ticked_customers(live_server, chromium, book):
    from playwright.sync_api import expect

    manager, private = book
    BROWSER_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    console_csp: list[str] = []
    base = live_server.url
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.add_init_script(CSP_LISTENER)
    page.on("console", lambda m: console_csp.append(m.text) if "Content Security Policy" in m.text else None)
    expect.set_options(timeout=15_000)
    sign_in(page, base, manager.username, PASSWORD)
    expect(page.locator("h1")).to_contain_text("My day")

    # Filter the list to the private-banking customers and save that as a view.
    page.goto(f"{base}/customers/")
    page.select_option("#id_segment", "private")
    expect(page.locator("#customer-results")).not_to_contain_text("Mona Mass")
    expect(page.locator("#list-tools")).to_be_visible()
    page.fill("#list-tools input[name=name]", "Private banking")
    page.click("#list-tools button:has-text('Save this view')")
    expect(page.locator("#list-tools")).to_contain_text("Saved the view “Private banking”")
    view = SavedView.objects.get(owner=manager)
    assert view.params["segment"] == "private"

    # Pin it; it is on the dashboard and opens the filtered list.
    page.click("#list-tools >> text=Pin it on your dashboard")
    page.locator("tr", has_text="Private banking").locator("button:has-text('Pin')").click()
    expect(page.locator(".message")).to_contain_text("Pinned")
    page.goto(f"{base}/")
    expect(page.locator("#pinned-views")).to_contain_text("Private banking")
    page.screenshot(path=str(BROWSER_ARTIFACTS / "saved-view-dashboard.png"), full_page=True)
    page.click("#pinned-views >> text=Private banking")
    expect(page.locator("#customer-results")).to_contain_text("Paula Private")
    expect(page.locator("#customer-results")).not_to_contain_text("Mona Mass")

    # Tick both customers and create a task for each.
    for customer in private:
        page.check(f"input[name=customer][value='{customer.pk}']")
    page.fill("#bulk-title-input", "Invite to the private banking evening")
    page.fill("#bulk-due", (dt.date.today() + dt.timedelta(days=7)).isoformat())
    page.screenshot(path=str(BROWSER_ARTIFACTS / "saved-view-bulk.png"), full_page=True)
    page.click("#bulk-actions button:has-text('Create tasks')")
    expect(page.locator(".message")).to_contain_text("Created 2 tasks")
    csp = page.evaluate("() => window.__csp")
    tasks = Task.objects.filter(title="Invite to the private banking evening")
    assert sorted(tasks.values_list("customer_id", flat=True)) == sorted(c.pk for c in private)
    assert csp == [] and console_csp == [], (csp, console_csp)
