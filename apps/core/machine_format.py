"""Machine outputs speak one language (docs/decisions.md 90).

CSV exports are read by spreadsheets and other systems: their headings, labels and numbers stay
in LANGUAGE_CODE (en-gb) whatever language the person who asked for them reads. A streamed
export writes its rows after the view has returned, so the language is set around the rows
themselves, not around the view.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from django.conf import settings
from django.utils import translation

T = TypeVar("T")


def in_machine_language(rows: Iterable[T]) -> Iterator[T]:
    """Yield `rows`, each produced with LANGUAGE_CODE active (labels, choice names, messages)."""
    with translation.override(settings.LANGUAGE_CODE):
        yield from rows


def machine_language() -> translation.override:
    """`with machine_language():` around work whose result a machine reads (a report built for CSV)."""
    return translation.override(settings.LANGUAGE_CODE)
