"""A change proposed by one person that takes effect only when a second person approves it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ChangeRequest(models.Model):
    """One four-eyes request: the action's name, what it will do (payload), who made it, who
    decided it, and where it will apply (target, customer) so that page can show it pending.

    The payload holds ids and values the action's apply function needs, never personal data
    in clear: it is shown to the checker and copied into the audit trail.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending approval"
        APPROVED = "approved", "Approved and applied"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn by its maker"
        EXPIRED = "expired", "Expired"

    action = models.CharField(max_length=60)
    payload = models.JSONField(default=dict, blank=True)
    summary = models.CharField(max_length=300)
    reason = models.CharField(max_length=500, blank=True)
    maker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="changes_made")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes_checked",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    # For a change that is used once after approval (an export with personal data): when its
    # maker used it. Set once, under a row lock (apps.approvals.services.consume_approved_change).
    consumed_at = models.DateTimeField(null=True, blank=True)
    # Where the change will apply (e.g. "products.product" 12, "identity.user" 7): that page
    # lists it as pending. A change about one customer also names the customer.
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    customer_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["target_type", "target_id"], name="approvals_target_idx", condition=models.Q(status="pending")
            ),
            models.Index(fields=["customer_id"], name="approvals_customer_idx", condition=models.Q(status="pending")),
            models.Index(fields=["status", "expires_at"], name="approvals_status_expiry_idx"),
        ]
        constraints = [
            # Four eyes in the database too: whoever decided an approval is not its maker.
            models.CheckConstraint(
                condition=~models.Q(status="approved") | ~models.Q(checker=models.F("maker")),
                name="approvals_checker_is_not_maker",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.summary}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING and self.expires_at > timezone.now()
