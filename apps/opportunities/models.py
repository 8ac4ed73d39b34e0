"""The opportunities pipeline: a sale in progress, on a customer or a lead, moving through stages.

Stages are the bank's own (admin-editable, ordered, seeded by a data migration): each has a
default probability and may be the won or the lost end. An opportunity's `outcome` (open, won,
lost) is written by the service with its stage, so the board, the report and the constraints
read one column. Money is Decimal with its ISO currency, as on holdings.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.currencies import CURRENCY_CHOICES
from apps.core.urls_fast import fast_reverse

REASON_MAX_LENGTH = 500


class Stage(models.Model):
    name = models.CharField(max_length=60, unique=True)
    position = models.PositiveSmallIntegerField(unique=True, help_text="Order on the board, left to right.")
    default_probability = models.PositiveSmallIntegerField(help_text="Per cent, 0 to 100.")
    is_won = models.BooleanField(default=False, help_text="Reaching this stage wins the opportunity.")
    is_lost = models.BooleanField(default=False, help_text="Reaching this stage loses the opportunity.")
    is_active = models.BooleanField(default=True, help_text="Inactive stages take no new opportunities.")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.CheckConstraint(condition=~Q(is_won=True, is_lost=True), name="stage_not_won_and_lost"),
            models.CheckConstraint(condition=Q(default_probability__lte=100), name="stage_probability_percent"),
            models.CheckConstraint(condition=~Q(name=""), name="stage_has_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closing(self) -> bool:
        return self.is_won or self.is_lost


class Opportunity(models.Model):
    class Outcome(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    class Source(models.TextChoices):
        MANUAL = "manual", "Created by a person"
        LEAD = "lead", "Converted lead"
        MATURITY = "maturity", "Maturity alert"
        RECOMMENDATION = "recommendation", "Accepted recommendation"
        CUSTOMER_LIST = "customer_list", "Customer list (bulk)"
        IMPORT = "import", "Imported"

    # On a customer, or on a lead not yet converted: exactly one (constraint below).
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="opportunities"
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.PROTECT, related_name="opportunities"
    )
    product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="opportunities")
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="opportunities")
    probability = models.PositiveSmallIntegerField(help_text="Per cent, 0 to 100.")
    expected_close = models.DateField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="opportunities")
    next_step = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=4, choices=Outcome.choices, default=Outcome.OPEN)
    close_reason = models.CharField(max_length=REASON_MAX_LENGTH, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    # What opened it ("alert:12", "recommendation:7:PRD-1", "lead:3"): one open opportunity each.
    source_object = models.CharField(max_length=80, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["expected_close", "id"]
        verbose_name_plural = "opportunities"
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False, lead__isnull=True) | Q(customer__isnull=True, lead__isnull=False),
                name="opportunity_customer_or_lead",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="opportunity_amount_positive"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="opportunity_currency_iso"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="opportunity_probability_percent"),
            models.CheckConstraint(
                condition=Q(outcome="open", closed_at__isnull=True) | (~Q(outcome="open") & Q(closed_at__isnull=False)),
                name="opportunity_closed_has_time",
            ),
            # Won or lost, the bank wants to know why (win/loss analysis).
            models.CheckConstraint(
                condition=Q(outcome="open") | ~Q(close_reason=""), name="opportunity_closed_has_reason"
            ),
            models.UniqueConstraint(
                fields=["source_object"],
                condition=Q(outcome="open") & ~Q(source_object=""),
                name="opportunity_one_open_per_source",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "outcome", "expected_close"], name="opportunity_owner_idx"),
            models.Index(fields=["customer", "outcome"], name="opportunity_customer_idx"),
            models.Index(fields=["stage", "outcome"], name="opportunity_stage_idx"),
        ]

    def __str__(self) -> str:
        return f"Opportunity #{self.pk}"

    def get_absolute_url(self) -> str:
        return fast_reverse("opportunities:detail", self.pk)

    @property
    def is_open(self) -> bool:
        return self.outcome == self.Outcome.OPEN
