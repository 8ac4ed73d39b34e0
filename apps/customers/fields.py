"""The customer's field lists, declared once.

The services, forms, admin, API, import schema and export all build on these, so a new field
is added in one place (and the import/export tests check that their columns follow).
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from apps.customers.models import INDEXED_PII, PII_FIELDS

__all__ = [
    "BANKING_FIELDS",
    "DOCUMENT_FIELDS",
    "DOCUMENT_ROW_FIELDS",
    "EXPORTED_PII",
    "HINT_FIELDS",
    "NAME_FIELDS",
    "PII_FIELDS",
    "PII_LABELS",
    "PROFILE_FIELDS",
]

NAME_FIELDS = ("first_name", "last_name", "company_name")
# English data (exports, audit); pages translate them on display (gettext_noop marks them).
PII_LABELS = {
    "date_of_birth": gettext_noop("Date of birth"),
    "national_id": gettext_noop("National id"),
    "email": gettext_noop("Email"),
    "phone": gettext_noop("Phone"),
    "address": gettext_noop("Address"),
}
# The masked hints stored beside the encrypted values, so lists and exports never decrypt.
HINT_FIELDS = tuple(f"{name}_hint" for name in INDEXED_PII)
# Personal data in an export that includes it: the indexed fields first, where their masked
# hints sit in an export without it.
EXPORTED_PII = (*INDEXED_PII, *(name for name in PII_FIELDS if name not in INDEXED_PII))
# What the bank records about the relationship (not personal data).
BANKING_FIELDS = (
    "segment",
    "risk_profile",
    "annual_income",
    "income_currency",
    "kyc_status",
    "kyc_review_date",
    "status",
    "customer_since",
)
# Everything create_customer and update_customer accept.
PROFILE_FIELDS = ("kind", *NAME_FIELDS, *PII_FIELDS, "country", *BANKING_FIELDS)
# What a recorded identity document shows (admin, API, the subject's export): the number only as
# its hint.
DOCUMENT_FIELDS = ("document_type", "number_hint", "issuing_country", "issued_on", "expiry_date")
# What a row about an identity document shows (its expiry alert, the dashboard): the number only
# as its hint, the customer by name.
DOCUMENT_ROW_FIELDS = (
    "id",
    "document_type",
    "number_hint",
    "expiry_date",
    "customer__id",
    "customer__display_name",
)
