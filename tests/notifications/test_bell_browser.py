"""The notification bell in a real browser: compact, with its unread count, and the top bar
keeps one row at 1280px and 1024px whatever the count (screenshots in test-artifacts/browser/)."""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.identity import roles
from apps.notifications.models import Channel, Kind
from apps.notifications.services import build_user_notifications, enqueue_notifications
from tests.conftest import BROWSER_ARTIFACTS, sign_in
from tests.identity.factories import BranchFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
ONE_ROW = """() => {
  const bar = document.querySelector('header.topbar');
  const middles = [...bar.children].filter(e => e.offsetParent !== null).map(e => {
    const box = e.getBoundingClientRect();
    return box.top + box.height / 2;
  });
  return {height: bar.getBoundingClientRect().height, spread: Math.max(...middles) - Math.min(...middles)};
}"""


@pytest.fixture
def busy_manager(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_ADMIN_REQUIRE_TOTP = False
    manager = UserFactory(
        username="rm.bell",
        first_name="Maximiliana",
        last_name="Featherstonehaugh-Worthington",
        roles=[roles.RELATIONSHIP_MANAGER],
        branch=BranchFactory(code="LDN98", name="London Bell"),
    )
    with transaction.atomic():
        rows = []
        for i in range(150):
            rows += build_user_notifications(
                user_id=manager.pk,
                channels_on=[Channel.IN_APP],
                kind=Kind.MATURITY,
                obj=f"accounts.holding:{i}",
                threshold=7,
                on="2026-03-02",
                subject=f"Fixed saver {i} of Ada Lowther matures in 7 days",
                body="Offer a renewal.",
                url="/customers/1/",
            )
        enqueue_notifications(rows)
    return manager


def test_the_bell_is_compact_shows_the_count_and_never_wraps_the_top_bar(live_server, chromium, busy_manager):
    from playwright.sync_api import expect

    BROWSER_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    expect.set_options(timeout=10_000)
    sign_in(page, live_server.url, busy_manager.username, PASSWORD)
    for width in (1280, 1024):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{live_server.url}/")
        count = page.locator("#notification-bell .bell__count")
        expect(count).to_have_text("99+")
        expect(page.locator("#notification-bell summary")).to_have_attribute("aria-label", "Notifications: 150 unread")
        with_bell = page.evaluate(ONE_ROW)
        bell = page.locator("#notification-bell summary").bounding_box()
        page.screenshot(
            path=str(BROWSER_ARTIFACTS / f"bell-{width}.png"),
            clip={"x": 0, "y": 0, "width": width, "height": 200},
        )

        # Open: the latest few float under the bell; the bar does not move.
        page.click("#notification-bell summary")
        expect(page.locator(".bell__panel")).to_be_visible()
        expect(page.locator(".bell__latest li")).to_have_count(5)
        opened = page.evaluate(ONE_ROW)
        page.screenshot(
            path=str(BROWSER_ARTIFACTS / f"bell-open-{width}.png"),
            clip={"x": 0, "y": 0, "width": width, "height": 500},
        )

        page.evaluate("() => document.getElementById('notification-bell').remove()")
        without_bell = page.evaluate(ONE_ROW)

        assert with_bell["spread"] < 4, (width, with_bell)
        assert with_bell["height"] == without_bell["height"] == opened["height"], (
            width,
            with_bell,
            without_bell,
        )
        assert with_bell["height"] < 64, (width, with_bell)
        assert bell["width"] <= 90 and bell["height"] <= 40, (width, bell)
