"""CSV files a spreadsheet opens safely: the formula-cell rule and a streaming writer, written once.

Every CSV the bank hands out (the customer list export, the export command, the audit-trail
export, import error reports) escapes cells through `escape_cell`; imports undo it
(`FORMULA_TRIGGERS`).
"""

from __future__ import annotations

from typing import Any

# A spreadsheet runs a cell starting with one of these as a formula (=HYPERLINK(...), +cmd|...):
# OWASP "CSV injection".
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> str:
    """The cell as text, with a leading quote when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


class Echo:
    """csv.writer wants a file; this one hands each line straight back (for streaming responses)."""

    def write(self, value: str) -> str:
        return value
