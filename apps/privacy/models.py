"""Data-subject requests: what compliance asked for a customer and what the bank decided."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ErasureRequest(models.Model):
    """A request to erase a customer (GDPR Art. 17) and its outcome.

    Refused: the relationship is still running (active holdings). Deferred: records under a
    retention hold stay, restricted (Art. 18), until `erase_after`; the release job then
    finishes the erasure. Completed: the customer's data key is destroyed and its personal data
    is gone. `holds` says which hold, under which rule, until when: what the officer is shown.
    """

    class Status(models.TextChoices):
        REFUSED = "refused", "Refused"
        DEFERRED = "deferred", "Deferred (retention hold)"
        COMPLETED = "completed", "Completed"

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="erasure_requests")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    reference = models.CharField(max_length=200, help_text="The request's reference (e.g. the DSAR ticket).")
    relationship_ended_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    refused_because = models.CharField(max_length=300, blank=True)
    holds = models.JSONField(default=list, blank=True)
    erase_after = models.DateField(null=True, blank=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="deferred") | Q(erase_after__isnull=False), name="erasure_deferred_has_date"
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(refused_because=""), name="erasure_refused_says_why"
            ),
        ]

    def __str__(self) -> str:
        return f"Erasure of customer {self.customer_id}: {self.status}"
