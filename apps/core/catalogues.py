"""Translation catalogues without the empty ones every lookup walked through.

Python's gettext finds two catalogues for "en_GB" in each locale folder that has both (en_GB and
en), and Django's DjangoTranslation chains each folder's second one as a fallback. Django's own
English catalogues hold no message, so in this project every lookup of a message that the en-GB
catalogue does not hold (most of them: English is the source language) walked six empty
catalogues before it came back with the message itself, and every Italian lookup that missed
walked them too. About 100 lookups a page: 0.3-0.5 ms of web CPU per page (decision 158).

An empty catalogue answers a lookup by asking its fallback, or with the message itself when it
has none, which is exactly what the catalogue before it does when the empty one is not there;
so taking it out of the chain changes no answer. Catalogues that hold messages stay where they are.
"""

from __future__ import annotations

import gettext

from django.conf import settings
from django.utils.translation import trans_real


def prune_empty_fallbacks(catalogue: gettext.NullTranslations) -> None:
    """Take every empty plain catalogue out of `catalogue`'s chain of fallbacks, in place."""
    node: gettext.NullTranslations | None = catalogue
    while node is not None:
        # gettext keeps the chain in this attribute (typeshed does not name it).
        following = node._fallback  # type: ignore[attr-defined]
        while following is not None and _is_empty(following):
            following = following._fallback
        node._fallback = following  # type: ignore[attr-defined]
        node = following


def _is_empty(catalogue: gettext.NullTranslations) -> bool:
    """A plain gettext catalogue holding no message (its header, the "" entry, is not one)."""
    if type(catalogue) not in (gettext.GNUTranslations, gettext.NullTranslations):
        return False  # a DjangoTranslation or anything else: left alone
    messages = getattr(catalogue, "_catalog", {})
    return all(key == "" for key in messages)


def prune_interface_catalogues() -> None:
    """Load each interface language's catalogue now and prune its chain (once per process)."""
    if not settings.USE_I18N:
        return
    for code, _name in settings.LANGUAGES:
        prune_empty_fallbacks(trans_real.translation(code))
