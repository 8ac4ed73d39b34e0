from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from apps.core.business_date import business_today
from apps.core.text_limits import DESCRIPTION_MAX_LENGTH, bounded_text, text_length_check


class Task(models.Model):
    class Priority(models.IntegerChoices):
        LOW = 1, gettext_noop("Low")
        NORMAL = 2, gettext_noop("Normal")
        HIGH = 3, gettext_noop("High")
        URGENT = 4, gettext_noop("Urgent")

    class Status(models.TextChoices):
        OPEN = "open", gettext_noop("Open")
        DONE = "done", gettext_noop("Done")
        CANCELLED = "cancelled", gettext_noop("Cancelled")

    class Source(models.TextChoices):
        MANUAL = "manual", gettext_noop("Created by a person")
        MATURITY = "maturity", gettext_noop("Maturity alert")
        DOCUMENT_EXPIRY = "document_expiry", gettext_noop("Identity document expiring")
        KYC_REVIEW = "kyc_review", gettext_noop("KYC review due")
        RELATIONSHIP = "relationship", gettext_noop("Relationship cadence")
        LEAD = "lead", gettext_noop("Lead follow-up")
        IMPORT = "import", gettext_noop("Imported")
        ALERTS = "alerts", gettext_noop("Several alerts on one customer")

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="tasks")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tasks")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    description = bounded_text(DESCRIPTION_MAX_LENGTH, blank=True)
    due_at = models.DateTimeField()
    reminder_at = models.DateTimeField(null=True, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    # Why it is on the list: the rule (e.g. "maturity:7d") and the object that triggered it.
    source_rule = models.CharField(max_length=80, blank=True)
    source_object = models.CharField(max_length=80, blank=True)
    outcome = bounded_text(DESCRIPTION_MAX_LENGTH, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "-priority"]
        constraints = [
            text_length_check("description", DESCRIPTION_MAX_LENGTH, name="task_description_length"),
            text_length_check("outcome", DESCRIPTION_MAX_LENGTH, name="task_outcome_length"),
            models.CheckConstraint(
                condition=Q(reminder_at__isnull=True) | Q(reminder_at__lte=F("due_at")), name="task_reminder_before_due"
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(completed_at__isnull=False), name="task_done_has_completion_time"
            ),
            models.CheckConstraint(condition=~Q(title=""), name="task_has_title"),
            # An alert rule creates one task per object and rule, however often the scan runs.
            models.UniqueConstraint(
                fields=["source_rule", "source_object"],
                condition=~Q(source_rule=""),
                name="task_unique_per_rule_and_object",
            ),
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_due_idx"),
            models.Index(fields=["status", "reminder_at"], name="task_reminder_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        """Open and due before the business day began (the task list's "Overdue" tab)."""
        return self.is_overdue_at(self.business_day_began())

    @staticmethod
    def business_day_began() -> dt.datetime:
        """The instant the business day began: a task due before it is overdue."""
        return timezone.make_aware(dt.datetime.combine(business_today(), dt.time.min))

    def is_overdue_at(self, day_began: dt.datetime) -> bool:
        """`is_overdue` with the day's start given (a page of rows asks the business date once)."""
        return self.overdue(status=self.status, due_at=self.due_at, day_began=day_began)

    @classmethod
    def overdue(cls, *, status: str, due_at: dt.datetime, day_began: dt.datetime) -> bool:
        """The rule: open and due before the business day began (for a task read as values too)."""
        return status == cls.Status.OPEN and due_at < day_began
