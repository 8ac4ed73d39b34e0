"""Phone numbers as one canonical string, E.164 ('+447700900059'), whatever way they were typed.

A manager types '07700 900059', '+44 7700 900059', '447700900059' or '0044 7700 900059'; the
core banking file may hold any of them. All are the same number: the blind index, the imports'
duplicate check, the API and the search box compare E.164. A number written without a country
code belongs to the bank's own region, FINPULSE_PHONE_REGION (read when called). Google's
libphonenumber (`phonenumbers`) knows each country's prefixes and lengths; we accept what it
calls a *possible* number (right length for its country), not only a *valid* (allocated) one,
so test and drama ranges such as 07700 900xxx still work.
"""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings

_DIGITS = re.compile(r"\D")


def phone_region() -> str:
    return settings.FINPULSE_PHONE_REGION


def _possible(value: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def e164(value: str | None, *, region: str | None = None) -> str | None:
    """'+447700900059' for a phone number in any usual form; None for something that is not one."""
    value = (value or "").strip()
    if not value or not any(ch.isdigit() for ch in value):
        return None
    region = region or phone_region()
    number = _possible(value, region)
    if number is None and not value.startswith("+"):
        # '447700900059': the country code typed without + or 00.
        number = _possible("+" + _DIGITS.sub("", value), None)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
