"""Product advice given to relationship managers, and what they did with it.

A Recommendation row is kept for every piece of advice shown (audit: which profile, which
catalog, which model and prompt produced it, what it cost), so advice survives a cache flush
and can be explained later. Rows hold no PII: the snapshot and prompt are built from an
allow-list (apps.recommendations.snapshot).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Recommendation(models.Model):
    class Source(models.TextChoices):
        LLM = "llm", "LLM"
        RULES = "rules", "Rule engine"

    # PROTECT: advice given is part of the customer's record; customers are closed, not deleted.
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="recommendations")
    profile_hash = models.CharField(max_length=64, help_text="SHA-256 of the snapshot, catalog, prompt and model.")
    source = models.CharField(max_length=8, choices=Source.choices)
    fallback_reason = models.CharField(
        max_length=32, blank=True, help_text="Why the rule engine answered instead of the LLM (empty: by design)."
    )
    model = models.CharField(max_length=100, blank=True)
    prompt_version = models.CharField(max_length=32)
    catalog_version = models.CharField(max_length=64)
    snapshot = models.JSONField(help_text="The PII-free profile the advice was based on.")
    prompt = models.JSONField(default=dict, blank=True, help_text="Messages sent to the LLM (PII-free).")
    response = models.TextField(blank=True, help_text="The LLM's raw answer, as received.")
    # [{product_id, product_code, product_name, category, rank, score, confidence, rationale, rules_passed}]
    items = models.JSONField(default=list)
    # [{product_code, reason}]: what the LLM proposed that validation refused.
    dropped_items = models.JSONField(default=list, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    # True when an identical profile's cached advice was reused (no vendor call for this row).
    from_cache = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Set when a rate change of a product this advice names (or one of the customer's maturing
    # holdings) made it stale: never served again, kept for the record.
    invalidated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at", "-id"], name="reco_customer_latest_idx"),
            models.Index(fields=["customer", "profile_hash", "-created_at"], name="reco_customer_hash_idx"),
            models.Index(fields=["created_at"], name="reco_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(source__in=["llm", "rules"]), name="reco_source_known"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="reco_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Advice {self.pk} for customer {self.customer_id} ({self.source})"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def dropped_count(self) -> int:
        return len(self.dropped_items or [])

    @property
    def product_codes(self) -> list[str]:
        return [item.get("product_code", "") for item in self.items or []]


class RecommendationFeedback(models.Model):
    """A manager's decision on one recommended product (one per product per advice)."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        DISMISSED = "dismissed", "Dismissed"

    recommendation = models.ForeignKey(Recommendation, on_delete=models.PROTECT, related_name="feedback")
    product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["recommendation", "product"], name="reco_feedback_one_per_product"),
            models.CheckConstraint(
                condition=~Q(decision="dismissed") | ~Q(reason=""), name="reco_feedback_dismissal_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["product", "decision"], name="reco_feedback_product_idx")]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} product {self.product_id} of advice {self.recommendation_id}"
