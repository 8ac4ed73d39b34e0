from __future__ import annotations

from typing import Any

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from apps.core.fields import EncryptedCharField


class TransactionIdField(models.BigIntegerField):
    """PostgreSQL's 64-bit transaction id (`xid8`), read as an int; written only by the database.

    The audit sealer compares it with `pg_snapshot_xmin(pg_current_snapshot())` to know which
    events can no longer gain an earlier neighbour (docs/decisions.md, "audit sealed in blocks").
    """

    def db_type(self, connection: Any) -> str:
        return "xid8"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> int | None:
        return None if value is None else int(value)


class CurrentTransactionId(models.Func):
    """`pg_current_xact_id()`: the writing transaction's id, set by the column default."""

    function = "pg_current_xact_id"
    template = "%(function)s()"
    arity = 0
    output_field = TransactionIdField()


class AuditEvent(models.Model):
    """Append-only record of every write and every reveal of PII, sealed into `AuditBlock`s.

    The database refuses UPDATE and DELETE on this table (trigger), so even a bug or a
    manual session cannot rewrite history; `verify_audit_chain` detects a row altered with
    the triggers disabled (each event's hash, its block's Merkle root, the anchors outside the
    database). Events written before blocks existed also carry a hash chain (`prev_hash`); new
    events leave it blank, so writers never wait on each other. The actor is kept by id and
    label without a foreign key, so deactivating or removing a user never has to touch this table.
    """

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    changes = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)  # legacy chain only; blank since blocks
    hash = models.CharField(max_length=64)
    # The writing transaction (the sealer's order is (txid, id)); 0 for events before blocks.
    txid = TransactionIdField(db_default=CurrentTransactionId(), editable=False)

    class Meta:
        ordering = ["-id"]
        # Declared here rather than with db_index/unique, so Django adds no LIKE twins.
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["action"], name="audit_action_idx"),
            models.Index(fields=["txid", "id"], name="audit_seal_order_idx"),
        ]
        permissions = [("view_audit_trail", "Can read the whole audit trail")]
        triggers = [
            pgtrigger.Protect(name="audit_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_label}"


class AuditBlock(models.Model):
    """A sealed run of audit events, in (txid, id) order: their hashes, Merkle root and link.

    `seal` = SHA-256 over the block's index, the previous block's seal, the Merkle root, the
    count and the cursor range; it is what the anchor store outside the database keeps.
    Append-only like the events.
    """

    index = models.PositiveBigIntegerField(unique=True)
    sealed_at = models.DateTimeField()
    first_txid = models.BigIntegerField()
    first_event = models.BigIntegerField()
    last_txid = models.BigIntegerField()
    last_event = models.BigIntegerField()
    event_count = models.PositiveIntegerField()
    event_ids = ArrayField(models.BigIntegerField())
    leaves = models.BinaryField()  # the events' hashes, 32 bytes each, in block order
    merkle_root = models.CharField(max_length=64)
    prev_seal = models.CharField(max_length=64)
    seal = models.CharField(max_length=64)

    class Meta:
        ordering = ["index"]
        triggers = [
            pgtrigger.Protect(name="audit_block_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"audit block {self.index} ({self.event_count} events)"


class BusinessCalendar(models.Model):
    """Singleton (pk=1): lets an administrator pin the business date, e.g. to replay a scan."""

    pinned_date = models.DateField(
        null=True, blank=True, help_text="Leave empty to use the calendar date. Pinning affects every bank rule."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="business_calendar_singleton")]

    def __str__(self) -> str:
        return f"Business date pinned to {self.pinned_date}" if self.pinned_date else "Business date: calendar"


class Lease(models.Model):
    """A named lease: who may run a singleton (the active beat) until when (apps.core.leases).

    Unlike a session advisory lock it expires by itself when its holder vanishes without closing
    its connection, and it works through PgBouncer's transaction pooling.
    """

    name = models.CharField(max_length=64, primary_key=True)
    holder = models.CharField(max_length=128)
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} until {self.expires_at:%H:%M:%S}"


class FxRate(models.Model):
    """One exchange rate the bank loaded: on `rate_date`, 1 `base_currency` = `rate` `quote_currency`.

    Reference data from the bank's treasury or market-data feed, loaded by `import_fx_rates` or
    entered in Django admin; FinPulse never derives one (no inverse, no cross rate), so a report
    can only convert what the bank stated (apps/core/fx.py). One rate per pair and date.
    """

    rate_date = models.DateField()
    base_currency = models.CharField(max_length=3)
    quote_currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=20, decimal_places=10)
    source = models.CharField(max_length=80, blank=True, help_text="Where the rate came from (feed, file).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-rate_date", "base_currency", "quote_currency"]
        verbose_name = "FX rate"
        constraints = [
            models.UniqueConstraint(
                fields=["quote_currency", "base_currency", "rate_date"], name="fx_rate_one_per_day"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="fx_rate_positive"),
            models.CheckConstraint(
                condition=~models.Q(base_currency=models.F("quote_currency")), name="fx_rate_two_currencies"
            ),
            models.CheckConstraint(
                condition=models.Q(base_currency__regex=r"^[A-Z]{3}$", quote_currency__regex=r"^[A-Z]{3}$"),
                name="fx_rate_currency_iso",
            ),
        ]

    def __str__(self) -> str:
        return f"1 {self.base_currency} = {self.rate} {self.quote_currency} on {self.rate_date}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from apps.core.currencies import ISO_CURRENCIES

        errors = {}
        for name in ("base_currency", "quote_currency"):
            value = getattr(self, name)
            if value and value not in ISO_CURRENCIES:
                errors[name] = f"{value!r} is not a currency code we deal in (ISO 4217)."
        if self.base_currency and self.base_currency == self.quote_currency:
            errors["quote_currency"] = "A rate converts between two different currencies."
        if self.rate is not None and self.rate <= 0:
            errors["rate"] = "A rate is a positive number."
        if errors:
            raise ValidationError(errors)


class DataKey(models.Model):
    """One data subject's data key, wrapped by the master key ring (apps.core.data_keys).

    Each customer's personal data is encrypted under its own key; erasure destroys the key
    (crypto-shredding), so the ciphertext left anywhere (the table, a replica, a backup of the
    business data) can no longer be read. The row stays as a tombstone: when and why the key
    was destroyed. `material` is the key, base64, encrypted by the master key ring, so
    `rotate_encryption_key` re-wraps every data key without touching the data they encrypt.
    """

    key_id = models.UUIDField(primary_key=True)
    material = EncryptedCharField(max_length=64, null=True, blank=True)
    # Where the key lives (FINPULSE_DATA_KEY_STORE, apps.core.key_store): "database" (material
    # here) or "directory" (a file on a separate volume; material stays empty here).
    store = models.CharField(max_length=12, default="database")
    created_at = models.DateTimeField(auto_now_add=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)
    destroyed_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(destroyed_at__isnull=True, material__isnull=False, store="database")
                | models.Q(destroyed_at__isnull=True, material__isnull=True, store="directory")
                | models.Q(destroyed_at__isnull=False, material__isnull=True),
                name="data_key_live_or_destroyed_by_store",
            )
        ]

    def __str__(self) -> str:
        return f"data key {self.key_id}{' (destroyed)' if self.destroyed_at else ''}"
