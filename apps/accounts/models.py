from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_noop

from apps.core.currencies import CURRENCY_CHOICES, ISO_CURRENCIES
from apps.core.fields import EncryptedCharField
from apps.core.masking import mask_tail
from apps.products.models import Product

# The sign convention (docs/decisions.md, apps/accounts/positions.py): a balance is signed from
# the customer's side. Money they have with us is never negative; money they owe us (a loan's
# outstanding principal, a card's balance) is never positive. A current account may be either.
ASSET_CATEGORIES = ("savings_account", "term_deposit", "investment")
LIABILITY_CATEGORIES = ("loan", "credit_card")
_DIGITS = re.compile(r"\d")


class Holding(models.Model):
    class Category(models.TextChoices):
        CURRENT_ACCOUNT = "current_account", gettext_noop("Current account")
        SAVINGS_ACCOUNT = "savings_account", gettext_noop("Savings account")
        TERM_DEPOSIT = "term_deposit", gettext_noop("Term deposit")
        LOAN = "loan", gettext_noop("Loan")
        CREDIT_CARD = "credit_card", gettext_noop("Credit card")
        INVESTMENT = "investment", gettext_noop("Investment")

    class MaturityInstruction(models.TextChoices):
        RENEW = "renew", gettext_noop("Renew")
        PAY_OUT = "pay_out", gettext_noop("Pay out")
        TRANSFER = "transfer", gettext_noop("Transfer to account")

    class Status(models.TextChoices):
        ACTIVE = "active", gettext_noop("Active")
        MATURED = "matured", gettext_noop("Matured")
        CLOSED = "closed", gettext_noop("Closed")

    external_id = models.CharField(max_length=64, unique=True, help_text="Id in the core banking system.")
    category = models.CharField(max_length=16, choices=Category.choices, db_index=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="holdings")
    # Account/loan/IBAN number, encrypted. Cards never store a number: only the last four digits.
    number = EncryptedCharField(max_length=64, null=True, blank=True, default="")
    number_hint = models.CharField(max_length=12, blank=True, editable=False)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    balance = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    credit_limit = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    rate = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True, help_text="Annual %.")
    opened_on = models.DateField()
    maturity_date = models.DateField(null=True, blank=True, db_index=True)
    maturity_instruction = models.CharField(max_length=10, choices=MaturityInstruction.choices, blank=True, default="")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    customers = models.ManyToManyField("customers.Customer", through="HoldingParty", related_name="holdings")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "opened_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(maturity_date__isnull=True) | Q(maturity_date__gte=F("opened_on")),
                name="holding_matures_after_opening",
            ),
            models.CheckConstraint(
                condition=(~Q(category__in=ASSET_CATEGORIES) | Q(balance__gte=0))
                & (~Q(category__in=LIABILITY_CATEGORIES) | Q(balance__lte=0)),
                name="holding_balance_sign",
            ),
            models.CheckConstraint(
                condition=~Q(category="term_deposit") | (Q(maturity_date__isnull=False) & ~Q(maturity_instruction="")),
                name="deposit_has_maturity_and_instruction",
            ),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="holding_currency_iso"),
            models.CheckConstraint(
                condition=~Q(category="credit_card") | Q(number__isnull=True), name="card_number_never_stored"
            ),
            models.CheckConstraint(
                condition=Q(credit_limit__gte=0) | Q(credit_limit__isnull=True), name="holding_limit_positive"
            ),
        ]
        indexes = [
            # Carries the id, so the dashboard reads a window's holdings from the index alone (decision 127).
            models.Index(fields=["status", "maturity_date"], include=["id"], name="holding_active_maturity_idx"),
            # An active holding's maturity by its id, for holdings that mature at all: a manager's
            # dashboard checks each holding of the book here (decision 147).
            models.Index(
                fields=["id"],
                include=["maturity_date"],
                condition=Q(status="active", maturity_date__isnull=False),
                name="holding_maturing_id_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.number_hint}"

    def set_number(self, value: str) -> None:
        """Store the number encrypted with a masked hint; for cards keep only the last four."""
        value = (value or "").strip()
        if self.category == self.Category.CREDIT_CARD:
            # Accept a full number or just its last four; keep only the last four as the hint.
            digits = "".join(_DIGITS.findall(value))
            self.number = ""
            self.number_hint = f"••••{digits[-4:]}" if digits else ""
        else:
            self.number = value
            self.number_hint = mask_tail(value, 4)

    def clean(self) -> None:
        errors = {}
        if self.currency and self.currency not in ISO_CURRENCIES:
            errors["currency"] = f"{self.currency!r} is not a currency code we deal in (ISO 4217)."
        if self.maturity_date and self.opened_on and self.maturity_date < self.opened_on:
            errors["maturity_date"] = "The maturity date cannot be before the opening date."
        if self.category in ASSET_CATEGORIES and self.balance is not None and self.balance < 0:
            errors["balance"] = "The balance of a deposit, savings account or investment cannot be negative."
        if self.category in LIABILITY_CATEGORIES and self.balance is not None and self.balance > 0:
            errors["balance"] = (
                "A loan or card balance is what the customer owes: give it as a negative amount (-1500.00 owes 1,500)."
            )
        if self.category == self.Category.TERM_DEPOSIT:
            if not self.maturity_date:
                errors["maturity_date"] = "A term deposit needs a maturity date."
            if not self.maturity_instruction:
                errors["maturity_instruction"] = "A term deposit needs a maturity instruction."
        if self.category == self.Category.CREDIT_CARD and self.number:
            errors["number"] = "A card number is never stored; keep only its last four digits."
        if errors:
            raise ValidationError(errors)


class HoldingParty(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", gettext_noop("Owner")
        JOINT = "joint", gettext_noop("Joint holder")
        BENEFICIARY = "beneficiary", gettext_noop("Beneficiary")
        POWER_OF_ATTORNEY = "power_of_attorney", gettext_noop("Power of attorney")

    holding = models.ForeignKey(Holding, on_delete=models.CASCADE, related_name="parties")
    # Indexed by holding_party_customer_idx, which carries the role and the holding (decision 147).
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="holding_parties", db_index=False
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.OWNER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["holding", "customer"], name="holding_party_unique")]
        indexes = [
            # A customer's holdings with their role, read from the index alone: the dashboard's
            # maturing section reads the parties of each customer of a book (decision 147).
            models.Index(fields=["customer"], include=["role", "holding"], name="holding_party_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.role} of {self.holding_id}"
