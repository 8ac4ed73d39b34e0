"""Email capture: a manager BCCs or forwards a customer email to the capture address, and it lands
on that customer's timeline without retyping.

Who may capture: the message's From must be an active FinPulse user, and the SMTP envelope
sender must be the same address; anything else is refused as spoofed (the SMTP server answers
550 and nothing is written). The capture server accepts connections only from the bank's mail
relay (FINPULSE_CAPTURE_ALLOWED_PEERS), which authenticates senders (SPF/DKIM/DMARC) before it
relays: this module trusts the relay for that, and trusts nothing in the message beyond it.

Which customers: a forwarded email is about its original sender (the attached message, or the
"From:" line of an inline forward); a BCC'd email is about its To and Cc recipients. Addresses
are matched through the email blind index, within the sending manager's book only
(apps.customers.visibility): a customer outside that book is never matched, never named.
A match logs one email interaction per customer (apps.interactions.services.log_interaction,
audited), with the attachments that pass the same checks as uploads; refused attachments are
named in the entry, not kept. No match leaves the email on the manager's review list, from where
they file it to a customer of theirs or discard it.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.html import strip_tags

from apps.core.audit import record_audit_event
from apps.core.blind_index import blind_index, normalise_email
from apps.core.errors import DomainError, NotFound
from apps.core.masking import mask_email
from apps.core.text_limits import NOTE_MAX_LENGTH
from apps.customers.models import Customer
from apps.customers.visibility import may_edit_customers, visible_customers
from apps.interactions import files
from apps.interactions.models import CapturedEmail, Interaction
from apps.interactions.services import log_interaction

if TYPE_CHECKING:
    import datetime as dt

    from apps.identity.models import User

SUBJECT_MAX = 200
# At most this many customers are filed from one email (a newsletter to the whole book is not a
# conversation); more matches go to the review list instead.
MAX_CUSTOMERS_PER_EMAIL = 10
_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|fw|wg|tr|rv|i|inoltro)\s*:", re.IGNORECASE)
_FORWARDED_FROM = re.compile(r"^\s*(?:>\s*)?(?:from|von|de|da)\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)


class CaptureRefused(DomainError):
    """The sender may not capture (not a FinPulse user, or the envelope and From disagree)."""

    status = 403
    code = "capture_refused"
    title = "Capture refused"


@dataclass
class ParsedEmail:
    sender: str
    subject: str
    sent_at: dt.datetime
    message_key: str
    body: str
    about: list[str]
    attachments: list[SimpleUploadedFile] = field(default_factory=list)


def _addresses(values: list[str]) -> list[str]:
    return [normalise_email(address) for _, address in email.utils.getaddresses(values) if "@" in address]


def _text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = part.get_content()
    return strip_tags(text) if part.get_content_type() == "text/html" else text


def _forwarded_senders(message: EmailMessage, body: str) -> list[str]:
    """The original sender of a forward: the attached message's From, else the inline header."""
    for part in message.walk():
        if part.get_content_type() == "message/rfc822":
            inner = part.get_content()  # the attached message itself
            return _addresses([str(inner.get("From", ""))]) if isinstance(inner, EmailMessage) else []
    if _FORWARD_SUBJECT.match(str(message.get("Subject", ""))):
        found = _FORWARDED_FROM.search(body)
        if found:
            return _addresses([found.group(1)])
    return []


def _bytes_of(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)  # the transfer encoding undone
    return payload if isinstance(payload, bytes) else b""


def parse(raw: bytes, *, capture_addresses: set[str]) -> ParsedEmail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage):  # policy.default always builds one
        raise DomainError("The email could not be read.")
    senders = _addresses([str(message.get("From", ""))])
    body = _text_of(message)
    about = _forwarded_senders(message, body) or _addresses(
        [str(v) for v in (message.get_all("To") or []) + (message.get_all("Cc") or [])]
    )
    sender = senders[0] if senders else ""
    about = list(dict.fromkeys(a for a in about if a not in capture_addresses and a != sender))
    try:
        sent_at = email.utils.parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        sent_at = None
    now = timezone.now()
    sent_at = min(sent_at, now) if sent_at and sent_at.tzinfo else now
    message_id = str(message.get("Message-ID", "")).strip() or hashlib.sha256(raw).hexdigest()
    attachments = [
        SimpleUploadedFile(part.get_filename() or "attachment", _bytes_of(part), part.get_content_type())
        for part in message.iter_attachments()
        if part.get_content_type() != "message/rfc822"
    ]
    subject = " ".join(str(message.get("Subject", "")).split())[:SUBJECT_MAX] or "(no subject)"
    return ParsedEmail(
        sender=sender,
        subject=subject,
        sent_at=sent_at,
        message_key=hashlib.sha256(message_id.encode()).hexdigest(),
        body=body.strip(),
        about=about,
        attachments=attachments,
    )


def capture_addresses() -> set[str]:
    return {normalise_email(a) for a in settings.FINPULSE_CAPTURE_ADDRESSES}


def sender_user(*, envelope_from: str, parsed: ParsedEmail) -> User:
    """The FinPulse user who sent it, or CaptureRefused: a spoofed or unknown sender writes nothing."""
    if not parsed.sender or normalise_email(envelope_from or "") != parsed.sender:
        raise CaptureRefused("The envelope sender and the From address differ.")
    user = get_user_model().objects.filter(email__iexact=parsed.sender, is_active=True).first()
    if user is None:
        raise CaptureRefused("The sender is not a FinPulse user.")
    if not may_edit_customers(user):
        raise CaptureRefused("The sender's role cannot log interactions.")
    return user


def _matching_customers(user: User, addresses: list[str]) -> list[Customer]:
    indexes = [blind_index("email", address) for address in addresses]
    if not indexes:
        return []
    return list(
        visible_customers(user=user).filter(email_index__in=indexes).order_by("pk")[: MAX_CUSTOMERS_PER_EMAIL + 1]
    )


def _kept_attachments(parsed: ParsedEmail) -> tuple[list[SimpleUploadedFile], list[str]]:
    """Attachments through the upload checks, one by one: a refused file is named, not kept."""
    kept: list[SimpleUploadedFile] = []
    refused: list[str] = []
    for upload in parsed.attachments:
        if len(kept) >= files.MAX_FILES:
            refused.append(f"“{files.clean_name(upload.name)}” was not kept: at most {files.MAX_FILES} files.")
            continue
        try:
            files.check_upload(upload, max_bytes=settings.FINPULSE_ATTACHMENT_MAX_BYTES)
        except DomainError as error:
            refused.append(error.message)
        else:
            kept.append(upload)
    return kept, refused


def _log_on(user: User, customers: list[Customer], parsed: ParsedEmail) -> list[Interaction]:
    kept, refused = _kept_attachments(parsed)
    body = parsed.body
    if refused:
        body = f"{body}\n\n" + "\n".join(refused)
    if len(body) > NOTE_MAX_LENGTH:
        body = body[: NOTE_MAX_LENGTH - 40].rstrip() + "\n[… the email was longer; shortened]"
    return [
        log_interaction(
            actor=user,
            customer=customer,
            channel=Interaction.Channel.EMAIL,
            subject=parsed.subject,
            occurred_at=parsed.sent_at,
            body=body,
            attachments=kept,
        )
        for customer in customers
    ]


@dataclass(frozen=True)
class CaptureResult:
    captured: CapturedEmail
    duplicate: bool = False


@transaction.atomic
def capture_email(*, envelope_from: str, raw: bytes) -> CaptureResult:
    """File one email from the capture address; idempotent per manager and Message-ID."""
    parsed = parse(raw, capture_addresses=capture_addresses())
    user = sender_user(envelope_from=envelope_from, parsed=parsed)
    existing = CapturedEmail.objects.filter(owner=user, message_key=parsed.message_key).first()
    if existing is not None:
        return CaptureResult(existing, duplicate=True)
    customers = _matching_customers(user, parsed.about)
    filed = 0 < len(customers) <= MAX_CUSTOMERS_PER_EMAIL
    captured = CapturedEmail(
        owner=user,
        message_key=parsed.message_key,
        status=CapturedEmail.Status.FILED if filed else CapturedEmail.Status.UNMATCHED,
        subject=parsed.subject,
        correspondents_hint=", ".join(mask_email(a) for a in parsed.about)[:300],
        sent_at=parsed.sent_at,
    )
    if not filed:
        captured.storage_path = default_storage.save(
            f"captured/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}.eml", ContentFile(raw)
        )
    try:
        with transaction.atomic():
            captured.save()
    except IntegrityError:  # the same email arrived twice at once: the first one wins
        if captured.storage_path:
            files.remove([captured.storage_path])
        return CaptureResult(CapturedEmail.objects.get(owner=user, message_key=parsed.message_key), duplicate=True)
    if filed:
        captured.interactions.set(_log_on(user, customers, parsed))
    record_audit_event(
        actor=user,
        action="email.captured",
        target=captured,
        metadata={"status": captured.status, "customers": len(customers) if filed else 0},
    )
    return CaptureResult(captured)


def _waiting(*, user: User, captured_id: int) -> CapturedEmail:
    captured = (
        CapturedEmail.objects.select_for_update()
        .filter(pk=captured_id, owner=user, status=CapturedEmail.Status.UNMATCHED)
        .first()
    )
    if captured is None:
        raise NotFound("No such email is waiting for you.")
    return captured


def _close(captured: CapturedEmail, status: str) -> None:
    """Mark a waiting email filed or discarded; its stored message goes once the change commits."""
    stored_path, captured.storage_path = captured.storage_path, ""
    captured.status = status
    captured.save(update_fields=["status", "storage_path"])
    transaction.on_commit(lambda: files.remove([stored_path]))


@transaction.atomic
def file_captured_email(*, actor: User, captured_id: int, customer_number: str) -> Customer:
    """File a waiting email to the customer of the manager's book with this customer number."""
    captured = _waiting(user=actor, captured_id=captured_id)
    customer = visible_customers(user=actor).filter(external_id=customer_number.strip()).first()
    if customer is None:
        raise DomainError("None of your customers has this customer number.", field="customer")
    with default_storage.open(captured.storage_path, "rb") as stored:
        parsed = parse(stored.read(), capture_addresses=capture_addresses())
    captured.interactions.set(_log_on(actor, [customer], parsed))
    _close(captured, CapturedEmail.Status.FILED)
    record_audit_event(actor=actor, action="email.filed", target=captured, customer_id=customer.pk)
    return customer


@transaction.atomic
def discard_captured_email(*, actor: User, captured_id: int) -> CapturedEmail:
    captured = _waiting(user=actor, captured_id=captured_id)
    _close(captured, CapturedEmail.Status.DISCARDED)
    record_audit_event(actor=actor, action="email.discarded", target=captured)
    return captured


def waiting_for_review(*, user: User) -> list[CapturedEmail]:
    return list(CapturedEmail.objects.filter(owner=user, status=CapturedEmail.Status.UNMATCHED)[:200])
