"""Template filters for money and PII: formatting only, never a bank rule or a query.

`{{ amount|money:currency }}` formats a Decimal with the currency's minor units (no float on
the way, so 0.1 + 0.2 never shows as 0.30000000000000004). `{{ value|masked:"email" }}`
turns a clear PII value into the same short hint the lists show. `{{ when|time_tag }}` prints
a date or a date and time as a <time> element.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.dates import MONTHS_3
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.core.masking import mask_email, mask_national_id, mask_phone, mask_tail

register = template.Library()

# ISO 4217 minor units that differ from two; everything else we deal in has two.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "HUF": 2}
_MASKS = {"email": mask_email, "phone": mask_phone, "national_id": mask_national_id, "tail": mask_tail}
EMPTY = "—"


def format_money(amount: Any, currency: str = "") -> str:
    """'GBP 1,234.50' (non-breaking space); '—' for no amount; '' for something not a number."""
    if amount is None or amount == "":
        return EMPTY
    if isinstance(amount, float):
        # A float has already lost the cents; refuse to pretend otherwise.
        raise TypeError("Money is Decimal, never float.")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return ""
    currency = (currency or "").upper()
    places = _MINOR_UNITS.get(currency, 2)
    value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    text = f"{value:,.{places}f}"
    return f"{currency}\u00a0{text}" if currency else text


@register.filter
def money(amount: Any, currency: str = "") -> str:
    return format_money(amount, currency)


@register.filter
def masked(value: Any, kind: str = "tail") -> str:
    """A clear value shown as its hint ('j***@bank.example', '••••6819'); '—' when empty."""
    if value is None or value == "":
        return EMPTY
    mask = _MASKS.get(kind, mask_tail)
    return mask(str(value)) or EMPTY


@register.filter
def person_name(user: Any) -> str:
    """An employee as people call them: full name, else username; '—' for nobody."""
    if user is None or user == "":
        return EMPTY
    return user.get_full_name() or user.get_username()


@register.filter(expects_localtime=True)
def time_tag(value: Any) -> SafeString | str:
    """`<time datetime="2026-03-02">2 Mar 2026</time>`; a datetime adds its local time, " 10:00".

    Prints exactly what `<time datetime="{{ v|date:'c' }}">{{ v|date:"j M Y" }} {{ v|time:"H:i" }}</time>`
    prints (tests compare the two), in one call instead of three: Django's date filter parses
    its format string and looks up the locale on every call, and the dashboard prints some
    sixty of these. Aware datetimes arrive in the current time zone (expects_localtime).
    """
    if not isinstance(value, dt.date):
        return ""
    text = f"{value.day} {MONTHS_3[value.month].title()} {value.year:04d}"
    if isinstance(value, dt.datetime):
        text += f" {value.hour:02d}:{value.minute:02d}"
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), text)
