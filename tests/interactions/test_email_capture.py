"""Email capture: BCC'd and forwarded emails land on the right customer's timeline, only within the
sending manager's book; unmatched mail waits on the manager's review list; spoofed senders are
refused. The last test sends through a real SMTP client to the capture process."""

from __future__ import annotations

import datetime as dt
import smtplib
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.interactions.email_capture import CaptureRefused, capture_email
from apps.interactions.management.commands.run_email_capture import allowed_relays, is_allowed_relay
from apps.interactions.models import CapturedEmail, Interaction
from tests.customers.factories import CustomerFactory
from tests.interactions.capture_process import CAPTURE, capture_process
from tests.interactions.factories import PDF_BYTES
from tests.notifications.realservices import wait_for


@pytest.fixture(autouse=True)
def _capture_address(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_CAPTURE_ADDRESSES = [CAPTURE]


def _email(
    *, sender: str, to: list[str], subject: str = "Your deposit", body: str = "Dear Anna, as discussed."
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Bcc"] = CAPTURE
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now() - dt.timedelta(minutes=5))
    message["Message-ID"] = make_msgid(domain="bank.example")
    message.set_content(body)
    return message


@pytest.fixture
def anna(manager):  # type: ignore[no-untyped-def]
    return CustomerFactory(assigned_to=manager, branch=manager.branch, email="anna.rossi@mail.example")


@pytest.fixture
def outsider(other_manager):  # type: ignore[no-untyped-def]
    """Another manager's customer who shares Anna's address (a family mailbox)."""
    return CustomerFactory(assigned_to=other_manager, branch=other_manager.branch, email="anna.rossi@mail.example")


def test_a_bcc_lands_on_the_recipients_timeline_with_its_attachment(manager, anna):
    message = _email(sender=manager.email, to=["Anna Rossi <Anna.Rossi@mail.example>"])
    message.add_attachment(PDF_BYTES, maintype="application", subtype="pdf", filename="offer.pdf")

    result = capture_email(envelope_from=manager.email, raw=message.as_bytes())

    (entry,) = Interaction.objects.filter(customer=anna)
    assert (entry.channel, entry.subject, entry.author) == ("email", "Your deposit", manager)
    assert entry.body == "Dear Anna, as discussed."
    assert [a.original_name for a in entry.attachments.all()] == ["offer.pdf"]
    assert result.captured.status == CapturedEmail.Status.FILED
    assert list(result.captured.interactions.all()) == [entry]
    assert AuditEvent.objects.filter(action="email.captured").count() == 1


def test_only_the_senders_book_is_matched(manager, anna, outsider):
    capture_email(envelope_from=manager.email, raw=_email(sender=manager.email, to=[anna.email]).as_bytes())

    assert Interaction.objects.filter(customer=anna).count() == 1
    assert not Interaction.objects.filter(customer=outsider).exists()


def test_a_forward_is_about_the_original_sender_not_the_recipients(manager, anna):
    original = _email(sender="Anna Rossi <anna.rossi@mail.example>", to=[manager.email], subject="Question")
    forward = _email(sender=manager.email, to=[CAPTURE], subject="Fwd: Question", body="See below.")
    forward.add_attachment(original)
    inline = _email(
        sender=manager.email,
        to=[CAPTURE],
        subject="WG: Frage",
        body="---------- Forwarded message ---------\nVon: Anna Rossi <anna.rossi@mail.example>\nHallo",
    )

    capture_email(envelope_from=manager.email, raw=forward.as_bytes())
    capture_email(envelope_from=manager.email, raw=inline.as_bytes())

    assert sorted(Interaction.objects.filter(customer=anna).values_list("subject", flat=True)) == [
        "Fwd: Question",
        "WG: Frage",
    ]


def test_a_refused_attachment_is_named_not_kept(manager, anna):
    message = _email(sender=manager.email, to=[anna.email])
    message.add_attachment(b"MZ\x90\x00binary", maintype="application", subtype="pdf", filename="invoice.pdf")

    capture_email(envelope_from=manager.email, raw=message.as_bytes())

    entry = Interaction.objects.get(customer=anna)
    assert not entry.attachments.exists()
    assert "“invoice.pdf” was refused" in entry.body


@pytest.mark.parametrize(
    ("envelope", "header"),
    [
        ("stranger@evil.example", "stranger@evil.example"),  # not a FinPulse user
        ("stranger@evil.example", "{manager}"),  # a user's address in From, another envelope
    ],
)
def test_a_spoofed_or_unknown_sender_is_refused_and_nothing_is_written(manager, anna, envelope, header):
    sender = header.format(manager=manager.email)

    with pytest.raises(CaptureRefused):
        capture_email(envelope_from=envelope, raw=_email(sender=sender, to=[anna.email]).as_bytes())

    assert not Interaction.objects.exists()
    assert not CapturedEmail.objects.exists()


def test_compliance_cannot_capture(compliance_officer, anna):
    with pytest.raises(CaptureRefused):
        raw = _email(sender=compliance_officer.email, to=[anna.email]).as_bytes()
        capture_email(envelope_from=compliance_officer.email, raw=raw)


def test_the_same_email_twice_is_captured_once(manager, anna):
    raw = _email(sender=manager.email, to=[anna.email]).as_bytes()

    first = capture_email(envelope_from=manager.email, raw=raw)
    again = capture_email(envelope_from=manager.email, raw=raw)

    assert again.duplicate and again.captured.pk == first.captured.pk
    assert Interaction.objects.filter(customer=anna).count() == 1


def test_unmatched_mail_waits_for_review_and_is_filed_from_the_page(client, manager, anna, outsider):
    raw = _email(sender=manager.email, to=["someone.new@mail.example"], subject="Intro").as_bytes()
    captured = capture_email(envelope_from=manager.email, raw=raw).captured
    waiting_before = (captured.status, Interaction.objects.count())
    client.force_login(manager)

    page = client.get(reverse("interactions:captured")).content.decode()
    wrong = client.post(
        reverse("interactions:captured_file", args=[captured.pk]),
        {f"captured-{captured.pk}-customer": outsider.external_id},
    )
    filed = client.post(
        reverse("interactions:captured_file", args=[captured.pk]),
        {f"captured-{captured.pk}-customer": anna.external_id},
    )

    assert waiting_before == (CapturedEmail.Status.UNMATCHED, 0)
    assert "Intro" in page and "someone.new@mail.example" not in page  # masked hint only
    assert wrong.status_code == 400 and "None of your customers has this customer number." in wrong.content.decode()
    assert filed.status_code == 302
    assert Interaction.objects.get(customer=anna).subject == "Intro"
    captured.refresh_from_db()
    assert (captured.status, captured.storage_path) == (CapturedEmail.Status.FILED, "")
    assert not Interaction.objects.filter(customer=outsider).exists()


def test_another_managers_waiting_email_is_a_404(client, manager, other_manager):
    raw = _email(sender=other_manager.email, to=["someone.new@mail.example"], subject="Private").as_bytes()
    captured = capture_email(envelope_from=other_manager.email, raw=raw).captured
    client.force_login(manager)

    assert "Private" not in client.get(reverse("interactions:captured")).content.decode()
    assert client.post(reverse("interactions:captured_discard", args=[captured.pk])).status_code == 404
    captured.refresh_from_db()
    assert captured.status == CapturedEmail.Status.UNMATCHED


@pytest.mark.django_db(transaction=True)
def test_a_real_smtp_client_delivers_to_the_capture_process(manager, anna, outsider, tmp_path):
    with capture_process(tmp_path / "capture.log") as port:
        spoofed = _email(sender="stranger@evil.example", to=[anna.email]).as_bytes()
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            with pytest.raises(smtplib.SMTPRecipientsRefused):  # only the capture address is taken
                smtp.sendmail(manager.email, ["someone@bank.example"], b"Subject: x\r\n\r\nx")
            with pytest.raises(smtplib.SMTPDataError) as refused:
                smtp.sendmail("stranger@evil.example", [CAPTURE], spoofed)
            assert refused.value.smtp_code == 550
            message = _email(sender=manager.email, to=[anna.email], subject="Sent by SMTP")
            smtp.send_message(message, from_addr=manager.email, to_addrs=[CAPTURE])

        entry = wait_for(lambda: Interaction.objects.filter(customer=anna).first(), timeout=30, what="the interaction")
        assert entry.subject == "Sent by SMTP"
        assert not Interaction.objects.filter(customer=outsider).exists()
        assert Interaction.objects.count() == 1


# --- who may deliver: the relay's addresses or networks ---------------------------------------


@pytest.mark.parametrize(
    ("peer", "allowed"),
    [
        ("10.20.5.10", True),  # inside the relay's network
        ("10.20.6.1", False),
        ("::ffff:10.20.5.99", True),  # an IPv4 relay seen through a dual-stack socket
        ("127.0.0.1", True),
        ("::1", False),
        ("not-an-address", False),
    ],
)
def test_only_the_relays_addresses_and_networks_may_deliver(settings, peer, allowed):
    settings.FINPULSE_CAPTURE_ALLOWED_PEERS = ["10.20.5.0/24", "127.0.0.1"]

    assert is_allowed_relay(peer, allowed_relays()) is allowed


@pytest.mark.django_db(transaction=True)
def test_the_capture_process_refuses_a_host_outside_the_relays_network(tmp_path):
    with capture_process(tmp_path / "capture.log", FINPULSE_CAPTURE_ALLOWED_PEERS="10.20.5.0/24") as port:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo()
            code, _ = smtp.mail("someone@bank.example")
        assert code == 554
        assert CapturedEmail.objects.count() == 0
