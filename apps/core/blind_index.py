"""Keyed HMAC "blind index" so PII can be looked up and de-duplicated without decrypting.

The index key (BLIND_INDEX_KEY) is separate from the encryption key. Values are normalised
before hashing so that "J.Doe@Bank.example " and "j.doe@bank.example" match.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

from apps.core.phones import e164


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_phone(value: str) -> str:
    """E.164 (apps.core.phones), so '07700 900059' and '+44 7700 900059' index alike.

    Something that is not a phone number keeps its digits and a leading +, as before E.164,
    so it still finds itself.
    """
    number = e164(value)
    if number:
        return number
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
