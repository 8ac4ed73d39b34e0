"""A relationship manager's day in a real browser (Playwright driving Debian's Chromium).

Sign in, find a customer by name and by phone, open the 360 page, reveal the national id,
log a call with an attachment, create a task, see it on the dashboard, complete it and see
the dashboard update. Screenshots of the dashboard and the 360 page are written to
test-artifacts/browser/ (named in README.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.identity import roles
from apps.interactions.models import Attachment, Interaction
from apps.tasks.models import Task
from tests.conftest import BROWSER_ARTIFACTS, sign_in
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory
from tests.interactions.factories import PDF_BYTES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def journey_data(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_ADMIN_REQUIRE_TOTP = False
    branch = BranchFactory(code="LDN99", name="London Test")
    manager = UserFactory(
        username="rm.journey", first_name="Jo", last_name="Journey", roles=[roles.RELATIONSHIP_MANAGER], branch=branch
    )
    customer = CustomerFactory(
        assigned_to=manager,
        first_name="Penelope",
        last_name="Ashcroft",
        phone="+44 7700 900555",
        national_id="QQ123456C",
        email="penelope@mail.example",
    )
    CustomerFactory(assigned_to=manager, first_name="Arthur", last_name="Bellweather")
    return manager, customer


def test_a_managers_day_in_the_browser(live_server, chromium, journey_data, tmp_path):
    from playwright.sync_api import expect

    manager, customer = journey_data
    statement = tmp_path / "statement.pdf"
    statement.write_bytes(PDF_BYTES)
    BROWSER_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    due_today = timezone.localtime().replace(hour=23, minute=30, second=0, microsecond=0)
    csp_errors: list[str] = []

    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    expect.set_options(timeout=10_000)

    # Sign in.
    sign_in(page, live_server.url, manager.username, PASSWORD)
    expect(page.locator("h1")).to_contain_text("My day")

    # Find the customer by name, then by phone (blind index).
    page.goto(f"{live_server.url}/customers/")
    page.fill("input[name=q]", "Ashcroft")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text("Penelope Ashcroft")
    expect(page.locator("main")).not_to_contain_text("Bellweather")
    page.fill("input[name=q]", "+44 7700 900555")
    page.keyboard.press("Enter")
    results = page.locator("main table a", has_text="Penelope Ashcroft")
    expect(results).to_have_count(1)

    # Open the 360 page and reveal the national id.
    results.click()
    expect(page.locator("h1")).to_contain_text("Penelope Ashcroft")
    expect(page.locator("#pii")).not_to_contain_text("QQ123456C")
    page.click("#pii button[aria-label='Reveal national id']")
    expect(page.locator("#pii")).to_contain_text("Give a reason")  # refused without one
    expect(page.locator("#pii")).not_to_contain_text("QQ123456C")
    page.fill("#pii input[name=reason]", "Identity check on a call")
    page.click("#pii button[aria-label='Reveal national id']")
    expect(page.locator("#pii")).to_contain_text("QQ123456C")

    # Log a call with an attachment.
    page.click("text=Log an interaction")
    form = page.locator(f"#interaction-form-{customer.pk}")
    form.locator("select[name=channel]").select_option("phone")
    form.locator("input[name=subject]").fill("Renewal call")
    form.locator("textarea[name=body]").fill("Discussed the deposit renewal.")
    form.locator("input[name=attachments]").set_input_files(str(statement))
    form.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Renewal call")

    # Create a task due today from the customer page.
    tasks = page.locator(f"#customer-tasks-{customer.pk}")
    tasks.locator("input[name=title]").fill("Send the renewal offer")
    tasks.locator("input[name=due_at]").fill(due_today.strftime("%Y-%m-%dT%H:%M"))
    tasks.locator("button", has_text="Create task").click()
    expect(tasks).to_contain_text("Send the renewal offer")
    page.screenshot(path=str(BROWSER_ARTIFACTS / "customer-360.png"), full_page=True)

    # The dashboard lists it; complete it from the customer page; the dashboard updates.
    page.goto(f"{live_server.url}/")
    expect(page.locator("main")).to_contain_text("Send the renewal offer")
    page.screenshot(path=str(BROWSER_ARTIFACTS / "dashboard.png"), full_page=True)
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    tasks = page.locator(f"#customer-tasks-{customer.pk}")
    tasks.locator("button", has_text="Mark done").click()
    expect(tasks).not_to_contain_text("Mark done")
    page.goto(f"{live_server.url}/")
    expect(page.locator("h1")).to_contain_text("My day")
    expect(page.locator("main")).not_to_contain_text("Send the renewal offer")
    expect(page.locator("main")).to_contain_text("Renewal call")

    interaction = Interaction.objects.get(customer=customer, subject="Renewal call")
    attachment = Attachment.objects.get(interaction=interaction)
    assert attachment.sha256 == hashlib.sha256(PDF_BYTES).hexdigest() and attachment.size == len(PDF_BYTES)
    task = Task.objects.get(customer=customer, title="Send the renewal offer")
    assert task.status == Task.Status.DONE and task.due_at == due_today
    assert AuditEvent.objects.filter(action="pii.revealed", customer_id=customer.pk, actor=manager).exists()
    assert not csp_errors, csp_errors
    assert (BROWSER_ARTIFACTS / "dashboard.png").stat().st_size > 0
    assert (BROWSER_ARTIFACTS / "customer-360.png").stat().st_size > 0
    assert task.completed_at and task.completed_at - timezone.now() < dt.timedelta(minutes=5)
