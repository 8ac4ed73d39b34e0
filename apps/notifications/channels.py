"""Delivery channels: email (Django's email backend), SMS (pluggable backend), in-app.

A channel raises `TransientDeliveryError` when trying again later may work (server down,
timeout, 5xx) and `PermanentDeliveryError` when it will not (gateway rejected the request).
The outbox's dedupe key travels with every message (Message-ID, gateway idempotency key),
so a receiver can drop the duplicate that at-least-once delivery may produce after a crash
between "the server accepted it" and "we recorded it".
"""

from __future__ import annotations

import hashlib
import smtplib
import sys
from email.mime.text import MIMEText
from typing import Protocol

import requests
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

from apps.core.masking import mask_phone


class TransientDeliveryError(Exception):
    """Try again later."""


class PermanentDeliveryError(Exception):
    """Trying again will not help."""


def message_id_for(dedupe_key: str) -> str:
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]
    return f"<{digest}@finpulse.notifications>"


def send_email(
    *,
    to: str,
    subject: str,
    body: str,
    dedupe_key: str,
    message_id: str = "",
    calendar: str = "",
    calendar_method: str = "",
) -> None:
    """Send one email; `calendar` (an iCalendar text) goes as a text/calendar attachment with its
    iTIP method, which mail clients show as an invitation to accept or decline."""
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": message_id or message_id_for(dedupe_key), "Auto-Submitted": "auto-generated"},
    )
    if calendar:
        method = calendar_method or "PUBLISH"
        name = "cancel.ics" if method == "CANCEL" else "invite.ics"
        part = MIMEText(calendar, "calendar", "utf-8")
        part.set_param("method", method)
        part.add_header("Content-Disposition", "attachment", filename=name)
        message.attach(part)
    try:
        message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentDeliveryError("The mail server refused the recipient.") from error
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            raise PermanentDeliveryError(f"The mail server refused the message (SMTP {error.smtp_code}).") from error
        raise TransientDeliveryError(f"The mail server deferred the message (SMTP {error.smtp_code}).") from error
    except (TimeoutError, smtplib.SMTPException, OSError) as error:
        raise TransientDeliveryError(f"The mail server could not be reached ({type(error).__name__}).") from error


class SmsBackend(Protocol):
    def send(self, *, to: str, text: str, idempotency_key: str) -> None: ...


class ConsoleSmsBackend:
    """Development: print the SMS (number masked) instead of sending it."""

    def send(self, *, to: str, text: str, idempotency_key: str) -> None:
        sys.stdout.write(f"SMS to {mask_phone(to)} [{idempotency_key[:12]}]: {text}\n")
        sys.stdout.flush()


class HttpSmsGatewayBackend:
    """POST {"to", "text", "reference"} as JSON to FINPULSE_SMS_GATEWAY_URL.

    The dedupe key is sent as `reference` and as the Idempotency-Key header, so a gateway that
    honours it sends a redelivered message once.
    """

    timeout = 10.0

    def send(self, *, to: str, text: str, idempotency_key: str) -> None:
        url = settings.FINPULSE_SMS_GATEWAY_URL
        if not url.startswith(("http://", "https://")):
            raise PermanentDeliveryError("FINPULSE_SMS_GATEWAY_URL is not set to an http(s) URL.")
        headers = {"Idempotency-Key": idempotency_key}
        if settings.FINPULSE_SMS_GATEWAY_TOKEN:
            headers["Authorization"] = f"Bearer {settings.FINPULSE_SMS_GATEWAY_TOKEN}"
        try:
            response = requests.post(
                url,
                json={"to": to, "text": text, "reference": idempotency_key},
                headers=headers,
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise TransientDeliveryError(f"The SMS gateway could not be reached ({type(error).__name__}).") from error
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise TransientDeliveryError(f"The SMS gateway answered {response.status_code}.")
        if response.status_code >= 400:
            raise PermanentDeliveryError(f"The SMS gateway rejected the message ({response.status_code}).")


def sms_backend() -> SmsBackend:
    return import_string(settings.FINPULSE_SMS_BACKEND)()


def send_sms(*, to: str, text: str, dedupe_key: str) -> None:
    sms_backend().send(to=to, text=text, idempotency_key=hashlib.sha256(dedupe_key.encode()).hexdigest())
