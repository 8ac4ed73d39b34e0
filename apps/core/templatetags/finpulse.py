"""Template filters for money and PII: formatting only, never a bank rule or a query.

`{{ amount|money:currency }}` formats a Decimal with the currency's minor units (no float on
the way, so 0.1 + 0.2 never shows as 0.30000000000000004), in the active language's style
(docs/decisions.md 89): English "GBP 1,234.56", Italian "1.234,56 GBP", separators from
finpulse/formats/<locale>/formats.py. CSV exports and the API never come through here. Rates and amount limits read as a
banker writes them: `{{ rate|percent }}` is "4.10%" (never "4.1000%"), `{{ slabs|rate_range }}`
runs lowest to highest, `{% amount_range low high currency %}` says "10,000 GBP and above"
rather than "10,000– GBP". Python code that writes such text (alert messages, advice) calls
the same `format_*` functions. `{{ value|masked:"email" }}`
turns a clear PII value into the same short hint the lists show. `{{ when|time_tag }}` prints
a date or a date and time as a <time> element.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.template.defaultfilters import date as date_filter
from django.utils import dateformat, timezone, translation
from django.utils.dates import MONTHS_3
from django.utils.formats import get_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from apps.core import presentation
from apps.core.masking import mask_email, mask_national_id, mask_phone, mask_tail

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.contrib.auth.base_user import AbstractBaseUser

register = template.Library()

# ISO 4217 minor units that differ from two; everything else we deal in has two.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "HUF": 2}
_MASKS = {"email": mask_email, "phone": mask_phone, "national_id": mask_national_id, "tail": mask_tail}
EMPTY = "—"


@lru_cache(maxsize=16)
def _number_style(language: str) -> tuple[dict[int, str] | None, bool]:
    """How `language` writes numbers: a table from Python's '1,234.5' to its separators (None when
    they are the same), and whether the currency code goes before the amount (English) or after."""
    decimal = str(get_format("DECIMAL_SEPARATOR", lang=language))
    thousands = str(get_format("THOUSAND_SEPARATOR", lang=language))
    table = None if (decimal, thousands) == (".", ",") else str.maketrans({",": thousands, ".": decimal})
    return table, language.startswith("en")


def _style() -> tuple[dict[int, str] | None, bool]:
    return _number_style(translation.get_language() or settings.LANGUAGE_CODE)


def localize_number(text: str) -> str:
    """'1,234.56' (Python's grouping) as the active language writes it: '1.234,56' in Italian."""
    table = _style()[0]
    return text if table is None else text.translate(table)


def format_money(amount: Any, currency: str = "") -> str:
    """'GBP 1,234.50' in English, '1.234,50 GBP' in Italian (non-breaking space); '—' for no
    amount; '' for something not a number."""
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
    table, currency_first = _style()
    text = f"{value:,.{places}f}"
    if table is not None:
        text = text.translate(table)
    if not currency:
        return text
    return f"{currency}\u00a0{text}" if currency_first else f"{text}\u00a0{currency}"


@register.filter
def money(amount: Any, currency: str = "") -> str:
    return format_money(amount, currency)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        raise TypeError("Rates and amounts are Decimal, never float.")
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def format_rate(rate: Any) -> str:
    """'4.10%': two decimal places, more only when the rate has them ('4.125%'); '—' for none."""
    value = _decimal(rate)
    if value is None:
        return EMPTY
    exponent = value.normalize().as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return localize_number(f"{value:,.{places}f}") + "%"


def _rate_of(item: Any) -> Decimal | None:
    return _decimal(getattr(item, "rate", item))


def format_rate_range(items: Any) -> str:
    """'3.85% – 4.50%', lowest to highest whatever the order of the slabs; one rate alone; '—'."""
    rates = sorted({rate for rate in (_rate_of(item) for item in items or ()) if rate is not None})
    if not rates:
        return EMPTY
    if len(rates) == 1:
        return format_rate(rates[0])
    return f"{format_rate(rates[0])} – {format_rate(rates[-1])}"


def format_amount(amount: Any) -> str:
    """'10,000' for a whole amount, '1,000.50' otherwise (limits and slabs, not balances)."""
    value = _decimal(amount)
    if value is None:
        return EMPTY
    return localize_number(f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}")


def format_amount_range(low: Any, high: Any, currency: str = "", *, below_high: bool = False) -> str:
    """An amount limit as a banker writes it.

    '1,000 to 50,000 GBP', '10,000 GBP and above', 'up to 50,000 GBP', 'Any amount'. A rate
    slab runs up to, not including, its upper amount: below_high=True says 'to under'.
    """
    low_value, high_value = _decimal(low), _decimal(high)
    unit = f" {currency}" if currency else ""
    has_low = low_value is not None and low_value > 0
    if high_value is None:
        return _("%(low)s and above") % {"low": f"{format_amount(low_value)}{unit}"} if has_low else _("Any amount")
    high_text = f"{format_amount(high_value)}{unit}"
    if not has_low:
        return (_("Under %(high)s") if below_high else _("Up to %(high)s")) % {"high": high_text}
    words = _("%(low)s to under %(high)s") if below_high else _("%(low)s to %(high)s")
    return words % {"low": format_amount(low_value), "high": high_text}


def format_term_range(low: Any, high: Any) -> str:
    """'3 to 60 months', '12 months and above', 'up to 12 months'; '—' when the product has no term."""
    if not low and high is None:
        return EMPTY
    if high is None:
        return _("%(low)s months and above") % {"low": low}
    if not low:
        return _("Up to %(high)s months") % {"high": high}
    if low == high:
        return _("%(months)s months") % {"months": low}
    return _("%(low)s to %(high)s months") % {"low": low, "high": high}


@register.filter
def percent(rate: Any) -> str:
    return format_rate(rate)


@register.filter
def rate_range(items: Any) -> str:
    """Slabs (or rates) as their lowest to highest rate."""
    return format_rate_range(items)


@register.simple_tag
def amount_range(low: Any, high: Any, currency: str = "", slab: bool = False) -> str:
    return format_amount_range(low, high, currency, below_high=slab)


@register.simple_tag
def term_range(low: Any, high: Any) -> str:
    return format_term_range(low, high)


@register.filter
def translated(label: Any) -> str:
    """`{{ holding.get_category_display|translated }}`: a choice's label in the reader's language.

    Choice labels stay English data everywhere (audit, CSV, API, what the LLM reads, stored
    messages); the models mark them with gettext_noop so the catalogue has them, and pages
    translate them here, on display (docs/decisions.md 88).
    """
    if label is None or label == "":
        return ""
    return _(str(label))


# Languages that write month and day names in lower case inside a sentence ("lunedì 6 dicembre"),
# where Django's catalogues give them capitalised ("Lunedì 6 Dicembre"), as English writes them.
_LOWER_CASE_DATE_NAMES = frozenset({"it"})
_NAME = re.compile(r"[^\W\d_]+")


@register.filter(expects_localtime=True)
def date_words(value: Any, date_format: str = "DATE_FORMAT") -> str:
    """`{{ day|date_words:"l j F Y" }}`: Django's |date, with the month and day names written as the
    language writes them in running text: 'Sunday 6 December 2026', 'domenica 6 dicembre 2026'.
    At the head of a heading or a label add |capfirst ('Domenica 6 dicembre'). A time zone's
    abbreviation (all capitals, 'CET') is left as it is."""
    text = str(date_filter(value, date_format))
    if (translation.get_language() or "").split("-")[0] in _LOWER_CASE_DATE_NAMES:
        text = _NAME.sub(lambda word: word[0] if word[0].isupper() else word[0].lower(), text)
    return text


@register.filter
def masked(value: Any, kind: str = "tail") -> str:
    """A clear value shown as its hint ('j***@bank.example', '••••6819'); '—' when empty."""
    if value is None or value == "":
        return EMPTY
    mask = _MASKS.get(kind, mask_tail)
    return mask(str(value)) or EMPTY


@register.filter
def person_name(user: AbstractBaseUser) -> str:
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
    Another language than English prints its own DATE_FORMAT ('2 mar 2026' in Italian).
    """
    parts = time_parts(value)
    return format_html('<time datetime="{}">{}</time>', *parts) if parts else ""


def time_parts(value: Any) -> tuple[str, str] | None:
    """What time_tag prints, as (the datetime attribute, the text); None for something not a date.

    For a row cached by its plain values (apps/core/fragments.py), whose template loads no tags.
    An aware datetime must already be in the current time zone (timezone.template_localtime).
    """
    if not isinstance(value, dt.date):
        return None
    return _parts(translation.get_language(), value)


def local_time_parts() -> Callable[[Any], tuple[str, str]]:
    """time_parts for a page of values, the active language and time zone looked up once: an aware
    datetime is first moved to the current time zone, as timezone.template_localtime moves it;
    ("", "") for something not a date."""
    language = translation.get_language()
    zone = timezone.get_current_timezone() if settings.USE_TZ else None

    def parts(value: Any) -> tuple[str, str]:
        if not isinstance(value, dt.date):
            return "", ""
        if (
            zone is not None
            and isinstance(value, dt.datetime)
            and value.utcoffset() is not None
            and getattr(value, "convert_to_local_time", True)
        ):
            value = value.astimezone(zone)
        return _parts(language, value)

    return parts


def _parts(language: str | None, value: dt.date) -> tuple[str, str]:
    is_moment = isinstance(value, dt.datetime)
    text = _day_text(language, value.date() if is_moment else value)
    if text is None:  # a DATE_FORMAT that prints a time: Django formats the value itself
        text = dateformat.format(value, get_format("DATE_FORMAT"))
    if is_moment:
        text += f" {value.hour:02d}:{value.minute:02d}"
    return value.isoformat(), text


@lru_cache(maxsize=4096)
def _day_text(language: str | None, day: dt.date) -> str | None:
    """The text time_tag prints for `day` in `language` (None: translation deactivated); None when
    the language's DATE_FORMAT prints a time (it cannot be printed from the day alone).

    Kept per language and day (decision 181): Django's date formatting looks up the format and
    the month names on every call, and a page prints dozens of dates over a few weeks of days.
    The text depends on nothing else: the formats and catalogues are read once per process, and
    a settings change (tests) empties this (`_forget_day_texts`).
    """
    with translation.override(language):
        if _style()[1]:
            return f"{day.day} {MONTHS_3[day.month].title()} {day.year:04d}"
        date_format = str(get_format("DATE_FORMAT"))
        if any(hasattr(dateformat.TimeFormat, piece) for piece in date_format):
            return None
        return dateformat.format(day, date_format)


def _forget_day_texts(**kwargs: Any) -> None:
    _day_text.cache_clear()
    _number_style.cache_clear()


setting_changed.connect(_forget_day_texts, dispatch_uid="finpulse_forget_day_texts")


@register.filter
def audit_details(record: Any, kind: str = "") -> SafeString | str:
    """`{{ event.changes|audit_details:"changes" }}`: key: value lines (PII masked), never a dict repr."""
    lines = presentation.audit_lines(record, changes=kind == "changes")
    if not lines:
        return ""
    rows = format_html_join("", "<dt>{}:</dt><dd>{}</dd>", lines)
    return format_html('<dl class="audit-details">{}</dl>', rows)


@register.filter
def page_numbers(page: Any) -> list[int | str]:
    """`{% for n in page|page_numbers %}`: 1 2 … 6 7 [8] 9 10 … 40 41, Django's elided range."""
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))


@register.filter
def rule_label(code: Any) -> str:
    """`{{ task.source_rule|rule_label }}`: 'maturity:30d' reads 'Matures within 30 days'."""
    return presentation.rule_label(str(code or ""))


@register.filter
def duration(value: Any) -> str:
    """`{{ spent|duration }}`: a timedelta as '2 days 4 h', never '0:00:01.092609'."""
    return presentation.duration_text(value if isinstance(value, dt.timedelta) else None)


@register.filter
def days_from_today(days: Any) -> str:
    """`{{ days_left|days_from_today }}`: 'today', 'tomorrow', 'in 3 days', '2 days ago'."""
    try:
        return presentation.days_from_today(int(days))
    except (TypeError, ValueError):
        return ""
