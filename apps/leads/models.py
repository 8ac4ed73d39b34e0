"""Leads: inquiries from the bank's website, public form and batch files, and their qualification.

A lead moves through an explicit state machine (apps.leads.state); every move is a service
call that writes a LeadTransition row (so the time spent in each state is known) and an audit
event. The inquiry text and the contact details are encrypted at rest; lists show the masked
hints only. What the extractor read from the inquiry is stored beside a confidence per field,
and a manager's correction is kept as a LeadCorrection row.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_noop

from apps.core.fields import EncryptedCharField, EncryptedTextField
from apps.core.text_limits import INQUIRY_MAX_LENGTH
from apps.core.urls_fast import fast_reverse


class Intent(models.TextChoices):
    MORTGAGE = "mortgage", "Mortgage"
    PERSONAL_LOAN = "personal_loan", "Personal loan"
    CAR_LOAN = "car_loan", "Car loan"
    CREDIT_CARD = "credit_card", "Credit card"
    DEPOSIT = "deposit", "Deposit / savings"
    INVESTMENT = "investment", "Investment"
    BUSINESS_LOAN = "business_loan", "Business lending"
    OTHER = "other", "Other"


class LoanPurpose(models.TextChoices):
    """A closed vocabulary, so the rule engine, the LLM and a manager's correction agree."""

    HOME_PURCHASE = "home_purchase", "Home purchase"
    REMORTGAGE = "remortgage", "Remortgage"
    HOME_IMPROVEMENT = "home_improvement", "Home improvement"
    CAR_PURCHASE = "car_purchase", "Vehicle purchase"
    DEBT_CONSOLIDATION = "debt_consolidation", "Debt consolidation"
    EDUCATION = "education", "Education"
    WEDDING = "wedding", "Wedding"
    TRAVEL = "travel", "Travel"
    MEDICAL = "medical", "Medical"
    BUSINESS = "business", "Business"
    OTHER = "other", "Other"


class Constraint(models.TextChoices):
    FIXED_TERM_CONTRACT = "fixed_term_contract", "Fixed-term contract"
    SELF_EMPLOYED = "self_employed", "Self-employed"
    EXISTING_DEBT = "existing_debt", "Existing debt"
    POOR_CREDIT_HISTORY = "poor_credit_history", "Poor credit history"
    PROBATION_PERIOD = "probation_period", "New job / probation"
    NON_RESIDENT = "non_resident", "Recently arrived / non-resident"
    STUDENT = "student", "Student"
    RETIRED = "retired", "Retired"
    FIRST_TIME_BUYER = "first_time_buyer", "First-time buyer"
    JOINT_APPLICATION = "joint_application", "Joint application"


class Lead(models.Model):
    class State(models.TextChoices):
        NEW = "new", gettext_noop("New")
        QUALIFYING = "qualifying", gettext_noop("Qualifying")
        QUALIFIED = "qualified", gettext_noop("Qualified")
        NEEDS_REVIEW = "needs_review", gettext_noop("Needs human review")
        ASSIGNED = "assigned", gettext_noop("Assigned")
        CONVERTED = "converted", gettext_noop("Converted")
        REJECTED = "rejected", gettext_noop("Rejected")

    class Source(models.TextChoices):
        API = "api", "Website (API)"
        FORM = "form", "Public form"
        IMPORT = "import", "Batch file"

    class ExtractedBy(models.TextChoices):
        NONE = "", "Not yet"
        LLM = "llm", "Language model"
        RULES = "rules", "Rule engine"

    # What the applicant wrote and how to reach them: encrypted, never in lists or logs.
    # Encrypted (ciphertext in the database): the limit is this validator, checked on every path.
    inquiry = EncryptedTextField(validators=[MaxLengthValidator(INQUIRY_MAX_LENGTH)])
    full_name = EncryptedCharField(max_length=160, null=True, blank=True, default="")
    name_hint = models.CharField(max_length=16, blank=True, editable=False)
    email = EncryptedCharField(max_length=254, null=True, blank=True, default="")
    email_index = models.CharField(max_length=64, null=True, blank=True, editable=False, db_index=True)
    email_hint = models.CharField(max_length=64, blank=True, editable=False)
    phone = EncryptedCharField(max_length=32, null=True, blank=True, default="")
    phone_index = models.CharField(max_length=64, null=True, blank=True, editable=False, db_index=True)
    phone_hint = models.CharField(max_length=16, blank=True, editable=False)

    source = models.CharField(max_length=8, choices=Source.choices)
    # The sender's own reference (website submission id, batch row id): a resent row is recognised.
    external_ref = models.CharField(max_length=100, blank=True)
    branch = models.ForeignKey("identity.Branch", null=True, blank=True, on_delete=models.PROTECT, related_name="leads")

    state = models.CharField(max_length=12, choices=State.choices, default=State.NEW)
    state_changed_at = models.DateTimeField()

    # What the extractor read (null: not in the inquiry; never guessed), each with a confidence 0..1.
    intent = models.CharField(max_length=16, choices=Intent.choices, blank=True)
    intent_confidence = models.FloatField(null=True, blank=True)
    monthly_income = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    monthly_income_confidence = models.FloatField(null=True, blank=True)
    requested_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    requested_amount_confidence = models.FloatField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    loan_purpose = models.CharField(max_length=20, choices=LoanPurpose.choices, blank=True)
    loan_purpose_confidence = models.FloatField(null=True, blank=True)
    constraints = models.JSONField(default=list, blank=True)
    extracted_by = models.CharField(max_length=8, choices=ExtractedBy.choices, blank=True)
    extraction_model = models.CharField(max_length=100, blank=True)
    # What reading the inquiry cost (LLM tokens and the estimated vendor cost; 0 for the rules).
    extracted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    llm_prompt_tokens = models.PositiveIntegerField(default=0)
    llm_completion_tokens = models.PositiveIntegerField(default=0)
    llm_cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    review_reasons = models.JSONField(default=list, blank=True)
    # Extraction bookkeeping: a lease so a duplicate message does not call the LLM twice, and
    # when the sweeper may pick the lead up again if the worker that held it died.
    extraction_attempts = models.PositiveSmallIntegerField(default=0)
    extraction_lease_until = models.DateTimeField(null=True, blank=True)

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_leads"
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="leads"
    )
    rejection_reason = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField()
    first_contact_due_at = models.DateTimeField()
    first_contacted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_ref"], condition=~Q(external_ref=""), name="lead_unique_source_ref"
            ),
            models.CheckConstraint(
                condition=~Q(state="assigned") | Q(assignee__isnull=False), name="lead_assigned_has_assignee"
            ),
            models.CheckConstraint(
                condition=~Q(state="converted") | Q(customer__isnull=False), name="lead_converted_has_customer"
            ),
            models.CheckConstraint(
                condition=Q(requested_amount__isnull=True) | Q(requested_amount__gte=0), name="lead_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(monthly_income__isnull=True) | Q(monthly_income__gte=0), name="lead_income_positive"
            ),
        ]
        indexes = [
            # The inbox: a branch's or an advisor's open leads, newest first.
            models.Index(fields=["branch", "state", "-received_at"], name="lead_branch_state_idx"),
            models.Index(fields=["assignee", "state", "-received_at"], name="lead_assignee_state_idx"),
            # The sweeper: leads left in new/qualifying.
            models.Index(
                fields=["state", "state_changed_at"],
                condition=Q(state__in=["new", "qualifying"]),
                name="lead_pending_extraction_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Lead #{self.pk} ({self.get_state_display()})"

    def get_absolute_url(self) -> str:
        return fast_reverse("leads:detail", self.pk)

    @property
    def is_open(self) -> bool:
        return self.state not in (self.State.CONVERTED, self.State.REJECTED)

    def is_overdue_at(self, now: object) -> bool:
        return self.is_open and self.first_contacted_at is None and self.first_contact_due_at < now  # type: ignore[operator]


class LeadTransition(models.Model):
    """One move of the state machine: from, to, when, who and why (append-only)."""

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(max_length=12, choices=Lead.State.choices)
    to_state = models.CharField(max_length=12, choices=Lead.State.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["lead", "at"], name="lead_transition_lead_idx")]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_state} → {self.to_state}"


class LeadCorrection(models.Model):
    """A manager corrected what the extractor read: field, old and new value (kept as text)."""

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="corrections")
    field = models.CharField(max_length=32)
    old_value = models.CharField(max_length=500, blank=True)
    new_value = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.lead_id}.{self.field}: {self.old_value!r} → {self.new_value!r}"
