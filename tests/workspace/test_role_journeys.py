"""The first morning of each role in a real browser, on the demo bank after its first scan.

Issue #15's "Done when": one journey per role (relationship manager, branch manager,
compliance officer) on a fresh `seed_demo` book and a first alert scan: the dashboard, the
alerts, the tasks, a 360 page, search in four ways (a word of the name, the phone in another
format, the external id without its prefix, the email), a reveal with a reason, and what the
role may not do. Screenshots go to test-artifacts/browser/journey-<role>-<step>.png. No page may
raise a Content Security Policy violation on any htmx action.
"""

from __future__ import annotations

import re

import phonenumbers
import pytest
from django.core.management import call_command

from apps.core.models import AuditEvent
from apps.customers.visibility import visible_customers
from apps.demo.writers.identity import demo_password
from apps.identity.models import User
from tests.conftest import BROWSER_ARTIFACTS, sign_in
from tests.workspace.test_role_actions import write_actions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = {"relationship_manager": "rm.alice", "branch_manager": "bm.london", "compliance": "compliance.olivia"}
# Reports the page makes about itself when a policy blocks something (console) or the event.
CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture
def first_morning(settings):  # type: ignore[no-untyped-def]
    from io import StringIO

    from apps.alerts.scans import run_scans
    from apps.identity.roles import sync_role_permissions

    settings.FINPULSE_ADMIN_REQUIRE_TOTP = False
    sync_role_permissions()
    call_command("seed_demo", stdout=StringIO())
    run_scans()


def _national(phone: str) -> str:
    """The phone as a person in its country types it ('07700 900059' for '+44 7700 900059')."""
    number = phonenumbers.parse(phone, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _search(page, base: str, term: str):  # type: ignore[no-untyped-def]
    page.goto(f"{base}/customers/?q=")
    page.fill("input[name=q]", term)
    page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    return page.locator("#customer-results table a")


@pytest.mark.parametrize("role", list(ROLES))
def test_the_first_morning_of_each_role(role, first_morning, live_server, chromium):
    from playwright.sync_api import expect

    user = User.objects.get(username=ROLES[role])
    customer = (
        visible_customers(user=user)
        .filter(kind="individual", email_hint__gt="", phone_hint__gt="", holding_parties__isnull=False)
        .order_by("pk")
        .distinct()
        .first()
    )
    assert customer is not None, "the demo book gives every role a customer to open"
    BROWSER_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    console_csp: list[str] = []
    shots = []

    def shot(page, step: str) -> None:  # type: ignore[no-untyped-def]
        path = BROWSER_ARTIFACTS / f"journey-{role}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    def no_writes_for_compliance(page) -> None:  # type: ignore[no-untyped-def]
        if role == "compliance":
            assert write_actions(page.content()) == [], page.url

    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.add_init_script(CSP_LISTENER)
    page.on(
        "console",
        lambda m: console_csp.append(f"{page.url}: {m.text}") if "Content Security Policy" in m.text else None,
    )
    expect.set_options(timeout=15_000)

    # Sign in: the dashboard is the first thing a manager sees.
    sign_in(page, base, user.username, demo_password())
    expect(page.locator("h1")).to_contain_text("My day")
    expect(page.locator("#notification-bell")).to_be_visible()
    page.wait_for_load_state("networkidle")
    no_writes_for_compliance(page)
    shot(page, "1-dashboard")

    # Alerts: most urgent first, with a total.
    page.goto(f"{base}/alerts/")
    expect(page.locator("h1")).to_contain_text("Alerts")
    expect(page.locator("main")).to_contain_text(re.compile(r"\d+ alerts?"))
    no_writes_for_compliance(page)
    shot(page, "2-alerts")

    # Tasks.
    page.goto(f"{base}/tasks/")
    expect(page.locator("h1")).to_contain_text(re.compile("tasks", re.I))
    no_writes_for_compliance(page)
    shot(page, "3-tasks")

    # Search in four ways; each finds the customer.
    word = max(customer.display_name.split(), key=len)
    digits = re.sub(r"\D", "", customer.external_id).lstrip("0")
    terms = {
        "name-word": word,
        "phone": _national(customer.phone),
        "external-id": digits,
        "email": customer.email.upper(),
    }
    for how, term in terms.items():
        results = _search(page, base, term)
        expect(results.filter(has_text=customer.display_name).first).to_be_visible()
        if how == "name-word":
            shot(page, "4-search")

    # The 360 page, then a reveal: refused without a reason, shown with one.
    page.goto(f"{base}{customer.get_absolute_url()}")
    expect(page.locator("h1")).to_contain_text(customer.display_name)
    page.wait_for_load_state("networkidle")
    no_writes_for_compliance(page)
    shot(page, "5-customer")
    page.click("#pii button[value=email]")
    expect(page.locator("#pii")).to_contain_text("Give a reason")
    page.fill("#pii input[name=reason]", "First call of the day")
    page.click("#pii button[value=email]")
    expect(page.locator("#pii")).to_contain_text(customer.email)
    shot(page, "6-revealed")

    # What the role may not do.
    page.goto(f"{base}/portfolio/")
    if role == "branch_manager":
        expect(page.locator("h1")).to_be_visible()
    else:
        expect(page.locator("#forbidden")).to_contain_text("Only administrators and branch managers")
    page.goto(f"{base}/customers/999999/")
    expect(page.locator("#not-found")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("URLconf")

    csp = page.evaluate("window.__csp || []")

    event = AuditEvent.objects.filter(action="pii.revealed", actor=user, customer_id=customer.pk).get()
    assert event.metadata["reason"] == "First call of the day"
    assert csp == []
    assert all(path.stat().st_size > 10_000 for path in shots)
    assert console_csp == []  # htmx may not settle `style` attributes (base.html's htmx-config)
