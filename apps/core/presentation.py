"""Words for codes: the one place a rule code, a count of days or a duration becomes text.

Templates reach these through the filters in apps/core/templatetags/finpulse.py; messages built
in Python (alert reasons, task titles) call them directly. Pages never print a code
(`maturity:30d`, `task:manual`), an enum value (`assigned`), a timedelta (`0:00:01.092609`) or
"1 days" / "0 day(s)".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy

from apps.core.masking import mask_audit_value

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# What each rule is about, by the code rules and tasks record (source_rule "maturity:30d"):
# the words for a window of 0 days, and for n days. Translated when shown (gettext_lazy).
_RULES = {
    "maturity": (
        gettext_lazy("Matures today"),
        ngettext_lazy("Matures within %(n)s day", "Matures within %(n)s days", "n"),
    ),
    "document_expiry": (
        gettext_lazy("Identity document expires today"),
        ngettext_lazy("Identity document expires within %(n)s day", "Identity document expires within %(n)s days", "n"),
    ),
    "kyc_review": (
        gettext_lazy("KYC review today"),
        ngettext_lazy("KYC review due within %(n)s day", "KYC review due within %(n)s days", "n"),
    ),
    "relationship": (
        gettext_lazy("No contact today"),
        ngettext_lazy("No contact for %(n)s day", "No contact for %(n)s days", "n"),
    ),
    "task_escalation": (
        gettext_lazy("Follow-up overdue today"),
        ngettext_lazy("Follow-up overdue by %(n)s day", "Follow-up overdue by %(n)s days", "n"),
    ),
    "task_overdue": (
        gettext_lazy("Follow-up overdue today"),
        ngettext_lazy("Follow-up overdue by %(n)s day", "Follow-up overdue by %(n)s days", "n"),
    ),
}
_TASK_SOURCES = {
    "manual": gettext_lazy("Created by a person"),
    "lead": gettext_lazy("Lead follow-up"),
    "import": gettext_lazy("Imported"),
    "backlog": gettext_lazy("Several alerts on one customer"),
}
_RULE_CODE = re.compile(r"^(?P<rule>[a-z_]+):(?P<arg>[a-z0-9_]+)$")


def translated_choices(choices: list[tuple[Any, str]]) -> list[tuple[Any, StrOrPromise]]:
    """A model's choices for a form's select: the labels (gettext_noop in the model) in the reader's language."""
    # The labels are marked once, in the model (gettext_noop); here they are looked up.
    return [(value, gettext_lazy(label)) for value, label in choices]


def choice_labels(choices: list[tuple[Any, str]]) -> dict[Any, str]:
    """Each choice's label in the active language, by value: looked up once a page, not once a row."""
    return {value: _(str(label)) for value, label in choices}


def count_noun(count: int, singular: str, plural: str | None = None) -> str:
    """'1 day', '2 days', '0 days'."""
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"


def with_article(phrase: str) -> str:
    """'an affluent', 'a premium': the indefinite article that agrees with the phrase's sound.

    The vowel-letter rule fits the bank's words (segments, product kinds); a phrase that needs
    another article is written out where it is used.
    """
    phrase = phrase.strip()
    return f"{'an' if phrase[:1].lower() in 'aeiou' and phrase else 'a'} {phrase}".rstrip()


def days_from_today(days: int) -> str:
    """A deadline relative to the business date: 'today', 'tomorrow', 'in 3 days', '1 day ago'."""
    if days == 0:
        return _("today")
    if days == 1:
        return _("tomorrow")
    if days == -1:
        return _("yesterday")
    count = number_format(abs(days), force_grouping=True)
    if days > 0:
        return ngettext("in %(count)s day", "in %(count)s days", days) % {"count": count}
    return ngettext("%(count)s day ago", "%(count)s days ago", -days) % {"count": count}


def duration_text(value: dt.timedelta | None) -> str:
    """'2 days 4 h', '3 h 12 min', '12 min', 'under a minute'; '—' for nothing."""
    if value is None:
        return "—"
    seconds = max(int(value.total_seconds()), 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        text = ngettext("%(count)s day", "%(count)s days", days) % {"count": number_format(days, force_grouping=True)}
        return text + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    if minutes:
        return f"{minutes} min"
    return _("under a minute")


def rule_label(code: str | None) -> str:
    """'maturity:30d' → 'Matures within 30 days'; 'task:manual' → 'Created by a person'.

    An unknown code still reads as words ('Some rule'), never as the code itself."""
    if not code:
        return ""
    match = _RULE_CODE.match(code)
    if not match:
        return code.replace("_", " ").capitalize()
    rule, arg = match["rule"], match["arg"]
    if rule in ("task", "alerts"):
        return _TASK_SOURCES.get(arg, arg.replace("_", " ").capitalize())
    days = int(arg[:-1]) if arg.endswith("d") and arg[:-1].isdigit() else None
    if rule in _RULES and days is not None:
        today, window = _RULES[rule]
        if days == 0:
            return str(today)
        return str(window % {"n": days})
    return f"{rule.replace('_', ' ').capitalize()} ({arg.replace('_', ' ')})"


def _audit_text(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return "; ".join(f"{field_words(str(k))}: {_audit_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_audit_text(item) for item in value) if value else "none"
    return str(value)


def field_words(key: str) -> str:
    """'primary_manager' reads 'Primary manager'."""
    return key.replace("_", " ").strip().capitalize()


def audit_lines(record: object, *, changes: bool = False) -> list[tuple[str, str]]:
    """An audit event's changes or metadata as (label, text) lines, PII keys masked.

    A change set's [old, new] reads "old → new"; nested values read "key: value; ...".
    Never a Python repr: the audit trail is read by people.
    """
    if not isinstance(record, dict):
        return [] if record in (None, "", [], {}) else [("Value", _audit_text(record))]
    lines = []
    for key, value in record.items():
        value = mask_audit_value(str(key), value)
        if changes and isinstance(value, list | tuple) and len(value) == 2:
            text = f"{_audit_text(value[0])} → {_audit_text(value[1])}"
        else:
            text = _audit_text(value)
        lines.append((field_words(str(key)), text))
    return lines
