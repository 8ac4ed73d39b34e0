"""Every main journey works on a phone (issue #21 item 6): Chromium at 390 x 844, in English and Italian.

Sign in, the dashboard, the customer list (filter, open a customer), the 360 page, logging an
interaction, creating and completing a task, alerts, notifications and the book report. On every
page: nothing is wider than the screen (document.documentElement.scrollWidth <= innerWidth), a
table either fits or scrolls inside its own box, the navigation opens from the menu button, and
every button, field and menu link is at least 44 px high (WCAG 2.5.5; check boxes 24 px).
Screenshots go to var/phone/ for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from apps.alerts.models import Alert
from apps.alerts.scans import run_scans
from apps.identity import roles
from apps.interactions.models import Interaction
from apps.notifications.models import Channel, Kind
from apps.notifications.services import build_user_notifications, enqueue_notifications
from apps.tasks.models import Task
from tests.alerts.support import TODAY, customer, deposit, deposit_product
from tests.identity.factories import BranchFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "phone"

# What does not fit a phone: the page's own width, tables that neither fit nor scroll in a box
# of their own, and tap targets smaller than a finger.
LAYOUT_PROBLEMS = """
() => {
  const width = window.innerWidth;
  const shown = el => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !el.closest('.visually-hidden, [hidden]');
  };
  const scrollsItself = el => {
    for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      const o = getComputedStyle(box).overflowX;
      if ((o === 'auto' || o === 'scroll') && box.getBoundingClientRect().right <= width + 0.5) return true;
    }
    return false;
  };
  const tables = [...document.querySelectorAll('table')].filter(shown)
    .filter(t => t.getBoundingClientRect().right > width + 0.5 && !scrollsItself(t))
    .map(t => (t.querySelector('caption') || t).textContent.trim().slice(0, 60));
  const targets = [...document.querySelectorAll(
    'button, a.button, select, input:not([type=hidden]), textarea, summary, #main-nav a, .tabs a, .pager a,'
    + ' .task-actions > a, .page-actions a, .more a')]
    .filter(shown)
    .filter(el => {
      const r = el.getBoundingClientRect();
      const small = el.matches('input[type=checkbox], input[type=radio]') ? 24 : 44;
      return r.height < small - 0.5 || r.width < 24;
    })
    .map(el => {
      const r = el.getBoundingClientRect();
      const name = (el.textContent || el.name || '').trim().slice(0, 30);
      const tag = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
      return `${tag} "${name}" ${Math.round(r.width)}x${Math.round(r.height)}`;
    });
  const wide = [...document.querySelectorAll('body *')].filter(shown)
    .filter(el => el.getBoundingClientRect().right > width + 0.5 && !scrollsItself(el))
    .slice(0, 5).map(el => `${el.tagName.toLowerCase()}.${el.className}`);
  return {
    scrollWidth: document.documentElement.scrollWidth, innerWidth: width, tables, targets, wide,
  };
}
"""


@pytest.fixture
def book(settings):  # type: ignore[no-untyped-def]
    """A manager with a customer whose deposit matures in a week (an alert), a notification and a task."""
    settings.FINPULSE_ADMIN_REQUIRE_TOTP = False
    settings.FINPULSE_BUSINESS_DATE = TODAY.isoformat()
    settings.FINPULSE_MATURITY_THRESHOLDS = {"deposit": [30, 7, 1]}
    manager = UserFactory(
        username="rm.phone",
        first_name="Giulia",
        last_name="Lombardi-Featherstonehaugh",
        roles=[roles.RELATIONSHIP_MANAGER],
        branch=BranchFactory(code="MIL01", name="Milano Centro"),
    )
    penelope = customer(manager, first_name="Penelope", last_name="Ashcroft", segment="affluent")
    deposit(penelope, deposit_product(), 7, balance=Decimal("1234567.89"))
    customer(manager, first_name="Arthur", last_name="Bellweather")
    run_scans(only={"maturity"})
    with transaction.atomic():
        enqueue_notifications(
            build_user_notifications(
                user_id=manager.pk,
                channels_on=[Channel.IN_APP],
                kind=Kind.MATURITY,
                obj="accounts.holding:phone",
                threshold=7,
                on=TODAY.isoformat(),
                subject="A term deposit of Penelope Ashcroft matures in 7 days",
                body="Offer a renewal before the maturity date.",
                url=penelope.get_absolute_url(),
            )
        )
    return manager, penelope


def _check(page: Any, name: str, language: str) -> None:
    """The page as a phone shows it: fits, tables scroll in their box, targets are finger-sized."""
    page.wait_for_load_state("networkidle")
    found = page.evaluate(LAYOUT_PROBLEMS)
    page.screenshot(path=str(SCREENSHOTS / f"{language}-{name}.png"), full_page=True)
    assert found["scrollWidth"] <= found["innerWidth"], (name, found)
    assert found["tables"] == [], (name, found["tables"])
    assert found["targets"] == [], (name, found["targets"])


def _open_menu_and_go(page: Any, href: str) -> None:
    """The links are behind the menu button on a phone; open it, check the links fit, follow one."""
    from playwright.sync_api import expect

    button = page.locator("button.menu-button")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#main-nav")).to_be_hidden()
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    link = page.locator(f"#main-nav a[href='{href}']")
    expect(link).to_be_visible()
    for box in page.locator("#main-nav a").evaluate_all("links => links.map(a => a.getBoundingClientRect().right)"):
        assert box <= PHONE["width"]
    link.click()


@pytest.mark.parametrize("language", ["en-gb", "it"])
def test_the_main_journeys_work_at_phone_width(live_server, chromium, book, language):
    from playwright.sync_api import expect

    manager, penelope = book
    base = live_server.url
    italian = language == "it"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    due = timezone.localtime().replace(hour=23, minute=30, second=0, microsecond=0) + dt.timedelta(days=1)

    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    page = context.new_page()
    expect.set_options(timeout=15_000)

    # Sign in; the Italian run picks Italian from the footer first (set_language, remembered).
    page.goto(f"{base}/accounts/login/")
    if italian:
        page.locator("footer .language-switch button[value='it']").click()
        expect(page.locator("h1")).to_have_text("Accedi a FinPulse")
    _check(page, "sign-in", language)
    page.fill("#id_username", manager.username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("La mia giornata" if italian else "My day")
    _check(page, "dashboard", language)

    # The customer list through the menu; filter by segment, then search and open one.
    _open_menu_and_go(page, "/customers/")
    expect(page.locator("#customer-results table")).to_be_visible()
    _check(page, "customer-list", language)
    page.select_option("#id_segment", "affluent")
    expect(page.locator("#customer-results")).not_to_contain_text("Bellweather")
    with page.expect_response(lambda response: "q=Ashcroft" in response.url):
        page.fill("#id_q", "Ashcroft")  # the list searches as the manager types
    # Its history entry is written after the rows: a tap on a result before it is cancelled.
    expect(page).to_have_url(re.compile(r"[?&]q=Ashcroft"))
    results = page.locator("#customer-results table a", has_text="Penelope Ashcroft")
    expect(results).to_have_count(1)
    _check(page, "customer-list-filtered", language)
    results.click()

    # The 360 page: amounts and dates in the language, the holdings table in its own box.
    expect(page.locator("h1")).to_have_text("Penelope Ashcroft")
    holdings = page.locator("#holdings")
    expect(holdings).to_contain_text("1.234.567,89\u00a0GBP" if italian else "GBP\u00a01,234,567.89")
    expect(page.locator("#customer-timeline")).to_have_count(0)  # the slot has loaded its fragment
    _check(page, "customer-360", language)

    # Log an interaction.
    page.locator(".page-actions a.button").first.click()
    form = page.locator(f"#interaction-form-{penelope.pk}")
    form.locator("select[name=channel]").select_option("phone")
    form.locator("input[name=subject]").fill("Renewal call from the phone")
    form.locator("textarea[name=body]").fill("Discussed the renewal of the deposit.")
    _check(page, "log-interaction", language)
    form.locator("button[type=submit]").click()
    expect(page.locator(f"#customer-timeline-{penelope.pk}")).to_contain_text("Renewal call from the phone")
    assert Interaction.objects.filter(customer=penelope, subject="Renewal call from the phone").exists()

    # Create a task, then complete it.
    tasks = page.locator(f"#customer-tasks-{penelope.pk}")
    tasks.locator("input[name=title]").fill("Send the renewal offer")
    tasks.locator("input[name=due_at]").fill(due.strftime("%Y-%m-%dT%H:%M"))
    tasks.locator("form.stacked button[type=submit]").click()
    row = tasks.locator(".task-row", has_text="Send the renewal offer")
    expect(row).to_be_visible()
    _check(page, "customer-360-task", language)
    row.locator("input[name=outcome]").fill("Offer sent")
    row.locator("form.inline button[type=submit]").click()
    expect(tasks.locator(".task-row", has_text="Send the renewal offer")).to_have_count(0)
    assert Task.objects.get(title="Send the renewal offer").status == Task.Status.DONE

    # Alerts, notifications (the bell's panel too) and the book report.
    _open_menu_and_go(page, "/alerts/")
    expect(page.locator("#alert-total")).to_contain_text("1 avviso" if italian else "1 alert")
    _check(page, "alerts", language)
    assert Alert.objects.filter(customer=penelope).count() == 1

    page.goto(f"{base}/notifications/")
    expect(page.locator("h1")).to_have_text("Notifiche" if italian else "Notifications")
    _check(page, "notifications", language)
    page.locator(".bell__button").click()
    panel = page.locator(".bell__panel")
    expect(panel).to_be_visible()
    left, right = panel.evaluate("p => [p.getBoundingClientRect().left, p.getBoundingClientRect().right]")
    assert left >= 0 and right <= PHONE["width"]
    page.screenshot(path=str(SCREENSHOTS / f"{language}-bell.png"))

    _open_menu_and_go(page, "/reports/book/")
    expect(page.locator("h1")).to_have_text("Il mio portafoglio" if italian else "My book")
    _check(page, "book-report", language)

    # A wide table (the maturity ladder) scrolls inside its box, not the page.
    ladder = page.locator("#ladder .table-scroll")
    sizes = ladder.evaluate("box => [box.scrollWidth, box.clientWidth]")
    assert sizes[1] <= PHONE["width"]
