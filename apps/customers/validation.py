"""One set of rules for a customer's fields, used by the API, the importer and the forms.

Before this module the API's serializer and the importer's schema each had their own
patterns, and the API stored external ids ("CB 001", "x=1") the importer refused. Each rule
takes the raw value and returns the normalised one or raises ValueError with a message that
never repeats the value (an import report shows it masked in its own column).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pycountry
from django.core.exceptions import ValidationError

from apps.core.phones import e164, phone_region

EXTERNAL_ID_MAX_LENGTH = 64
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_\-./:]+$")
_PHONE_ALLOWED = re.compile(r"^\+?[\d\s().\-/]+$")
_NATIONAL_ID_ALLOWED = re.compile(r"^[A-Za-z0-9\s\-./]+$")
# An account or card number: starts with a letter or digit, so a spreadsheet never reads it
# as a formula (the CSV-injection rule the exports apply to names, enforced here at input).
_HOLDING_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-/.]*$")

Rule = Callable[[Any], Any]


def no_nul(value: Any) -> None:
    """PostgreSQL text cannot hold NUL, and an encrypted field would store it silently."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("Contains a NUL character, which no field may hold.")
    if isinstance(value, dict):
        for item in value.values():
            no_nul(item)
    elif isinstance(value, list | tuple):
        for item in value:
            no_nul(item)


def text(max_length: int) -> Rule:
    def rule(value: Any) -> str:
        if isinstance(value, dict | list):
            raise ValueError("Expected text.")
        result = str(value).strip()
        no_nul(result)
        if len(result) > max_length:
            raise ValueError(f"At most {max_length} characters (this has {len(result)}).")
        return result

    return rule


def external_id(value: Any) -> str:
    result = text(EXTERNAL_ID_MAX_LENGTH)(value)
    if not _EXTERNAL_ID.match(result):
        raise ValueError("An external id may hold letters, digits and - _ . / : only.")
    return result


def country(value: Any) -> str:
    """An ISO 3166-1 alpha-2 code that exists (pycountry's list), upper-cased."""
    code = str(value).strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha() or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError("Not an ISO 3166 country code (two letters, e.g. GB).")
    return code


def phone(value: Any) -> str:
    """A phone number in any usual form (kept as written); its blind index is E.164
    (apps.core.phones), so the duplicate check knows 07700 900059 is +44 7700 900059."""
    number = text(32)(value)
    if not _PHONE_ALLOWED.match(number) or e164(number) is None:
        raise ValueError(
            f"Not a phone number (+44 20 7946 0000, or without the country code for a {phone_region()} number)."
        )
    return number


def national_id(value: Any) -> str:
    number = text(64)(value)
    if not _NATIONAL_ID_ALLOWED.match(number) or not re.sub(r"\W", "", number):
        raise ValueError("A national id holds letters and digits (spaces, - . / allowed).")
    return number


def holding_number(value: Any) -> str:
    number = text(64)(value)
    if number and not _HOLDING_NUMBER.match(number):
        raise ValueError("A number starts with a letter or digit and holds letters, digits, spaces and - / . only.")
    return number


# --- the same rules as Django validators (model fields, hence forms, admin and the API) ---


def _as_validation_error(rule: Rule, value: Any) -> None:
    try:
        rule(value)
    except ValueError as error:
        raise ValidationError(str(error), code="invalid") from None


def validate_external_id(value: Any) -> None:
    _as_validation_error(external_id, value)


def validate_country(value: Any) -> None:
    _as_validation_error(country, value)


def validate_phone(value: Any) -> None:
    if value:
        _as_validation_error(phone, value)


def validate_national_id(value: Any) -> None:
    if value:
        _as_validation_error(national_id, value)


def validate_holding_number(value: Any) -> None:
    if value:
        _as_validation_error(holding_number, value)
