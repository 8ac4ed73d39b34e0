"""Keyed HMAC "blind index" so PII can be looked up and de-duplicated without decrypting.

The index key (BLIND_INDEX_KEY) is separate from the encryption key. Values are normalised
before hashing so that "J.Doe@Bank.example " and "j.doe@bank.example" match.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_phone(value: str) -> str:
    """Digits only, keeping a leading + (international form is expected: +44 20 ...)."""
    value = value.strip()
    digits = re.sub(r"\D", "", value)
    if value.startswith("00"):
        return "+" + digits[2:]
    return ("+" if value.startswith("+") else "") + digits


def normalise_national_id(value: str) -> str:
    return re.sub(r"[\s\-./]", "", value).upper()


NORMALISERS = {
    "email": normalise_email,
    "phone": normalise_phone,
    "national_id": normalise_national_id,
}


def blind_index(kind: str, value: str | None) -> str | None:
    """HMAC-SHA256 of the normalised value, hex; None for an empty value."""
    if not value:
        return None
    normalised = NORMALISERS[kind](value)
    if not normalised:
        return None
    message = f"{kind}:{normalised}".encode()
    return hmac.new(settings.BLIND_INDEX_KEY.encode(), message, hashlib.sha256).hexdigest()
