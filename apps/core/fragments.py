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

A page's rows are also kept together, as one entry under a digest of all of them (decision 182):
a page shown again is one `get` of one key, digested once, instead of fifty keys and values. On a
miss each row is looked up as above (one `get_many`; only the missing rows are rendered and stored
with one `set_many`), and the page's entry is stored. A form's CSRF token differs per session and
is never cached: the template's `{% csrf_token %}` is rendered as a placeholder and the caller's
token is put in after the lookup.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import pickle  # nosec B403  # only dumps: our own row values, for their digest
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import django
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from django import forms

CACHE_ALIAS = "fragments"
_CSRF_PLACEHOLDER = "csrf-token-of-the-viewer"
_CSRF_INPUT = f'name="csrfmiddlewaretoken" value="{_CSRF_PLACEHOLDER}"'
# Anything in the source that reads outside the row's dict (or renders another template).
# A panel of render_panels: its template, its facts, its row template (or None) and its rows.
Panel = tuple[str, Mapping[str, Any], str | None, Iterable[Mapping[str, Any]]]
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
    cache = caches[CACHE_ALIAS]
    page_key = _page_key(setting, contexts) if contexts else None
    kept: list[str] | None = cache.get(page_key) if page_key else None
    if kept is None:
        kept = _each_row(template_name, setting, contexts, cache)
        if page_key:
            cache.set(page_key, kept)
    if kept and (csrf_token or any(_CSRF_PLACEHOLDER in html for html in kept)):
        token_input = f'name="csrfmiddlewaretoken" value="{csrf_token}"'
        kept = [html.replace(_CSRF_INPUT, token_input) for html in kept]
    # Safe: each entry is the output of an autoescaping template rendered from the row's values.
    return [mark_safe(html) for html in kept]  # noqa: S308  # nosec B308 B703


def joined_rows(rows: list[SafeString], *, before: str, after: str) -> SafeString:
    """The rows as one text, each between `before` and `after` (the whitespace a page template's
    `{% for row in rows %}` wrote around each): printed once, where the loop printed fifty values
    (decision 182). Empty without rows, so the template's `{% if rows %}` still reads it."""
    # Safe: rows are render_rows' HTML, the rest our own whitespace.
    return mark_safe("".join([before + row + after for row in rows]))  # noqa: S308  # nosec B308 B703


# What a page's digest may hold besides exact str, int, float, bool, None, dict, list and tuple
# (which the pickler writes without asking): values written whole, by their own class, and those
# classes (an aware datetime writes its fixed-offset time zone too).
_PLAIN_CLASSES = frozenset({SafeString, Decimal, dt.date, dt.datetime, dt.time, dt.timedelta, dt.timezone})


class _NotPlain(Exception):
    """A row holds a value whose pickle may not say what it shows (a lazy translation, an object)."""


class _PlainPickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if obj in _PLAIN_CLASSES or type(obj) in _PLAIN_CLASSES:
            return NotImplemented  # pickled as usual: its class and its whole value
        raise _NotPlain(type(obj).__qualname__)


def _page_key(setting: tuple[str, str | None, str], contexts: list[dict[str, Any]]) -> str | None:
    """The digest of every row of a page with the template's version, language and time zone, or
    None if a row holds a value that is not plain (the page then takes the per-row entries only).

    The rows are pickled, not repr()'d: a pickle is the values themselves (unpickling gives them
    back, so two pages with any difference are two keys), written in C about five times faster
    than repr() (a page's fifty rows: decision 182); a shared dict (the row template's words) is
    written once. Only plain values are let through (_PlainPickler), so nothing is written as a
    reference to what it would show (a lazy translation pickles as its function and arguments)."""
    buffer = io.BytesIO()
    try:
        _PlainPickler(buffer, protocol=5).dump((setting, contexts))
    except _NotPlain:
        return None
    return "rows-page:" + hashlib.blake2b(buffer.getbuffer(), digest_size=20).hexdigest()


def _digest(facts: Any) -> str:
    """A digest of plain values, as _page_key writes it (their pickle: the values themselves,
    about five times faster than repr()); of their repr() if one is not plain."""
    buffer = io.BytesIO()
    try:
        _PlainPickler(buffer, protocol=5).dump(facts)
    except _NotPlain:
        return hashlib.blake2b(repr(facts).encode(), digest_size=20).hexdigest()
    return hashlib.blake2b(buffer.getbuffer(), digest_size=20).hexdigest()


def _each_row(
    template_name: str, setting: tuple[str, str | None, str], contexts: list[dict[str, Any]], cache: Any
) -> list[str]:
    """Each row's HTML (its CSRF input a placeholder), from the row entries where the same row was
    rendered before; the missing ones rendered and stored."""
    keys = [_key(setting, context) for context in contexts]
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
    return rendered


def render_panels(panels: Mapping[str, Panel]) -> dict[str, SafeString]:
    """Several panels of one page, each a template framing a list of rows, kept as one entry.

    A panel is (its template, its facts, its row template or None, its rows), facts and rows plain
    values as render_rows's. Each row is rendered with the row template, then the panel's template
    with its facts and `rows`, the rows' HTML. One key for every panel (a digest of all their
    facts and rows with each template's version, the language and time zone, pickled as a page's
    rows are: decision 186) and one value, each panel's HTML by name: one cache read a page, and
    while nothing they show changes the page
    renders neither the rows nor the panels around them (decisions 146, 181). A change to any
    fact or row makes another key, and everything is rendered again. Templates as render_rows's:
    they read nothing but their values, so no form (no CSRF token) either.
    """
    language, zone = translation.get_language(), timezone.get_current_timezone_name()
    work = [
        (name, template, dict(facts), row_template, [dict(row) for row in rows])
        for name, (template, facts, row_template, rows) in panels.items()
    ]
    key_facts = tuple(
        (
            name,
            _template_version(template),
            tuple(facts.items()),
            row_template and _template_version(row_template),
            tuple(tuple(row.items()) for row in rows),
        )
        for name, template, facts, row_template, rows in work
    )
    key = "panels:" + _digest((language, zone, key_facts))
    cache = caches[CACHE_ALIAS]
    kept: dict[str, str] | None = cache.get(key)
    if kept is None:
        kept = {}
        for name, template, facts, row_template, rows in work:
            row_html = [get_template(row_template).render(row) for row in rows] if row_template else []
            kept[name] = get_template(template).render({**facts, "rows": row_html})
        if any("csrfmiddlewaretoken" in html for html in kept.values()):
            raise ImproperlyConfigured("Panels kept together may not hold a form.")
        cache.set(key, kept)
    # Safe: each entry is the output of an autoescaping template rendered from the panel's values.
    return {name: mark_safe(html) for name, html in kept.items()}  # noqa: S308  # nosec B308 B703


# --- a filter form's HTML, kept in this process (decision 112) -------------------------------------

FORM_CACHE_ENTRIES = 512
_forms: OrderedDict[str, str] = OrderedDict()
_forms_lock = threading.Lock()
_TYPED_PLACEHOLDER = "typed-text-of-the-viewer"


def _kept(key: str, render: Callable[[], str]) -> str:
    """The HTML this process keeps under `key`, rendered (and kept, least recently used out) if missing."""
    with _forms_lock:
        html = _forms.get(key)
        if html is not None:
            _forms.move_to_end(key)
    if html is None:
        html = render()
        with _forms_lock:
            _forms[key] = html
            while len(_forms) > FORM_CACHE_ENTRIES:
                _forms.popitem(last=False)
    return html


def _source_digest(template_name: str) -> str:
    source: str = get_template(template_name).template.source  # type: ignore[attr-defined]
    return hashlib.blake2b(source.encode(), digest_size=8).hexdigest()


def render_form(
    template_name: str,
    form: forms.Form,
    *,
    facts: tuple[Any, ...],
    typed_field: str = "",
    templates: tuple[str, ...] = ("components/field.html",),
) -> SafeString:
    """`template_name` rendered with {"form": form} alone, from this process's memory when the
    same form was rendered before.

    The key is what the template can show: the form's class, each field's bound value and every
    error (after validation), the caller's `facts` (what the form's choices come from, e.g. the
    viewer's branches as (id, label) pairs), the sources of the template and of `templates` it
    includes, Django's version, the language, time zone and URL prefix. The form's own code is
    not in the key, so the entries live in this process only (a deploy starts new processes).
    `typed_field` names a free-text field whose value is put in after the lookup (as the CSRF
    token in rows), so that every search term does not make an entry of its own.
    """
    typed = str(form[typed_field].data or "") if typed_field else ""
    values = tuple((name, bool(typed) if name == typed_field else form[name].data) for name in form.fields)
    errors = tuple((name, tuple(str(e) for e in errs)) for name, errs in form.errors.items()) if form.is_bound else ()
    setting = (
        template_name,
        tuple(_source_digest(name) for name in (template_name, *templates)),
        django.get_version(),
        translation.get_language(),
        timezone.get_current_timezone_name(),
        get_script_prefix(),
    )
    facts_repr = repr((setting, type(form).__module__, type(form).__qualname__, form.prefix, form.is_bound))
    facts_repr += repr((values, errors, facts))
    key = hashlib.blake2b(facts_repr.encode(), digest_size=20).hexdigest()
    html = _kept(key, lambda: _render_with_placeholder(template_name, form, typed_field=typed_field, typed=typed))
    if typed:
        html = html.replace(f'value="{_TYPED_PLACEHOLDER}"', f'value="{escape(typed)}"')
    # Safe: the output of an autoescaping template; the typed text is escaped as the widget escapes it.
    return mark_safe(html)  # noqa: S308  # nosec B308 B703


def _render_with_placeholder(template_name: str, form: forms.Form, *, typed_field: str, typed: str) -> str:
    if not typed:
        return get_template(template_name).render({"form": form})
    data = form.data
    form.data = data.copy()
    form.data[typed_field] = _TYPED_PLACEHOLDER
    try:
        return get_template(template_name).render({"form": form})
    finally:
        form.data = data


# --- a page part shown alike to everyone with the same facts, kept in this process (decision 136) ---


def render_kept(template_name: str, facts: Mapping[str, Any]) -> SafeString:
    """`template_name` rendered with `facts` alone, from this process's memory when the same facts
    were rendered before: for the parts of every page that show the same bytes to everyone with
    the same facts (the top bar: a role set).

    `facts` are plain values (str, int, bool, None) that say everything the template shows that
    is not fixed in this process: it is rendered without the request, the user or context
    processors, so it can read nothing else. The key is a digest of the facts with the template's
    source, Django's version, the language, time zone, URL prefix and URL conf; its `{% url %}`
    and `{% translate %}` are fixed by those. The template may include nothing (its source is
    the only one in the key). Kept in the process like the filter bars (render_form): a deploy
    starts new processes, so an entry never outlives the code and routes that rendered it.
    """
    setting = (
        template_name,
        _checked_source_digest(template_name),
        django.get_version(),
        translation.get_language(),
        timezone.get_current_timezone_name(),
        get_script_prefix(),
        get_urlconf(),
    )
    key = "kept:" + hashlib.blake2b(repr((setting, sorted(facts.items()))).encode(), digest_size=20).hexdigest()
    html = _kept(key, lambda: get_template(template_name).render(dict(facts)))
    # Safe: the output of an autoescaping template rendered from the facts alone.
    return mark_safe(html)  # noqa: S308  # nosec B308 B703


@lru_cache(maxsize=64)
def _checked_source_digest(template_name: str) -> str:
    source: str = get_template(template_name).template.source  # type: ignore[attr-defined]
    for tag in ("{% include", "{% extends", "{% ssi", "{% cache"):
        if tag in source:
            raise ImproperlyConfigured(f"{template_name}: a kept template may not use {tag} %}}")
    return hashlib.blake2b(source.encode(), digest_size=8).hexdigest()


def forget_forms() -> None:
    """Empty this process's form entries (tests)."""
    with _forms_lock:
        _forms.clear()
