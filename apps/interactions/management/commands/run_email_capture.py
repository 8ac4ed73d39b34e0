"""The capture address's SMTP endpoint: `manage.py run_email_capture` (the Procfile's `capture`).

A small aiosmtpd server. Only the allowed relays may connect (FINPULSE_CAPTURE_ALLOWED_PEERS),
only the capture addresses are accepted as recipients, and each message is handed to
apps.interactions.email_capture.capture_email in a worker thread. The SMTP answer says what
happened, so the relay keeps or bounces the message and nothing is lost: 250 once it is stored
(filed or waiting for review), 550 when the sender may not capture (spoofed, not a user),
451 on any other failure (the relay retries later).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import threading
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from apps.core.blind_index import normalise_email
from apps.core.errors import DomainError
from apps.interactions.email_capture import capture_addresses, capture_email

logger = logging.getLogger(__name__)


def _capture(envelope_from: str, raw: bytes) -> str:
    close_old_connections()
    try:
        result = capture_email(envelope_from=envelope_from, raw=raw)
        captured = result.captured
        return f"250 2.0.0 Captured ({captured.get_status_display().lower()})"
    except DomainError as error:
        return f"550 5.7.1 {error.message}"
    except Exception:
        logger.exception("Email capture failed; the relay will retry")
        return "451 4.3.0 Temporary failure, try again later"
    finally:
        close_old_connections()


def allowed_relays() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """FINPULSE_CAPTURE_ALLOWED_PEERS: addresses or networks (CIDR), e.g. the relay's subnet."""
    return [ipaddress.ip_network(peer.strip(), strict=False) for peer in settings.FINPULSE_CAPTURE_ALLOWED_PEERS]


def is_allowed_relay(host: str, relays: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])  # an IPv6 zone id is not part of the address
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
    return any(address in relay for relay in relays)


class CaptureHandler:
    def __init__(self) -> None:
        self.addresses = capture_addresses()
        self.relays = allowed_relays()

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if not session.peer or not is_allowed_relay(str(session.peer[0]), self.relays):
            logger.warning("Email capture refused a connection from a host that is not an allowed relay")
            return "554 5.7.1 Only the bank's mail relay may deliver here"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if normalise_email(address) not in self.addresses:
            return "550 5.1.1 Not a capture address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        return await asyncio.get_running_loop().run_in_executor(None, _capture, envelope.mail_from or "", raw)


def start_server(bind: str) -> Controller:
    host, _, port = bind.rpartition(":")
    controller = Controller(
        CaptureHandler(),
        hostname=host.strip("[]") or "127.0.0.1",
        port=int(port),
        data_size_limit=settings.FINPULSE_CAPTURE_MAX_BYTES,
        server_hostname="finpulse-capture",
    )
    controller.start()
    return controller


class Command(BaseCommand):
    help = "Serve the email capture address over SMTP until stopped (SIGTERM or Ctrl-C)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=None, help="host:port (default FINPULSE_CAPTURE_BIND)")

    def handle(self, *args: Any, **options: Any) -> None:
        bind = options["bind"] or settings.FINPULSE_CAPTURE_BIND
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        controller = start_server(bind)
        self.stdout.write(f"Email capture listening on {bind} for {', '.join(sorted(capture_addresses()))}")
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            controller.stop()
