"""Alerts: a rule fired for an object (holding, document, customer, task) at a threshold.

One alert per (rule, object, threshold, fires_on), however often the scan runs: fires_on is
the date the threshold was reached (e.g. maturity date minus 7 days), so it does not move
from one day to the next, and a renewed deposit (new maturity date) alerts again.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_noop

from apps.core.presentation import count_noun


class Alert(models.Model):
    class Rule(models.TextChoices):
        MATURITY = "maturity", gettext_noop("Holding maturing")
        DOCUMENT_EXPIRY = "document_expiry", gettext_noop("Identity document expiring")
        KYC_REVIEW = "kyc_review", gettext_noop("KYC review due")
        RELATIONSHIP = "relationship", gettext_noop("Overdue relationship")
        TASK_ESCALATION = "task_escalation", gettext_noop("Long-overdue follow-up")

    class Status(models.TextChoices):
        OPEN = "open", gettext_noop("Open")
        ACKNOWLEDGED = "acknowledged", gettext_noop("Acknowledged")
        SNOOZED = "snoozed", gettext_noop("Snoozed")
        DISMISSED = "dismissed", gettext_noop("Dismissed")

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="alerts")
    rule = models.CharField(max_length=20, choices=Rule.choices)
    threshold = models.PositiveIntegerField(help_text="Days (before maturity/expiry, or the cadence interval).")
    object_type = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    fires_on = models.DateField(help_text="The date the threshold was reached.")
    reason = models.CharField(max_length=300, help_text="Why it fired, in the bank's words.")
    # Urgency, for the list's order (days left, then amount): the deadline the alert is about
    # (maturity, expiry, review date, when contact fell due, the follow-up's due date) and the
    # money at stake (a holding's balance, as a magnitude), when there is any.
    due_on = models.DateField(null=True, blank=True, help_text="The deadline the alert is about.")
    amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    task = models.ForeignKey("tasks.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateField(null=True, blank=True)
    status_reason = models.CharField(max_length=300, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    # What the manager reads (task title, notification subject), and when the alert's work (its
    # follow-up task and notifications, or its place in a digest) was written: null until then.
    title = models.CharField(max_length=200, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "object_type", "object_id", "threshold", "fires_on"], name="alert_once_per_threshold"
            ),
            models.CheckConstraint(
                condition=~Q(status="snoozed") | Q(snoozed_until__isnull=False), name="alert_snooze_has_date"
            ),
            models.CheckConstraint(
                condition=~Q(status="dismissed") | ~Q(status_reason=""), name="alert_dismiss_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["manager", "status", "-created_at"], name="alert_manager_status_idx"),
            models.Index(fields=["manager", "status", "due_on"], name="alert_manager_urgency_idx"),
            models.Index(fields=["status", "snoozed_until"], name="alert_snoozed_idx"),
            models.Index(fields=["customer", "-created_at"], name="alert_customer_idx"),
            models.Index(fields=["manager"], condition=Q(notified_at__isnull=True), name="alert_unsettled_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} ({self.threshold}d) for customer {self.customer_id}"

    def days_left(self, today: dt.date) -> int | None:
        return (self.due_on - today).days if self.due_on else None

    def when(self, today: dt.date) -> str:
        """The deadline in words, as the list shows it: "due today", "in 3 days", "overdue by 2 days"."""
        days = self.days_left(today)
        if days is None:
            return ""
        if days == 0:
            return "due today"
        if days == 1:
            return "due tomorrow"
        if days > 1:
            return f"in {days} days"
        return f"overdue by {count_noun(-days, 'day')}"

    def is_overdue(self, today: dt.date) -> bool:
        """Past its deadline and still waiting for the manager."""
        return self.due_on is not None and self.due_on < today and self.is_actionable

    @property
    def is_actionable(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.SNOOZED, self.Status.ACKNOWLEDGED)
