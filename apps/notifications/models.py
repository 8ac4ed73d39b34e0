"""The notification outbox: one row per message to send, written with its cause.

A row is inserted in the same transaction as the event that causes it (an alert, a task
reminder), with a unique dedupe key, so a scan run twice, two beats or a retried task never
create a second one. Celery delivers it after commit; a relay re-dispatches whatever is
still pending. The payload carries only what the channel needs (subject, body, link); the
customer's address or phone is decrypted at send time, never stored here or logged.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_noop


class Channel(models.TextChoices):
    EMAIL = "email", gettext_noop("Email")
    SMS = "sms", gettext_noop("SMS")
    IN_APP = "in_app", gettext_noop("In-app")


class Kind(models.TextChoices):
    MATURITY = "maturity", gettext_noop("Holding maturing")
    DOCUMENT_EXPIRY = "document_expiry", gettext_noop("Identity document expiring")
    KYC_REVIEW = "kyc_review", gettext_noop("KYC review due")
    RELATIONSHIP = "relationship", gettext_noop("Overdue relationship")
    TASK_REMINDER = "task_reminder", gettext_noop("Follow-up reminder")
    TASK_DUE_SOON = "task_due_soon", gettext_noop("Follow-up due soon")
    TASK_OVERDUE = "task_overdue", gettext_noop("Follow-up overdue")
    TASK_ESCALATION = "task_escalation", gettext_noop("Long-overdue follow-up (escalation)")
    LEAD_ASSIGNED = "lead_assigned", gettext_noop("New lead assigned")
    CUSTOMER_MATURITY_NOTICE = "customer_maturity", gettext_noop("Maturity notice to the customer")
    ALERT_DIGEST = "alert_digest", gettext_noop("Digest of new alerts (first scan or a backlog)")
    LLM_BUDGET = "llm_budget", gettext_noop("LLM daily budget reached (administrators)")
    # To administrators, in the bell only: an email about an email that may not have gone.
    DELIVERY_UNKNOWN = "delivery_unknown", gettext_noop("Delivery outcome unknown (administrators)")
    # Break-glass access to a customer: its manager, compliance and the person who asked.
    BREAK_GLASS = "break_glass", gettext_noop("Break-glass access to a customer")
    # A meeting's invitation, update or cancellation, with its iCalendar attachment (apps.agenda).
    MEETING_INVITATION = "meeting_invitation", gettext_noop("Meeting invitation")


# Kinds an employee receives, with the channels they get when they have chosen nothing.
# A meeting invitation is the meeting itself, not an alert: it always goes by email.
EMPLOYEE_KINDS = [
    kind for kind in Kind if kind not in (Kind.CUSTOMER_MATURITY_NOTICE, Kind.DELIVERY_UNKNOWN, Kind.MEETING_INVITATION)
]
DEFAULT_CHANNELS = {
    kind: (
        {Channel.IN_APP}
        if kind in (Kind.TASK_REMINDER, Kind.TASK_DUE_SOON, Kind.TASK_OVERDUE)
        else {Channel.IN_APP, Channel.EMAIL}
    )
    for kind in EMPLOYEE_KINDS
}


class Notification(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", gettext_noop("Pending")
        # Claimed by a worker (committed) until lease_expires_at; the send happens outside
        # any transaction and its result is recorded in a new one.
        SENDING = "sending", gettext_noop("Sending")
        SENT = "sent", gettext_noop("Sent")
        FAILED = "failed", gettext_noop("Failed")
        SKIPPED = "skipped", gettext_noop("Skipped")
        # The claim's lease expired with no result: the server may or may not have accepted
        # the message. Not re-sent blindly; an administrator decides (docs/operations.md).
        UNKNOWN = "unknown", gettext_noop("Outcome unknown")

    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    recipient_customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # kind + object + threshold + date + channel: the same cause never yields two rows.
    dedupe_key = models.CharField(max_length=200, unique=True)
    subject = models.CharField(max_length=200)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The claim: who holds it (one delivery attempt) and until when; the Message-ID every
    # send of this row carries, so a receiver that dedupes drops a repeat.
    claim_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient_user__isnull=False, recipient_customer__isnull=True)
                | Q(recipient_user__isnull=True, recipient_customer__isnull=False),
                name="notification_one_recipient",
            ),
            models.CheckConstraint(
                condition=~Q(channel="in_app") | Q(recipient_user__isnull=False),
                name="notification_in_app_for_employees",
            ),
            models.CheckConstraint(
                condition=~Q(status="skipped") | ~Q(skip_reason=""), name="notification_skip_reason"
            ),
        ]
        indexes = [
            # The relay: pending rows whose next attempt is due.
            models.Index(fields=["status", "next_attempt_at"], name="notification_due_idx"),
            # The bell: a user's unread in-app notifications, newest first.
            models.Index(
                fields=["recipient_user", "-created_at"],
                condition=Q(channel="in_app", read_at__isnull=True),
                name="notification_unread_idx",
            ),
            models.Index(fields=["recipient_user", "channel", "-created_at"], name="notification_user_list_idx"),
            # The relay: claims whose lease expired without a result.
            models.Index(fields=["lease_expires_at"], condition=Q(status="sending"), name="notification_lease_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.get_channel_display()} ({self.status})"

    @property
    def url(self) -> str:
        return str(self.payload.get("url", ""))

    @property
    def path(self) -> str:
        """Where it leads, as a path on this site: in-app links resolve against the request's host.

        The absolute `url` (from FINPULSE_SITE_URL) is for emails; older rows carry only that.
        """
        path = str(self.payload.get("path", ""))
        if not path and self.url:
            parts = urlsplit(self.url)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
        return path if path.startswith("/") and not path.startswith("//") else ""

    @property
    def body(self) -> str:
        return str(self.payload.get("body", ""))


class FailedNotification(Notification):
    """Admin's dead-letter view: notifications that ran out of attempts."""

    class Meta:
        proxy = True
        verbose_name = "failed notification"
        verbose_name_plural = "failed notifications"


class NotificationPreference(models.Model):
    """Which channels a user wants for a kind of alert (no row: the defaults above)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "channel"], name="notification_pref_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}/{self.channel}: {'on' if self.enabled else 'off'}"
