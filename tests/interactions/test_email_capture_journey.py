"""Email capture end to end (issue 21, "Done when"): a real SMTP client (smtplib) delivers a
manager's BCC to the capture process (`manage.py run_email_capture`, aiosmtpd in its own process);
then, in Chromium, the email is on the right customer's timeline and nowhere else: not on the
manager's other customer's timeline, not waiting on their review list, not on the timeline of
another manager's customer who shares the recipient's address (a family mailbox), and that
manager cannot open the customer it was filed on (a 404). Screenshot:
test-artifacts/browser/email-capture-timeline.png.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from django.utils import timezone

from apps.interactions.models import CapturedEmail, Interaction
from tests.conftest import BROWSER_ARTIFACTS, sign_in
from tests.customers.factories import CustomerFactory
from tests.interactions.capture_process import CAPTURE, capture_process
from tests.notifications.realservices import wait_for
from tests.workspace.test_role_journeys import CSP_LISTENER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"  # tests.identity.factories.UserFactory's
SUBJECT = "Your fixed saver renewal terms"


@pytest.fixture
def mailbox_book(settings, manager, other_manager):  # type: ignore[no-untyped-def]
    settings.FINPULSE_ADMIN_REQUIRE_TOTP = False
    settings.FINPULSE_CAPTURE_ADDRESSES = [CAPTURE]
    anna = CustomerFactory(
        assigned_to=manager,
        branch=manager.branch,
        first_name="Anna",
        last_name="Rossi",
        email="anna.rossi@mail.example",
    )
    bystander = CustomerFactory(
        assigned_to=manager, branch=manager.branch, first_name="Bruno", last_name="Bianchi", email="bruno@mail.example"
    )
    # Another manager's customer with the same address: matched only within the sender's book.
    outsider = CustomerFactory(
        assigned_to=other_manager,
        branch=other_manager.branch,
        first_name="Carla",
        last_name="Rossi",
        email="anna.rossi@mail.example",
    )
    return anna, bystander, outsider


def _send_through_the_capture_process(manager, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with capture_process(tmp_path / "capture.log") as port:
        message = EmailMessage()
        message["From"] = f"{manager.get_full_name()} <{manager.email}>"
        message["To"] = "Anna Rossi <anna.rossi@mail.example>"
        message["Bcc"] = CAPTURE
        message["Subject"] = SUBJECT
        message["Date"] = format_datetime(timezone.now())
        message["Message-ID"] = make_msgid(domain="bank.example")
        message.set_content("Dear Anna, the new rate is 4.1% for twelve months.")
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            refused = smtp.send_message(message, from_addr=manager.email, to_addrs=[CAPTURE])
        assert refused == {}
        wait_for(
            lambda: CapturedEmail.objects.filter(status=CapturedEmail.Status.FILED).exists(),
            timeout=30,
            what="the captured email, filed",
        )


def _sign_in(page, base: str, user) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    sign_in(page, base, user.username, PASSWORD)
    expect(page.locator("h1")).to_contain_text("My day")


def _timeline(page, base: str, customer):  # type: ignore[no-untyped-def]
    """The customer's page with its timeline slot loaded (htmx), as the manager reads it."""
    from playwright.sync_api import expect

    response = page.goto(f"{base}/customers/{customer.pk}/")
    assert response is not None and response.status == 200
    timeline = page.locator(f"#customer-timeline-{customer.pk}")  # the slot, once htmx swapped it in
    expect(timeline.locator(".timeline-list")).to_contain_text("Customer record created")
    return timeline


def test_an_email_sent_by_smtp_lands_on_the_right_timeline_and_nowhere_else(
    live_server, chromium, mailbox_book, manager, other_manager, tmp_path
):
    from playwright.sync_api import expect

    anna, bystander, outsider = mailbox_book
    _send_through_the_capture_process(manager, tmp_path)

    (entry,) = Interaction.objects.filter(subject=SUBJECT)
    assert (entry.customer_id, entry.author_id, entry.channel) == (anna.pk, manager.pk, "email")
    BROWSER_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    csp: list[object] = []
    expect.set_options(timeout=15_000)
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.add_init_script(CSP_LISTENER)
    _sign_in(page, base, manager)

    timeline = _timeline(page, base, anna)
    expect(timeline).to_contain_text(SUBJECT)
    page.screenshot(path=str(BROWSER_ARTIFACTS / "email-capture-timeline.png"), full_page=True)
    csp += page.evaluate("window.__csp || []")

    expect(_timeline(page, base, bystander)).not_to_contain_text(SUBJECT)
    page.goto(f"{base}/interactions/captured/")  # filed, so not waiting for review
    expect(page.locator("main")).not_to_contain_text(SUBJECT)
    csp += page.evaluate("window.__csp || []")

    # The other manager, whose customer shares Anna's address: not on their customer's
    # timeline, not on their day, and Anna herself is outside their book.
    other = chromium.new_page(viewport={"width": 1366, "height": 900})
    _sign_in(other, base, other_manager)
    expect(other.locator("main")).not_to_contain_text(SUBJECT)
    expect(_timeline(other, base, outsider)).not_to_contain_text(SUBJECT)
    refused = other.goto(f"{base}/customers/{anna.pk}/")
    assert refused is not None and refused.status == 404
    assert SUBJECT not in other.content()
    assert csp == [], csp
