"""Rendered rows of a list, cached by exactly what they show.

A list page renders the same row template fifty times; template rendering was most of a list
page's CPU. Here each row's HTML is cached under a digest of everything that can change it:

- the row's context, a dict of plain values (text, numbers, dates, booleans) that the view
  builds from the rows the visibility selector returned, including the viewer's facts the row
  depends on (may they edit, which page it sits on) and every URL it links to;
- the template's source, Django's version, the active language and time zone.

The template may read nothing else: no request, no user, no context processor (it is rendered
with the dict alone), no `{% load %}`, `{% include %}` or `{% url %}` (checked when it is first
used). So two requests that get the same key would render the same bytes, and an entry is never
stale: a change to a row, a related name, a label, a translation or the template makes another
key, and the old entry simply expires (the cache alias's TIMEOUT). Nothing is invalidated by
hand, and nothing can be shown to a viewer who did not just read the row through the selector:
the key is computed from that row.

One `get_many` per page; only the missing rows are rendered (and stored with one `set_many`).
A form's CSRF token differs per session and is never cached: the template's `{% csrf_token %}`
is rendered as a placeholder and the caller's token is put in after the lookup.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import django
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

CACHE_ALIAS = "fragments"
_CSRF_PLACEHOLDER = "csrf-token-of-the-viewer"
_CSRF_INPUT = f'name="csrfmiddlewaretoken" value="{_CSRF_PLACEHOLDER}"'
# Anything in the source that reads outside the row's dict (or renders another template).
_FORBIDDEN = ("{% load", "{% include", "{% url", "{% extends", "{% ssi", "{% cache")


@lru_cache(maxsize=64)
def _template_version(template_name: str) -> str:
    template = get_template(template_name)
    source: str = template.template.source  # type: ignore[attr-defined]  # the Django backend's Template
    for tag in _FORBIDDEN:
        if tag in source:
            raise ImproperlyConfigured(f"{template_name}: a cached row template may not use {tag} %}}")
    digest = hashlib.blake2b(source.encode(), digest_size=8).hexdigest()
    return f"{template_name}:{digest}:{django.get_version()}"


def _key(setting: tuple[str, str | None, str], context: Mapping[str, Any]) -> str:
    # The names with the values: a dict built in another order is another key (a miss, never a mix-up).
    facts = (setting, tuple(context.items()))
    return "row:" + hashlib.blake2b(repr(facts).encode(), digest_size=20).hexdigest()


def render_rows(template_name: str, rows: Iterable[Mapping[str, Any]], *, csrf_token: str = "") -> list[SafeString]:
    """Each row dict rendered with `template_name`, from the cache where the same row was rendered before.

    `rows` must hold only plain values whose repr() says what they are (str, int, bool, None,
    Decimal, date, datetime): the key is computed from them (a lazy translation would only miss).
    """
    setting = (_template_version(template_name), translation.get_language(), timezone.get_current_timezone_name())
    contexts = [dict(row) for row in rows]
    keys = [_key(setting, context) for context in contexts]
    cache = caches[CACHE_ALIAS]
    found: dict[str, str] = cache.get_many(keys) if keys else {}
    rendered: list[str] = []
    missing: dict[str, str] = {}
    template = get_template(template_name)
    for key, context in zip(keys, contexts, strict=True):
        html = found.get(key) or missing.get(key)
        if html is None:
            html = template.render({**context, "csrf_token": _CSRF_PLACEHOLDER})
            missing[key] = html
        rendered.append(html)
    if missing:
        cache.set_many(missing)
    if any(_CSRF_PLACEHOLDER in html for html in missing.values()) or (csrf_token and rendered):
        token_input = f'name="csrfmiddlewaretoken" value="{csrf_token}"'
        rendered = [html.replace(_CSRF_INPUT, token_input) for html in rendered]
    # Safe: each entry is the output of an autoescaping template rendered from the row's values.
    return [mark_safe(html) for html in rendered]  # noqa: S308  # nosec B308 B703
