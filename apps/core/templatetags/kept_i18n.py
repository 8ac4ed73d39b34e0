"""`{% translate %}` for a page rendered on most requests: a fixed message's output kept per language.

Django's `{% translate "Profile" %}` resolves its message, asks the active catalogue and escapes
the answer on every render: about 10 us a tag, and the 360 page has some fifty (decision 167).
Loaded after `i18n`, this library's `translate` is the same tag (same syntax, parsed by Django's
own `do_translate`, so `makemessages` and the template scan of decision 102 read it as before);
for a fixed message with no filter, no `as` variable and no context it keeps the rendered text
per language and autoescape setting on the node, so later renders are one dict lookup. Anything
else (a variable, a filter, `as`, `context`) is Django's node, unchanged.

`{{ customer|choice_label:"kind" }}` is `{{ customer.get_kind_display|translated }}` (decision 88:
choice labels are English data, translated on display) with the answer kept per language, model,
field and value: a model's `get_FOO_display` builds the field's choices into a dict on each call,
and the two cost about 30 us a label; the page shows a dozen.

`{% language_choices %}` is the page shell's language footer (components/language_choices.html:
each language of LANGUAGES in its own name, the current one marked), which depends on nothing
but the language: kept per language, autoescape and the template's source (base.html, every page).

What a kept entry holds is what Django's node (or the filters) gave for that language: the answer
changes only with the catalogues, which a process loads once; the settings that make Django
reload them (LANGUAGES, LANGUAGE_CODE, LOCALE_PATHS, as in tests) empty every kept entry.
"""

from __future__ import annotations

import weakref
from typing import Any

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.db import models
from django.template import Engine
from django.template.base import Parser, Token, Variable
from django.templatetags.i18n import TranslateNode, do_translate
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from apps.core.templatetags.finpulse import translated

register = template.Library()

_nodes: weakref.WeakSet[KeptTranslateNode] = weakref.WeakSet()


class KeptTranslateNode(TranslateNode):
    """Django's TranslateNode for a fixed message, its output kept per (language, autoescape)."""

    def __init__(self, node: TranslateNode) -> None:
        super().__init__(node.filter_expression, node.noop, node.asvar, node.message_context)
        self._kept: dict[tuple[str | None, bool], str] = {}
        _nodes.add(self)

    def render(self, context: Any) -> str:
        key = (translation.get_language(), context.autoescape)
        value = self._kept.get(key)
        if value is None:
            value = super().render(context)
            self._kept[key] = value
        return value


def _fixed(node: TranslateNode) -> bool:
    expression = node.filter_expression
    return (
        isinstance(expression.var, Variable)
        and expression.var.literal is not None
        and not expression.filters
        and node.asvar is None
        and node.message_context is None
    )


@register.tag("translate")
@register.tag("trans")
def kept_translate(parser: Parser, token: Token) -> template.Node:
    node = do_translate(parser, token)
    return KeptTranslateNode(node) if isinstance(node, TranslateNode) and _fixed(node) else node


_choices: dict[tuple[type[models.Model], str], dict[Any, Any]] = {}
_labels: dict[tuple[str | None, type[models.Model], str, Any], str] = {}


@register.filter
def choice_label(instance: models.Model | None, field_name: str) -> str:
    """`instance.get_<field>_display|translated`, kept per language (see the module's docstring)."""
    if instance is None:
        return ""
    value = getattr(instance, field_name)
    key = (translation.get_language(), type(instance), field_name, value)
    try:
        label = _labels.get(key)
    except TypeError:  # a value that is not hashable: as the model's own method does, uncached
        return translated(getattr(instance, f"get_{field_name}_display")())
    if label is None:
        choices = _choices.get(key[1:3])
        if choices is None:
            choices = _choices[key[1:3]] = dict(type(instance)._meta.get_field(field_name).flatchoices)
        shown = choices.get(value, value)
        label = _labels[key] = translated(None if shown is None else str(shown))
    return label


LANGUAGE_CHOICES = "components/language_choices.html"
_language_choices: dict[tuple[str, str | None, object, bool], SafeString] = {}


def _render_choices(choices: Any, values: dict[str, Any], autoescape: bool) -> SafeString:
    # Safe: the output of an autoescaping template (Django's NodeList returns it marked safe).
    return mark_safe(choices.render(template.Context(values, autoescape=autoescape)))  # noqa: S308  # nosec B308 B703


@register.simple_tag(takes_context=True)
def language_choices(context: template.Context) -> SafeString:
    """components/language_choices.html with the page's LANGUAGES and LANGUAGE_CODE, kept per
    language while LANGUAGES is the setting's (the i18n context processor's; else rendered)."""
    languages, current = context.get("LANGUAGES"), context.get("LANGUAGE_CODE")
    choices = Engine.get_default().get_template(LANGUAGE_CHOICES)
    values = {"LANGUAGES": languages, "LANGUAGE_CODE": current}
    if languages is not settings.LANGUAGES:
        return _render_choices(choices, values, context.autoescape)
    key = (choices.source, translation.get_language(), current, context.autoescape)
    try:
        return _language_choices[key]
    except KeyError:
        pass
    except TypeError:  # a LANGUAGE_CODE that is not hashable: rendered, not kept
        return _render_choices(choices, values, context.autoescape)
    html = _language_choices[key] = _render_choices(choices, values, context.autoescape)
    return html


def forget_kept_translations(**kwargs: Any) -> None:
    """Empty every kept translation (the catalogues are reloaded when these settings change)."""
    if kwargs.get("setting") in (None, "LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS"):
        for node in list(_nodes):
            node._kept.clear()
        _labels.clear()
        _language_choices.clear()


setting_changed.connect(forget_kept_translations, dispatch_uid="kept_i18n_forget")
