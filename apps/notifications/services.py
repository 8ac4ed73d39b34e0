"""Every write to the notification outbox, and its delivery.

Rules enforced here:
- outbox: rows are written inside the cause's transaction (`enqueue_notifications` refuses
  to run outside one) and dispatched only after commit; the relay re-dispatches what is
  still pending, so neither a broker outage nor a process dying after commit loses one;
- nothing doubled: the dedupe key is unique, and delivery is claim-then-send (below): a
  committed claim with a lease and a stable Message-ID, the send outside any transaction, the
  result recorded in a new one; a duplicate message for a claimed or sent row does nothing, a
  cut database connection is retried by the same attempt, and an expired claim is never
  re-sent blindly (email: "outcome unknown" for an administrator);
- a delivery limit: each claim counts an attempt before sending (committed), so a message
  that fails every time ends as `failed` after FINPULSE_NOTIFICATION_MAX_ATTEMPTS;
- customers: a notice goes out only with the customer's recorded service consent for that
  channel, checked at send time, outside quiet hours; otherwise it is skipped with the reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import uuid
from collections.abc import Callable, Container, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, TypeVar, Unpack

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from apps.core.audit import record_audit_event
from apps.core.dispatch import task_named
from apps.core.errors import DomainError
from apps.customers.models import Customer, CustomerConsent
from apps.notifications import channels
from apps.notifications.bell import unread_changed
from apps.notifications.models import EMPLOYEE_KINDS, Channel, Kind, Notification, NotificationPreference

if TYPE_CHECKING:
    from apps.identity.models import User

logger = logging.getLogger(__name__)

Status = Notification.Status
T = TypeVar("T")
# Ids per Celery message: few messages per scan batch, yet a short task for each.
PUBLISH_CHUNK = 25
# Anything that looks like an address or a number never reaches last_error (admins read it).
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_DIGITS_RE = re.compile(r"\+?\d[\d \-]{5,}\d")


def _safe_error(message: str) -> str:
    return _DIGITS_RE.sub("[number]", _EMAIL_RE.sub("[address]", message))[:500]


def dedupe_key(*, kind: str, obj: str, threshold: int | str, on: dt.date | str, channel: str, recipient: str) -> str:
    """kind + object + threshold + date + channel (+ recipient, when one cause notifies several people)."""
    return f"{kind}:{obj}:{threshold}:{on}:{channel}:{recipient}"[:200]


class Message(TypedDict):
    """What one notification says, and what makes it once-only, whoever receives it."""

    channels_on: Iterable[str]  # the channels chosen for this recipient and kind
    kind: str
    obj: str
    threshold: int | str
    on: dt.date | str
    subject: str
    body: str
    extra: NotRequired[dict[str, Any] | None]  # more payload (ids and paths for the inbox)


# Customers have no in-app inbox: a notice reaches them by email or SMS only.
CUSTOMER_CHANNELS = (Channel.EMAIL, Channel.SMS)


def build_user_notifications(*, user_id: int, url: str, **message: Unpack[Message]) -> list[Notification]:
    """Unsaved outbox rows for one employee, one per chosen channel, each with a link to the
    page concerned (saved by enqueue_notifications)."""
    return _outbox_rows(
        recipient={"recipient_user_id": user_id}, recipient_key=f"u{user_id}", link={"url": url}, message=message
    )


def build_customer_notifications(*, customer_id: int, **message: Unpack[Message]) -> list[Notification]:
    """Unsaved outbox rows for one customer: email and SMS only, and no link into the bank's pages."""
    return _outbox_rows(
        recipient={"recipient_customer_id": customer_id},
        recipient_key=f"c{customer_id}",
        link={},
        message=message,
        allowed=CUSTOMER_CHANNELS,
    )


def _outbox_rows(
    *,
    recipient: dict[str, int],
    recipient_key: str,
    link: dict[str, str],
    message: Message,
    allowed: Container[str] | None = None,
) -> list[Notification]:
    """One unsaved outbox row per channel: the dedupe key, the subject's length and the payload
    written once for employees and customers alike."""
    channels = sorted(channel for channel in message["channels_on"] if allowed is None or channel in allowed)
    payload = {"body": message["body"], **link, **(message.get("extra") or {})}
    return [
        Notification(
            **recipient,
            channel=channel,
            kind=message["kind"],
            dedupe_key=dedupe_key(
                kind=message["kind"],
                obj=message["obj"],
                threshold=message["threshold"],
                on=message["on"],
                channel=channel,
                recipient=recipient_key,
            ),
            subject=message["subject"][:200],
            payload=payload,
        )
        for channel in channels
    ]


def enqueue_notifications(rows: Sequence[Notification]) -> list[Notification]:
    """Write outbox rows in the caller's transaction; return those that were new.

    In-app rows are delivered by being written. Email and SMS rows are handed to Celery after
    commit; until the relay's grace period has passed, the relay leaves them to that dispatch.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("Notifications are written in the transaction of the event that causes them.")
    if not rows:
        return []
    existing = set(
        Notification.objects.filter(dedupe_key__in=[row.dedupe_key for row in rows]).values_list(
            "dedupe_key", flat=True
        )
    )
    now = timezone.now()
    grace = dt.timedelta(seconds=settings.FINPULSE_NOTIFICATION_RELAY_GRACE_SECONDS)
    fresh: dict[str, Notification] = {}
    for row in rows:
        if row.dedupe_key in existing or row.dedupe_key in fresh:
            continue
        if row.channel == Channel.IN_APP:
            row.status, row.sent_at = Status.SENT, now
        else:
            row.status, row.next_attempt_at = Status.PENDING, now + grace
        fresh[row.dedupe_key] = row
    if not fresh:
        return []
    try:
        with transaction.atomic():
            created = Notification.objects.bulk_create(fresh.values())
    except IntegrityError:
        # A concurrent writer inserted one of the keys since we looked: go row by row.
        created = []
        for row in fresh.values():
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
                created.append(row)
            except IntegrityError:
                row.pk = None
    unread_changed(row.recipient_user_id for row in created if row.channel == Channel.IN_APP)
    to_send = [row.pk for row in created if row.status == Status.PENDING]
    if to_send:
        transaction.on_commit(lambda: publish_deliveries(to_send))
    return created


def record_covered_notifications(rows: Sequence[Notification], *, reason: str) -> list[Notification]:
    """Store rows whose message another one (a digest) already carries: never sent, in-app ones
    already read. Their dedupe keys stop a later scan from sending them one by one."""
    if not connection.in_atomic_block:
        raise RuntimeError("Notifications are written in the transaction of the event that causes them.")
    keys = {row.dedupe_key for row in rows}
    existing = set(Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    now = timezone.now()
    fresh: dict[str, Notification] = {}
    for row in rows:
        if row.dedupe_key in existing or row.dedupe_key in fresh:
            continue
        row.status, row.skip_reason = Status.SKIPPED, reason[:200]
        if row.channel == Channel.IN_APP:
            row.read_at = now
        fresh[row.dedupe_key] = row
    Notification.objects.bulk_create(fresh.values(), ignore_conflicts=True)
    return list(fresh.values())


def publish_deliveries(notification_ids: Sequence[int]) -> int:
    """Hand ids to Celery; a broker outage leaves the rows pending for the relay. Returns how many went."""
    from finpulse.celery import app

    published = 0
    connection_ = app.connection_for_write()
    errors = connection_.connection_errors + connection_.channel_errors
    try:
        with connection_:
            for start in range(0, len(notification_ids), PUBLISH_CHUNK):
                chunk = [int(pk) for pk in notification_ids[start : start + PUBLISH_CHUNK]]
                task_named("notifications.deliver").apply_async(
                    (chunk,),
                    connection=connection_,
                    retry=True,
                    retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5},
                )
                published += len(chunk)
    except (*errors, KombuOperationalError, OSError) as error:
        logger.warning(
            "Broker unreachable (%s): %d notification(s) stay pending for the relay.",
            type(error).__name__,
            len(notification_ids) - published,
        )
    return published


def relay_pending_notifications(*, batch_size: int = 500, limit: int = 20000) -> int:
    """Re-dispatch pending rows whose next attempt is due (broker was down, a worker died).

    A relayed row is not relayed again for five minutes; a duplicate message is harmless.
    Claims whose lease expired are settled first (`settle_expired_claims`), never re-sent blindly.
    """
    settle_expired_claims()
    now = timezone.now()
    relayed = 0
    last_id = 0
    while relayed < limit:
        ids = list(
            Notification.objects.filter(status=Status.PENDING, next_attempt_at__lte=now, pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        last_id = ids[-1]
        published = publish_deliveries(ids)
        if published:
            Notification.objects.filter(pk__in=ids[:published], status=Status.PENDING, next_attempt_at__lte=now).update(
                next_attempt_at=now + dt.timedelta(minutes=5)
            )
        relayed += published
        if published < len(ids):
            break  # the broker is down: the next relay run tries again
    return relayed


# --- delivery ---------------------------------------------------------------------------


def _quiet_hours() -> tuple[dt.time, dt.time] | None:
    spec = (settings.FINPULSE_QUIET_HOURS or "").strip()
    if not spec:
        return None
    start, _, end = spec.partition("-")
    return dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())


def end_of_quiet_hours(at: dt.datetime) -> dt.datetime | None:
    """When `at` falls in quiet hours (bank's local time), the moment they end; else None."""
    window = _quiet_hours()
    if window is None:
        return None
    start, end = window
    local = timezone.localtime(at)
    now_t = local.time()
    if start <= end:
        inside = start <= now_t < end
        end_day = local.date()
    else:  # spans midnight, e.g. 21:00-08:00
        inside = now_t >= start or now_t < end
        end_day = local.date() + dt.timedelta(days=1) if now_t >= start else local.date()
    if not inside:
        return None
    return timezone.make_aware(dt.datetime.combine(end_day, end), timezone.get_current_timezone())


def _consent_problem(notification: Notification, customer: Customer) -> str:
    consented = CustomerConsent.objects.filter(
        customer_id=customer.pk,
        channel=notification.channel,
        purpose=CustomerConsent.Purpose.SERVICE,
        granted=True,
    ).exists()
    if not consented:
        return f"No recorded consent for service notices by {notification.get_channel_display()}."
    if customer.status == Customer.Status.CLOSED:
        return "The customer's relationship is closed."
    return ""


def _address(notification: Notification, customer: Customer | None) -> str:
    if customer is not None:
        value = customer.email if notification.channel == Channel.EMAIL else customer.phone
    else:
        user = notification.recipient_user
        if user is None:  # a row for nobody: there is no address to send to
            return ""
        value = user.email if notification.channel == Channel.EMAIL else user.phone
    return (value or "").strip()


def _fail(notification: Notification, message: str) -> None:
    notification.status = Status.FAILED
    notification.last_error = _safe_error(message)
    notification.next_attempt_at = None
    notification.save(update_fields=["status", "last_error", "next_attempt_at", "updated_at"])
    logger.error("Notification %s failed for good after %s attempt(s).", notification.pk, notification.attempts)
    record_audit_event(
        actor=None,
        action="notification.failed",
        target=notification,
        customer_id=notification.recipient_customer_id,
        metadata={"kind": notification.kind, "channel": notification.channel, "attempts": notification.attempts},
    )


def _skip(notification: Notification, reason: str) -> None:
    notification.status = Status.SKIPPED
    notification.skip_reason = reason[:200]
    notification.next_attempt_at = None
    notification.save(update_fields=["status", "skip_reason", "next_attempt_at", "updated_at"])
    record_audit_event(
        actor=None,
        action="notification.skipped",
        target=notification,
        customer_id=notification.recipient_customer_id,
        metadata={"kind": notification.kind, "channel": notification.channel, "reason": notification.skip_reason},
    )


# Delivery is claim-then-send. No lock or transaction is held across the network call:
#   1. claim (short transaction, committed): pending -> sending, an attempt counted, a lease,
#      the row's stable Message-ID and a claim token that only this attempt knows;
#   2. send, outside any transaction, with that Message-ID;
#   3. record the result (short transaction), only if our claim still holds it.
# A cut database connection in steps 1 or 3 is retried on a new connection by the same
# attempt (the token recognises its own claim or result), so the relay never re-sends a
# message the server already accepted. A claim whose lease runs out with no result is settled
# by the relay: re-sent with the same Message-ID on channels that dedupe by it, otherwise
# "outcome unknown" for an administrator to decide.
DB_RETRIES = 6


def _connection_lost(error: Exception) -> bool:
    """The database connection broke (rather than the statement failing)."""
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    if sqlstate:  # the server said why: connection exception (08...) or shutdown/termination (57P0x)
        return sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03")
    return True  # no SQLSTATE: the client lost the socket ("server closed the connection", closed)


def _on_fresh_connection(step: Callable[[], T], *, what: str) -> T:
    """Run one short database step; when the connection was cut, reconnect and run it again."""
    delay = 0.1
    for attempt in range(DB_RETRIES):
        try:
            return step()
        except (OperationalError, InterfaceError) as error:
            # Inside a caller's transaction a reconnect would lose its work: let it fail.
            if connection.in_atomic_block or attempt == DB_RETRIES - 1 or not _connection_lost(error):
                raise
            logger.warning("Database connection lost while %s; reconnecting.", what)
            connection.close()
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    raise AssertionError("unreachable")


def _claim(notification_id: int, token: uuid.UUID) -> tuple[str, Notification | None, str]:
    """Claim the row for this attempt (committed before sending) or settle it without sending.

    Waits a few seconds for a row another worker is claiming (claims are short).
    """
    try:
        return _on_fresh_connection(lambda: _claim_locked(notification_id, token), what="claiming a notification")
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", "") == "55P03":  # lock_not_available
            return "busy", None, ""
        raise


@transaction.atomic
def _claim_locked(notification_id: int, token: uuid.UUID) -> tuple[str, Notification | None, str]:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '10s'")
    notification = (
        Notification.objects.select_for_update(of=("self",))
        .select_related("recipient_customer", "recipient_user")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None:
        return "gone", None, ""
    customer = notification.recipient_customer
    if notification.status == Status.SENDING and notification.claim_token == token:
        # Our claim committed but the connection dropped before we heard: still ours, unsent.
        return "claimed", notification, _address(notification, customer)
    if notification.status == Status.SENDING:
        return "in flight", None, ""
    if notification.status != Status.PENDING:
        return f"already {notification.status}", None, ""
    if notification.attempts >= settings.FINPULSE_NOTIFICATION_MAX_ATTEMPTS:
        last = notification.last_error or "the worker stopped while sending"
        _fail(notification, f"Gave up after {notification.attempts} attempt(s): {last}")
        return "failed", None, ""
    if customer is not None:
        problem = _consent_problem(notification, customer)
        if problem:
            _skip(notification, problem)
            return "skipped", None, ""
        wake = end_of_quiet_hours(timezone.now())
        if wake is not None:
            notification.next_attempt_at = wake
            notification.save(update_fields=["next_attempt_at", "updated_at"])
            return "deferred", None, ""
    address = _address(notification, customer)
    if not address:
        what = "email address" if notification.channel == Channel.EMAIL else "mobile number"
        _skip(notification, f"No {what} on file.")
        return "skipped", None, ""
    notification.status = Status.SENDING
    notification.attempts += 1
    notification.claim_token = token
    notification.lease_expires_at = timezone.now() + dt.timedelta(seconds=settings.FINPULSE_NOTIFICATION_LEASE_SECONDS)
    notification.message_id = notification.message_id or channels.message_id_for(notification.dedupe_key)
    notification.save(
        update_fields=["status", "attempts", "claim_token", "lease_expires_at", "message_id", "updated_at"]
    )
    return "claimed", notification, address


@transaction.atomic
def _record_result(notification_id: int, token: uuid.UUID, error: Exception | None) -> str:
    """Write what the send did, if this attempt still holds the row (or it expired unanswered)."""
    notification = (
        Notification.objects.select_for_update(of=("self",))
        .select_related("recipient_customer")
        .get(pk=notification_id)
    )
    if notification.claim_token != token:
        return f"already {notification.status}"  # settled and claimed again meanwhile
    if notification.status == Status.SENT:
        return "sent"  # our result committed before the connection dropped
    if notification.status not in (Status.SENDING, Status.UNKNOWN):
        return f"already {notification.status}"
    notification.lease_expires_at = None
    if isinstance(error, channels.PermanentDeliveryError):
        _fail(notification, str(error))
        return "failed"
    if isinstance(error, channels.TransientDeliveryError):
        if notification.attempts >= settings.FINPULSE_NOTIFICATION_MAX_ATTEMPTS:
            _fail(notification, f"Gave up after {notification.attempts} attempt(s): {error}")
            return "failed"
        backoff = min(2 ** (notification.attempts - 1), 60)
        notification.status = Status.PENDING
        notification.last_error = _safe_error(str(error))
        notification.next_attempt_at = timezone.now() + dt.timedelta(minutes=backoff)
        notification.save(update_fields=["status", "lease_expires_at", "last_error", "next_attempt_at", "updated_at"])
        logger.warning("Notification %s: attempt %s failed, retrying later.", notification.pk, notification.attempts)
        return "retry"
    notification.status = Status.SENT
    notification.sent_at = timezone.now()
    notification.next_attempt_at = None
    notification.last_error = ""
    notification.save(
        update_fields=["status", "sent_at", "lease_expires_at", "next_attempt_at", "last_error", "updated_at"]
    )
    if notification.recipient_customer_id is not None:
        # What the bank told a customer, by which channel, is part of the record.
        record_audit_event(
            actor=None,
            action="notification.sent",
            target=notification,
            customer_id=notification.recipient_customer_id,
            metadata={"kind": notification.kind, "channel": notification.channel},
        )
    return "sent"


def deliver_notification(*, notification_id: int) -> str:
    """Send one outbox row at most once; safe to call for any id, any number of times.

    Returns what happened: sent, skipped, deferred, retry, failed, busy, in flight,
    unrecorded (sent or not, the database stayed unreachable: the lease settles it),
    already <status>.
    """
    token = uuid.uuid4()
    outcome, notification, address = _claim(notification_id, token)
    if outcome != "claimed" or notification is None:
        return outcome
    error: Exception | None = None
    try:
        if notification.channel == Channel.EMAIL:
            channels.send_email(
                to=address,
                subject=notification.subject,
                body=notification.body,
                dedupe_key=notification.dedupe_key,
                message_id=notification.message_id,
                calendar=str(notification.payload.get("ics", "")),
                calendar_method=str(notification.payload.get("ics_method", "")),
            )
        elif notification.channel == Channel.SMS:
            channels.send_sms(to=address, text=notification.subject, dedupe_key=notification.dedupe_key)
    except (channels.PermanentDeliveryError, channels.TransientDeliveryError) as failure:
        error = failure
    try:
        return _on_fresh_connection(
            lambda: _record_result(notification_id, token, error), what="recording a notification's result"
        )
    except (OperationalError, InterfaceError):
        logger.error(
            "Notification %s: result not recorded (database unreachable); its lease settles it.", notification_id
        )
        return "unrecorded"


def resend_channels() -> set[str]:
    """Channels whose receiver drops a repeated Message-ID / idempotency key (settings)."""
    return set(settings.FINPULSE_NOTIFICATION_RESEND_CHANNELS)


def settle_expired_claims(*, batch_size: int = 500) -> dict[str, int]:
    """Claims whose lease ran out without a result: never re-sent blindly.

    On a channel that dedupes by the message's id the row goes back to pending (the re-send
    carries the same id); otherwise it becomes "outcome unknown", an audit event, an in-app
    notification to each administrator (in the same transaction), and an error line
    (`notifications.outcome_unknown`) that monitoring alerts on.
    """
    now = timezone.now()
    settled = {"resent": 0, "unknown": 0}
    unknown: list[Notification] = []
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Status.SENDING, lease_expires_at__lte=now)
            .order_by("lease_expires_at")[:batch_size]
        )
        for row in rows:
            if row.channel in resend_channels():
                row.status, row.next_attempt_at = Status.PENDING, now
                row.save(update_fields=["status", "next_attempt_at", "updated_at"])
                settled["resent"] += 1
                continue
            row.status, row.next_attempt_at = Status.UNKNOWN, None
            row.last_error = "The delivery attempt ended without a result: the server may or may not have it."
            row.save(update_fields=["status", "next_attempt_at", "last_error", "updated_at"])
            record_audit_event(
                actor=None,
                action="notification.outcome_unknown",
                target=row,
                customer_id=row.recipient_customer_id,
                metadata={"kind": row.kind, "channel": row.channel, "message_id": row.message_id},
            )
            unknown.append(row)
            settled["unknown"] += 1
        enqueue_notifications(_tell_administrators(unknown))
    if settled["unknown"]:
        logger.error(
            "notifications.outcome_unknown count=%d: delivery outcome unknown, an administrator must decide "
            "(admin: Notifications, status 'Outcome unknown').",
            settled["unknown"],
        )
    return settled


def _tell_administrators(rows: Sequence[Notification]) -> list[Notification]:
    """One in-app notification per outcome-unknown row for each active administrator.

    In the bell only (never an email about an email that may not have gone). Its dedupe key
    names the row and its attempt, so settling the same attempt again adds nothing, while a
    retried row that ends unknown once more is reported once more. No address or customer
    name is in it: the admin link shows the row to whoever may see it.
    """
    if not rows:
        return []
    from django.contrib.auth import get_user_model
    from django.db.models import Q
    from django.urls import reverse

    from apps.identity import roles

    admins = list(
        get_user_model()
        .objects.filter(Q(is_superuser=True) | Q(groups__name=roles.ADMINISTRATOR), is_active=True)
        .distinct()
        .values_list("pk", flat=True)
    )
    site = settings.FINPULSE_SITE_URL.rstrip("/")
    out: list[Notification] = []
    for row in rows:
        path = reverse("admin:notifications_notification_change", args=[row.pk])
        channel = Channel(row.channel).label if row.channel in Channel.values else row.channel
        for admin_id in admins:
            out += build_user_notifications(
                user_id=admin_id,
                channels_on={Channel.IN_APP},
                kind=Kind.DELIVERY_UNKNOWN,
                obj=f"notification:{row.pk}",
                threshold=row.attempts,
                on="-",  # not a date: the same row and attempt is reported once, whenever settled
                subject=f"{channel} delivery outcome unknown (notification #{row.pk})",
                body=(
                    f"The delivery attempt of notification #{row.pk} ({row.kind}, {channel}) ended without a "
                    "result: the server may or may not have it. Check with the recipient or the mail log, then "
                    "retry it or leave it from the admin."
                ),
                url=site + path,
                extra={"path": path, "notification_id": row.pk},
            )
    return out


# --- employee actions ---------------------------------------------------------------------


@transaction.atomic
def mark_notification_read(*, user: User, notification: Notification) -> Notification:
    """Read receipts are the user's own UI state, not bank data: no audit event."""
    if notification.recipient_user_id != user.pk:
        raise DomainError("This is not your notification.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
        unread_changed([user.pk])
    return notification


@transaction.atomic
def mark_all_notifications_read(*, user: User) -> int:
    marked = Notification.objects.filter(recipient_user=user, channel=Channel.IN_APP, read_at__isnull=True).update(
        read_at=timezone.now(), updated_at=timezone.now()
    )
    if marked:
        unread_changed([user.pk])
    return marked


@transaction.atomic
def set_notification_preferences(*, actor: User, user: User, chosen: dict[str, set[str]]) -> None:
    """Store which channels `user` wants for each kind (only the user or an administrator)."""
    if actor.pk != user.pk and not actor.is_administrator:
        raise DomainError("You can only change your own notification settings.")
    valid_kinds = {kind.value for kind in EMPLOYEE_KINDS}
    valid_channels = {channel.value for channel in Channel}
    unknown = set(chosen) - valid_kinds
    if unknown:
        raise DomainError(f"Unknown kind(s) of alert: {', '.join(sorted(unknown))}.")
    for on in chosen.values():
        if set(on) - valid_channels:
            raise DomainError(f"Unknown channel(s): {', '.join(sorted(set(on) - valid_channels))}.")
    rows = [
        NotificationPreference(user=user, kind=kind, channel=channel, enabled=channel in on)
        for kind, on in chosen.items()
        for channel in valid_channels
    ]
    NotificationPreference.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["user", "kind", "channel"], update_fields=["enabled", "updated_at"]
    )
    record_audit_event(
        actor=actor,
        action="notification_preferences.changed",
        target=user,
        metadata={kind: sorted(on) for kind, on in chosen.items()},
    )


@transaction.atomic
def retry_notifications(*, actor: User, notification_ids: Sequence[int]) -> int:
    """Administrators give failed rows a fresh set of attempts (e.g. after fixing SMTP).

    A row whose outcome is unknown is sent again only this way, after an administrator checked
    that the recipient did not get it; the re-send carries the same Message-ID.
    """
    if not actor.is_administrator:
        raise DomainError("Only an administrator can retry notifications.")
    rows = list(
        Notification.objects.select_for_update()
        .filter(pk__in=notification_ids, status__in=(Status.FAILED, Status.UNKNOWN))
        .values_list("pk", flat=True)
    )
    Notification.objects.filter(pk__in=rows).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), updated_at=timezone.now()
    )
    if rows:
        record_audit_event(
            actor=actor,
            action="notification.retried",
            metadata={"notifications": rows},
        )
        transaction.on_commit(lambda: publish_deliveries(rows))
    return len(rows)
