"""The 360 page's kept pieces print what Django's own tags and filters print (decision 167)."""

from __future__ import annotations

import re

import pytest
from django.template import engines
from django.template.loader import render_to_string
from django.test import override_settings
from django.utils import translation

from apps.accounts.models import Holding
from apps.core.templatetags import kept_i18n
from apps.core.templatetags.finpulse import translated
from apps.core.templatetags.kept_i18n import KeptTranslateNode, choice_label
from apps.customers.models import Customer, IdentityDocument
from apps.workspace import customer_panels
from apps.workspace.customer_views import _slot

THE_360_TEMPLATES = (
    "workspace/customer_detail.html",
    "workspace/_customer_pii.html",
)


def _fixed_messages() -> list[str]:
    """Every fixed `{% translate "..." %}` of the 360 page's templates, and its kept panels' words
    (decision 189: looked up in Python, printed as the tags printed them)."""
    messages = list(customer_panels._FIXED.values())
    for name in THE_360_TEMPLATES:
        source = engines["django"].engine.get_template(name).source
        messages += re.findall(r'{% translate "([^"]+)" %}', source)
    assert len(messages) > 40
    return messages


def test_a_kept_translate_prints_what_djangos_prints_in_each_language_and_each_time():
    messages = [*_fixed_messages(), "Reveal all", "100%% sure & <safe>"]
    body = "|".join(f'{{% translate "{m}" %}}' for m in messages)
    body += "{% autoescape off %}" + '{% translate "100%% sure & <safe>" %}' + "{% endautoescape %}"
    django_own = engines["django"].from_string("{% load i18n %}" + body)
    kept = engines["django"].from_string("{% load i18n kept_i18n %}" + body)
    translates = [node for node in kept.template.nodelist if "Translate" in type(node).__name__]
    assert len(translates) == len(messages) and all(isinstance(node, KeptTranslateNode) for node in translates)

    for language in ("en-gb", "it", "en-gb", "it"):
        with translation.override(language):
            assert kept.render({}) == django_own.render({})
    with translation.override("it"):
        italian = kept.render({})
    with translation.override("en-gb"):
        assert kept.render({}) != italian and "Profilo|Filiale" in italian


def test_a_translate_of_a_variable_a_filter_or_as_stays_djangos_node():
    template = engines["django"].from_string(
        "{% load i18n kept_i18n %}{% translate word %}|{% translate 'Profile'|upper %}|"
        "{% translate 'Profile' as label %}{{ label }}|{% translate 'May' context 'month name' %}"
    )
    kinds = [type(node).__name__ for node in template.template.nodelist if "Translate" in type(node).__name__]
    assert kinds == ["TranslateNode"] * 4
    with translation.override("it"):
        assert template.render({"word": "Profile"}).split("|")[:3] == ["Profilo", "PROFILO", "Profilo"]
        assert template.render({"word": "Branch"}).startswith("Filiale|")


CHOICE_FIELDS = (
    (Customer, ("kind", "segment", "status", "kyc_status", "risk_profile")),
    (Holding, ("status", "maturity_instruction")),
    (IdentityDocument, ("document_type",)),
)


@pytest.mark.parametrize("language", ["en-gb", "it"])
def test_a_choice_label_is_the_models_display_translated(language):
    with translation.override(language):
        for model, fields in CHOICE_FIELDS:
            for field in fields:
                values = [value for value, _ in model._meta.get_field(field).flatchoices] + ["", None, "not-a-choice"]
                for value in values * 2:  # the second time from what was kept
                    instance = model(**{field: value})
                    shown = getattr(instance, f"get_{field}_display")()
                    assert choice_label(instance, field) == translated(shown), (model, field, value)
    assert choice_label(None, "kind") == ""


def test_changing_the_languages_forgets_what_was_kept():
    template = engines["django"].from_string('{% load i18n kept_i18n %}{% translate "Profile" %}')
    with translation.override("it"):
        assert template.render({}) == "Profilo"
        assert choice_label(Customer(kind="individual"), "kind")
    node = next(n for n in template.template.nodelist if isinstance(n, KeptTranslateNode))
    assert node._kept and kept_i18n._labels
    with override_settings(LANGUAGES=[("en-gb", "English"), ("it", "Italiano")]):
        assert not node._kept and not kept_i18n._labels


@pytest.mark.parametrize("language", ["en-gb", "it"])
def test_a_kept_slot_is_the_component_with_its_link(language):
    with translation.override(language):
        for url in ("/customers/12/tasks/", "/customers/9/timeline/?a=1&b=2"):
            facts = {"slot_id": "customer-tasks", "title": "Open tasks", "url": url, "link_text": "Open <tasks>"}
            assert _slot("customer-tasks", "Open tasks", "Open <tasks>", url) == render_to_string(
                "components/htmx_slot.html", facts
            )
