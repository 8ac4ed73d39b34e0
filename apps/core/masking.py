"""Masked hints of PII for lists, logs and audit change sets: never the whole value."""

from __future__ import annotations


def mask_email(value: str | None) -> str:
    if not value or "@" not in value:
        return ""
    local, _, domain = value.strip().partition("@")
    return f"{local[:1]}***@{domain}"


def mask_tail(value: str | None, visible: int = 4) -> str:
    """'GB29NWBK60161331926819' -> '••••6819'."""
    if not value:
        return ""
    compact = "".join(filter(str.isalnum, str(value)))
    if len(compact) <= visible:
        return "•" * len(compact)
    return "••••" + compact[-visible:]


def mask_phone(value: str | None) -> str:
    return mask_tail(value, 3)


def mask_national_id(value: str | None) -> str:
    return mask_tail(value, 3)


def mask_value(value: object) -> str:
    """Generic mask for audit change sets of PII fields: length-free, never reversible."""
    return "" if value in (None, "") else REDACTED


# Personal data an audit record may name (apps.customers' PII fields, plus the names of a
# reveal). A value recorded under one of these keys is shown masked even if a writer forgot to
# mask it; a test keeps this in step with apps.customers.models.PII_FIELDS.
AUDIT_PII_KEYS = frozenset({"date_of_birth", "national_id", "email", "phone", "address", "number"})
REDACTED = "[redacted]"


def mask_audit_value(key: str, value: object) -> object:
    """A recorded value as the trail may show it: PII keys masked, anything else as recorded."""
    if key not in AUDIT_PII_KEYS or value in (None, "", REDACTED):
        return value
    if isinstance(value, list | tuple):
        return [mask_audit_value(key, item) for item in value]
    return mask_value(value)
