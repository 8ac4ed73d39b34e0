from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_noop

from apps.core.currencies import CURRENCY_CHOICES
from apps.core.text_limits import DESCRIPTION_MAX_LENGTH, bounded_text, text_length_check


class Segment(models.TextChoices):
    MASS = "mass", gettext_noop("Mass")
    AFFLUENT = "affluent", gettext_noop("Affluent")
    PREMIUM = "premium", gettext_noop("Premium")
    PRIVATE = "private", gettext_noop("Private banking")
    SME = "sme", gettext_noop("Small business")
    CORPORATE = "corporate", gettext_noop("Corporate")


class RiskProfile(models.IntegerChoices):
    CONSERVATIVE = 1, gettext_noop("Conservative")
    CAUTIOUS = 2, gettext_noop("Cautious")
    BALANCED = 3, gettext_noop("Balanced")
    GROWTH = 4, gettext_noop("Growth")
    AGGRESSIVE = 5, gettext_noop("Aggressive")


class Product(models.Model):
    class Category(models.TextChoices):
        DEPOSIT = "deposit", gettext_noop("Deposit")
        LOAN = "loan", gettext_noop("Loan")
        CARD = "card", gettext_noop("Card")
        INVESTMENT = "investment", gettext_noop("Investment")

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=16, choices=Category.choices, db_index=True)
    description = bounded_text(DESCRIPTION_MAX_LENGTH, blank=True)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="GBP")
    min_term_months = models.PositiveSmallIntegerField(null=True, blank=True)
    max_term_months = models.PositiveSmallIntegerField(null=True, blank=True)
    min_amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    max_amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    # Eligibility rules: empty means "no restriction".
    min_age = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(null=True, blank=True)
    min_annual_income = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    eligible_segments = ArrayField(models.CharField(max_length=16, choices=Segment.choices), default=list, blank=True)
    min_risk_profile = models.PositiveSmallIntegerField(choices=RiskProfile.choices, null=True, blank=True)
    max_risk_profile = models.PositiveSmallIntegerField(choices=RiskProfile.choices, null=True, blank=True)
    for_individuals = models.BooleanField(default=True)
    for_businesses = models.BooleanField(default=False)
    branches = models.ManyToManyField(
        "identity.Branch", blank=True, related_name="products", help_text="Empty means every branch."
    )
    is_active = models.BooleanField(default=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "name"]
        constraints = [
            text_length_check("description", DESCRIPTION_MAX_LENGTH, name="product_description_length"),
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True) | Q(max_amount__isnull=True) | Q(min_amount__lte=F("max_amount")),
                name="product_amount_range",
            ),
            models.CheckConstraint(
                condition=Q(min_term_months__isnull=True)
                | Q(max_term_months__isnull=True)
                | Q(min_term_months__lte=F("max_term_months")),
                name="product_term_range",
            ),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True) | Q(max_age__isnull=True) | Q(min_age__lte=F("max_age")),
                name="product_age_range",
            ),
            models.CheckConstraint(
                condition=Q(min_amount__gte=0) | Q(min_amount__isnull=True), name="product_min_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        errors = {}
        if self.min_amount is not None and self.max_amount is not None and self.min_amount > self.max_amount:
            errors["max_amount"] = "The maximum amount must be at least the minimum amount."
        if (
            self.min_term_months is not None
            and self.max_term_months is not None
            and self.min_term_months > self.max_term_months
        ):
            errors["max_term_months"] = "The maximum term must be at least the minimum term."
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            errors["max_age"] = "The maximum age must be at least the minimum age."
        if errors:
            raise ValidationError(errors)


class ProductRate(models.Model):
    """A dated rate slab. A rate change is a new row, never an overwrite, so "the rate on
    the maturity date" can always be answered."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="rates")
    effective_from = models.DateField()
    min_amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    max_amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    min_term_months = models.PositiveSmallIntegerField(default=0)
    max_term_months = models.PositiveSmallIntegerField(null=True, blank=True)
    rate = models.DecimalField(max_digits=7, decimal_places=4, help_text="Annual rate in percent.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["product", "-effective_from", "min_amount", "min_term_months"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "effective_from", "min_amount", "min_term_months"], name="product_rate_unique_slab"
            ),
            models.CheckConstraint(condition=Q(rate__gte=-5) & Q(rate__lte=100), name="product_rate_sane"),
            models.CheckConstraint(
                condition=Q(max_amount__isnull=True) | Q(min_amount__lt=F("max_amount")),
                name="product_rate_amount_slab",
            ),
            models.CheckConstraint(condition=Q(min_amount__gte=0), name="product_rate_min_amount_positive"),
        ]
        indexes = [models.Index(fields=["product", "effective_from"], name="product_rate_effective_idx")]

    def __str__(self) -> str:
        return f"{self.product.code} {self.rate}% from {self.effective_from}"


class ProductFee(models.Model):
    class Frequency(models.TextChoices):
        ONE_OFF = "one_off", gettext_noop("One-off")
        MONTHLY = "monthly", gettext_noop("Monthly")
        ANNUAL = "annual", gettext_noop("Annual")
        PER_TRANSACTION = "per_transaction", gettext_noop("Per transaction")

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="fees")
    name = models.CharField(max_length=80)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    percentage = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    frequency = models.CharField(max_length=16, choices=Frequency.choices, default=Frequency.ONE_OFF)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="product_fee_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.product.code})"
