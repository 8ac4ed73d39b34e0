from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Scope(models.TextChoices):
    """What an API key may do. The owner's role still bounds it: a scope never widens access."""

    CUSTOMERS_READ = "customers:read", "Read customers (masked personal data)"
    CUSTOMERS_WRITE = "customers:write", "Create and update customers"
    CUSTOMERS_PII = "customers:pii", "Reveal customers' personal data (audited)"
    HOLDINGS_READ = "holdings:read", "Read holdings"
    PRODUCTS_READ = "products:read", "Read the product catalog and rate history"
    TASKS_READ = "tasks:read", "Read follow-up tasks"
    TASKS_WRITE = "tasks:write", "Create, reschedule and complete tasks"
    INTERACTIONS_READ = "interactions:read", "Read interactions"
    INTERACTIONS_WRITE = "interactions:write", "Log interactions"
    NOTIFICATIONS_READ = "notifications:read", "Read the owner's notifications"
    RECOMMENDATIONS_READ = "recommendations:read", "Read recommendations"
    RECOMMENDATIONS_WRITE = "recommendations:write", "Ask for a fresh recommendation"
    LEADS_CREATE = "leads:create", "Create leads (the bank's website)"
    LEADS_READ = "leads:read", "Read leads"
    OPPORTUNITIES_READ = "opportunities:read", "Read opportunities"
    OPPORTUNITIES_WRITE = "opportunities:write", "Open, move, win or lose and change opportunities"


class ApiKey(models.Model):
    """A machine client's credential: `fp_<prefix>_<secret>`, shown once, stored hashed.

    Only the prefix (to find the row) and the SHA-256 of the secret are kept. The secret has
    256 bits of entropy, so a plain hash is enough (no password-style stretching needed) and
    it is not keyed by SECRET_KEY, so rotating that key does not invalidate every client.
    Requests made with a key run as its owner, so the owner's role and customer assignments
    bound what the key can see; the scopes narrow it further.
    """

    name = models.CharField(max_length=120, help_text="Which system uses this key, e.g. 'Core banking sync'.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_keys")
    scopes = ArrayField(models.CharField(max_length=32, choices=Scope.choices), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Four eyes (apps.api.four_eyes): a key works only once a second administrator approved it.
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")), name="api_key_expires_later"),
            models.CheckConstraint(condition=~Q(name=""), name="api_key_has_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (fp_{self.prefix}_…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    @property
    def is_usable(self) -> bool:
        return self.is_approved and not self.is_revoked and not self.is_expired

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying an Idempotency-Key (IETF httpapi draft).

    The row is inserted and committed before the write starts, so a concurrent retry finds it
    `in_progress` and gets 409; it is completed in the same transaction as the write, so a
    crash leaves either no write or a completed record. Keys are per client and live 24 hours.
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    client = models.CharField(max_length=64, help_text="'key:<api key id>' or 'user:<user id>'.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and canonical body.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_unique_client_key"),
            models.CheckConstraint(
                condition=Q(status="in_progress") | Q(response_status__isnull=False),
                name="idempotency_completed_has_response",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.key} ({self.status})"
