"""Bookkeeping of data loads from the bank's other systems (docs/imports.md).

An ImportRun is updated in the same transaction as each batch it commits, so its counts and
`last_committed_row` are exactly what is in the database after a crash: a re-run of the same
file (same SHA-256) resumes after that row. Bad rows are kept as ImportRowError rows, with
PII values already masked, written in the batch's transaction too; the CSV error report is
produced from them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ImportRun(models.Model):
    class Entity(models.TextChoices):
        CUSTOMERS = "customers", "Customers"
        HOLDINGS = "holdings", "Holdings"
        PRODUCTS = "products", "Products"
        INTERACTIONS = "interactions", "Interactions"
        FX_RATES = "fx_rates", "FX rates"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        INTERRUPTED = "interrupted", "Interrupted"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    entity = models.CharField(max_length=16, choices=Entity.choices)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    file_size = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    dry_run = models.BooleanField(default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_runs"
    )
    actor_label = models.CharField(max_length=150, default="system")
    rows = models.PositiveIntegerField(default=0, help_text="Data rows committed (good and bad).")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0, help_text="Failed rows that were probable duplicates.")
    last_committed_row = models.PositiveIntegerField(
        default=0, help_text="Row number (as in the error report) up to which everything is committed."
    )
    resumed = models.PositiveSmallIntegerField(default=0, help_text="How many times an interrupted run was resumed.")
    error_report = models.CharField(max_length=500, blank=True)
    message = models.TextField(blank=True, help_text="Why the run stopped, when it did not complete.")
    options = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["entity", "sha256", "status"], name="import_run_resume_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(created__gte=0) & Q(updated__gte=0) & Q(unchanged__gte=0) & Q(failed__gte=0),
                name="import_run_counts_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.entity} {self.file_name} ({self.status})"

    @property
    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "duplicates": self.duplicates,
        }


class ImportRowError(models.Model):
    """One problem with one row; `value` is masked when the column holds personal data."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()
    column = models.CharField(max_length=64, blank=True)
    value = models.CharField(max_length=200, blank=True)
    message = models.TextField()
    is_duplicate = models.BooleanField(default=False)

    class Meta:
        ordering = ["run", "row_number", "id"]
        indexes = [models.Index(fields=["run", "row_number"], name="import_error_run_row_idx")]

    def __str__(self) -> str:
        return f"run {self.run_id} row {self.row_number} {self.column}: {self.message}"


class ExternalReference(models.Model):
    """External id -> our row, for models that have no external_id column (interactions).

    Lets a re-run of the same file recognise what it already loaded, so it changes nothing.
    """

    entity = models.CharField(max_length=16, choices=ImportRun.Entity.choices)
    external_id = models.CharField(max_length=64)
    object_id = models.BigIntegerField()
    run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity", "external_id"], name="external_reference_unique"),
            models.CheckConstraint(condition=~Q(external_id=""), name="external_reference_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.external_id} -> {self.object_id}"
