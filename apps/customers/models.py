from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Upper
from django.utils.translation import gettext_noop
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from apps.core.blind_index import blind_index
from apps.core.data_keys import DataKeyQuerySet, create_data_key
from apps.core.fields import EncryptedCharField, EncryptedDateField, EncryptedTextField
from apps.core.masking import mask_email, mask_national_id, mask_phone
from apps.core.text_limits import ADDRESS_MAX_LENGTH
from apps.core.urls_fast import fast_reverse
from apps.customers.validation import validate_country, validate_external_id
from apps.products.models import RiskProfile, Segment


def external_id_tail(field: str) -> Func:
    """The number at the end of an external id without its leading zeros (CB00012345 -> 12345).

    Indexed (customer_external_id_tail); a query must use this very expression to use it.
    """
    digits = Func(F(field), Value("[0-9]+$"), function="substring", output_field=models.CharField())
    return Func(digits, Value("0"), function="ltrim", output_field=models.CharField())


def external_id_tail_of(term: str) -> str | None:
    """What external_id_tail gives for a term made of digits; None for any other term."""
    term = term.strip()
    return (term.lstrip("0") or None) if term.isdigit() else None


# PII that has a blind index and a masked hint beside its ciphertext.
INDEXED_PII = {"national_id": mask_national_id, "email": mask_email, "phone": mask_phone}
PII_FIELDS = ("date_of_birth", "national_id", "email", "phone", "address")
# What an audit change set masks: the encrypted PII and everything else that names or describes
# the person. The chain is append-only, so a value written into it could never be erased
# (GDPR Art. 17): it holds "[redacted]" and the customer's id, never the value.
AUDIT_MASKED_FIELDS = (*PII_FIELDS, "first_name", "last_name", "company_name", "annual_income")


class DataKeyIdField(models.UUIDField):
    """The row's data subject key (apps.core.data_keys), created with the row.

    Whichever of this field and the encrypted fields is prepared first creates the key, so a
    new customer's values and its key id always agree, through save(), bulk_create and COPY.
    """

    def pre_save(self, model_instance: models.Model, add: bool) -> uuid.UUID | None:
        return model_instance.pii_data_key_id()  # type: ignore[attr-defined]


class Customer(models.Model):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", gettext_noop("Individual")
        BUSINESS = "business", gettext_noop("Business")

    class KycStatus(models.TextChoices):
        PENDING = "pending", gettext_noop("Pending")
        VERIFIED = "verified", gettext_noop("Verified")
        REVIEW_DUE = "review_due", gettext_noop("Review due")
        EXPIRED = "expired", gettext_noop("Expired")
        REJECTED = "rejected", gettext_noop("Rejected")

    class Status(models.TextChoices):
        PROSPECT = "prospect", gettext_noop("Prospect")
        ACTIVE = "active", gettext_noop("Active")
        DORMANT = "dormant", gettext_noop("Dormant")
        CLOSED = "closed", gettext_noop("Closed")

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INDIVIDUAL)
    # One rule for every surface (apps/customers/validation.py): API, import, admin.
    external_id = models.CharField(
        max_length=64, validators=[validate_external_id], help_text="Id in the core banking system."
    )  # unique: Meta
    # Names stay searchable (trigram index); everything else that identifies a person is encrypted.
    first_name = models.CharField(max_length=80, blank=True)
    last_name = models.CharField(max_length=80, blank=True)
    company_name = models.CharField(max_length=160, blank=True)
    display_name = models.CharField(max_length=200, editable=False)

    date_of_birth = EncryptedDateField(null=True, blank=True)
    national_id = EncryptedCharField(max_length=64, null=True, blank=True, default="")
    national_id_index = models.CharField(max_length=64, null=True, blank=True, editable=False)
    national_id_hint = models.CharField(max_length=16, blank=True, editable=False)
    email = EncryptedCharField(max_length=254, null=True, blank=True, default="")
    email_index = models.CharField(max_length=64, null=True, blank=True, editable=False)
    email_hint = models.CharField(max_length=64, blank=True, editable=False)
    phone = EncryptedCharField(max_length=32, null=True, blank=True, default="")
    phone_index = models.CharField(max_length=64, null=True, blank=True, editable=False)
    phone_hint = models.CharField(max_length=16, blank=True, editable=False)
    # Encrypted: the database sees ciphertext, so the limit is held by this validator (forms,
    # services' full_clean, the API and the import all check it), not by a CHECK constraint.
    address = EncryptedTextField(null=True, blank=True, default="", validators=[MaxLengthValidator(ADDRESS_MAX_LENGTH)])
    country = models.CharField(
        max_length=2, default="GB", validators=[validate_country], help_text="ISO 3166 country of residence."
    )

    segment = models.CharField(max_length=16, choices=Segment.choices, default=Segment.MASS)
    risk_profile = models.PositiveSmallIntegerField(choices=RiskProfile.choices, default=RiskProfile.BALANCED)
    annual_income = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    income_currency = models.CharField(max_length=3, default="GBP")
    kyc_status = models.CharField(max_length=12, choices=KycStatus.choices, default=KycStatus.PENDING)
    kyc_review_date = models.DateField(null=True, blank=True)
    branch = models.ForeignKey("identity.Branch", on_delete=models.PROTECT, related_name="customers", db_index=False)
    primary_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="primary_customers",
        db_index=False,
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    customer_since = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Crypto-shredding (apps.core.data_keys): this customer's PII is encrypted under this key;
    # NULL for a customer created before per-customer keys (`wrap_customer_data_keys`).
    data_key_id = DataKeyIdField(null=True, blank=True, editable=False)
    # GDPR Art. 18 / 17 (apps/privacy): a restricted customer is hidden from every surface but
    # compliance's; an erased one has had its personal data destroyed.
    restricted_at = models.DateTimeField(null=True, blank=True, editable=False)
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = DataKeyQuerySet.as_manager()

    class Meta:
        ordering = ["display_name", "id"]
        permissions = [
            ("view_all_customers", "Can see every customer (compliance, administration)"),
            ("reveal_pii", "Can reveal a customer's personal data"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="customer_unique_external_id"),
            models.UniqueConstraint(fields=["national_id_index"], name="customer_unique_national_id"),
            models.CheckConstraint(
                condition=Q(annual_income__gte=0) | Q(annual_income__isnull=True), name="customer_income_positive"
            ),
            models.CheckConstraint(condition=~Q(external_id=""), name="customer_external_id_not_blank"),
            models.CheckConstraint(condition=~Q(display_name=""), name="customer_has_a_name"),
        ]
        indexes = [
            GinIndex(name="customer_name_trgm", fields=["display_name"], opclasses=["gin_trgm_ops"]),
            models.Index(fields=["branch", "display_name", "id"], name="customer_branch_name_idx"),
            models.Index(fields=["primary_manager", "display_name", "id"], name="customer_manager_name_idx"),
            # Keyset sorting of the whole book (compliance, administrators).
            models.Index(fields=["display_name", "id"], name="customer_name_id_idx"),
            models.Index(fields=["updated_at", "id"], name="customer_updated_id_idx"),
            models.Index(fields=["kyc_review_date", "id"], name="customer_kyc_id_idx"),
            # Declared here so Django adds no LIKE (varchar_pattern_ops) twin to exact-match
            # columns, and no single-column index where a composite one above starts with the
            # column (branch, primary manager, KYC date). Every index is paid on every insert.
            # The search's external-id matches as managers type them: a case-insensitive prefix
            # (UPPER(external_id) LIKE 'CB0001%', needs the pattern opclass) and the number
            # without its prefix and leading zeros ('12345' finds CB00012345).
            models.Index(OpClass(Upper("external_id"), name="text_pattern_ops"), name="customer_external_id_upper"),
            models.Index(external_id_tail("external_id"), name="customer_external_id_tail"),
            models.Index(fields=["email_index"], name="customer_email_index_idx"),
            models.Index(fields=["phone_index"], name="customer_phone_index_idx"),
            models.Index(fields=["segment"], name="customer_segment_idx"),
            models.Index(fields=["status"], name="customer_status_idx"),
        ]

    def __str__(self) -> str:
        # During a request, a customer outside the viewer's book is never named (admin lists,
        # inlines, autocomplete, form choices all call this): see apps/customers/book.py.
        from apps.customers.book import OUTSIDE_BOOK, current_book

        book = current_book()
        if book is not None and self.pk is not None and not book.sees(self.pk):
            return OUTSIDE_BOOK
        return f"{self.display_name} ({self.external_id})"

    def get_absolute_url(self) -> str:
        return fast_reverse("customers:detail", self.pk)

    def pii_data_key_id(self) -> uuid.UUID | None:
        """The key this customer's PII is encrypted under; a new customer gets its own."""
        if self.data_key_id is None and self._state.adding:
            self.data_key_id = create_data_key()
        return self.data_key_id

    def compose_display_name(self) -> str:
        if self.kind == self.Kind.BUSINESS:
            return self.company_name.strip()
        return " ".join(p for p in (self.first_name.strip(), self.last_name.strip()) if p)

    def set_pii(self, field: str, value: str) -> None:
        """Set a PII value together with its blind index and masked hint."""
        value = (value or "").strip()
        setattr(self, field, value)
        if field in INDEXED_PII:
            setattr(self, f"{field}_index", blind_index(field, value))
            setattr(self, f"{field}_hint", INDEXED_PII[field](value))

    def clean(self) -> None:
        errors = {}
        if self.kind == self.Kind.BUSINESS and not self.company_name.strip():
            errors["company_name"] = "A business customer needs a company name."
        if self.kind == self.Kind.INDIVIDUAL and not (self.first_name.strip() or self.last_name.strip()):
            errors["last_name"] = "An individual customer needs a name."
        if self.annual_income is not None and self.annual_income < 0:
            errors["annual_income"] = "Income cannot be negative."
        if errors:
            raise ValidationError(errors)


class CustomerUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign-key permission rows: indexed, typed, fast at scale (guardian's unique
    (user, permission, content_object) is the lookup index)."""

    content_object = models.ForeignKey(Customer, on_delete=models.CASCADE)


class CustomerGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Customer, on_delete=models.CASCADE)


class CustomerAssignment(models.Model):
    """History of who looked after a customer, and who decided it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="assignments")
    manager = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(ended_at__isnull=True), name="customer_one_current_assignment"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="assignment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.manager_id} from {self.started_at:%Y-%m-%d}"


class CustomerConsent(models.Model):
    """Marketing/service consent per channel and purpose, as recorded (GDPR/PECR)."""

    class Channel(models.TextChoices):
        EMAIL = "email", gettext_noop("Email")
        SMS = "sms", gettext_noop("SMS")
        PHONE = "phone", gettext_noop("Phone")
        POST = "post", gettext_noop("Post")

    class Purpose(models.TextChoices):
        MARKETING = "marketing", gettext_noop("Marketing")
        SERVICE = "service", gettext_noop("Service notices (e.g. maturity)")
        PROFILING = "profiling", gettext_noop("Profiling for product advice")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    granted = models.BooleanField()
    recorded_at = models.DateTimeField()
    source = models.CharField(max_length=80, blank=True, help_text="Where the consent was given.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "channel", "purpose"], name="consent_unique_channel_purpose")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel}/{self.purpose}: {'yes' if self.granted else 'no'}"


class IdentityDocument(models.Model):
    class DocumentType(models.TextChoices):
        PASSPORT = "passport", gettext_noop("Passport")
        NATIONAL_ID_CARD = "id_card", gettext_noop("National identity card")
        DRIVING_LICENCE = "driving_licence", gettext_noop("Driving licence")
        RESIDENCE_PERMIT = "residence_permit", gettext_noop("Residence permit")
        COMPANY_REGISTRATION = "company_registration", gettext_noop("Company registration")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="documents")
    document_type = models.CharField(max_length=24, choices=DocumentType.choices)
    number = EncryptedCharField(max_length=64)
    number_hint = models.CharField(max_length=16, editable=False, blank=True)
    issuing_country = models.CharField(max_length=2, validators=[validate_country])
    issued_on = models.DateField(null=True, blank=True)
    expiry_date = models.DateField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DataKeyQuerySet.as_manager()

    class Meta:
        ordering = ["expiry_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(issued_on__isnull=True) | Q(expiry_date__isnull=True) | Q(expiry_date__gt=F("issued_on")),
                name="document_expires_after_issue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_document_type_display()} {self.number_hint}"

    def pii_data_key_id(self) -> uuid.UUID | None:
        """A document is its customer's personal data: it goes with the customer's key."""
        return self.customer.data_key_id

    def set_number(self, value: str) -> None:
        self.number = value.strip()
        self.number_hint = mask_national_id(self.number)

    def clean(self) -> None:
        if self.issued_on and self.expiry_date and self.expiry_date <= self.issued_on:
            raise ValidationError({"expiry_date": "The expiry date must be after the issue date."})


class CustomerRelationship(models.Model):
    class Kind(models.TextChoices):
        HOUSEHOLD = "household", gettext_noop("Same household")
        SPOUSE = "spouse", gettext_noop("Spouse or partner")
        GUARANTOR = "guarantor", gettext_noop("Guarantor")
        DIRECTOR = "director", gettext_noop("Company director")

    HOUSEHOLD_KINDS = (Kind.HOUSEHOLD, Kind.SPOUSE)

    from_customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="relationships")
    to_customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="related_from")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_customer", "to_customer", "kind"], name="relationship_unique"),
            models.CheckConstraint(condition=~Q(from_customer=F("to_customer")), name="relationship_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.from_customer_id} {self.kind} {self.to_customer_id}"


class BreakGlassGrant(models.Model):
    """Time-limited access to one customer outside a manager's book (break-glass).

    Granted only when a second person approves the manager's stated reason (four eyes), for
    FINPULSE_BREAK_GLASS_HOURS; read by the one visibility rule (apps/customers/visibility.py),
    so it opens that customer everywhere the manager's book would, and nothing else, until
    `expires_at`. Rows are kept as the record of who looked where and why.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass_grants")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="break_glass_grants")
    reason = models.CharField(max_length=500)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    change_request_id = models.BigIntegerField(null=True, blank=True)
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["user", "expires_at"], name="break_glass_user_expiry_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=F("starts_at")), name="break_glass_ends_after_start"),
            models.CheckConstraint(condition=~Q(approved_by=F("user")), name="break_glass_approved_by_another"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → customer {self.customer_id} until {self.expires_at:%Y-%m-%d %H:%M}"
