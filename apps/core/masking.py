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
    return "" if value in (None, "") else "[redacted]"
