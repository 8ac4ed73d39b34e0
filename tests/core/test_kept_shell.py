"""The page shell's kept tags print what Django's own tags print (decision 173)."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template import Node, engines
from django.templatetags.static import StaticNode
from django.test import override_settings
from django.utils import translation

from apps.core.templatetags.kept_i18n import KeptTranslateNode
from apps.core.templatetags.kept_static import KeptStaticNode

SHELL = "base.html"
MANIFEST = {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}


def _source(name: str) -> str:
    return engines["django"].engine.get_template(name).source


def _nodes(name: str, kind: type) -> list:
    return engines["django"].engine.get_template(name).nodelist.get_nodes_by_type(kind)


def _fixed_messages() -> list[str]:
    return re.findall(r"""{% translate (?:"([^"]+)"|'([^']+)') %}""", _source(SHELL))


def _static_names() -> list[str]:
    return re.findall(r"""{% static ['"]([^'"]+)['"] %}""", _source(SHELL))


def test_every_fixed_message_of_the_shell_is_kept_and_prints_what_djangos_prints_in_each_language():
    messages = [double or single for double, single in _fixed_messages()]
    assert len(messages) >= 3
    # Every translate tag of base.html is the kept one (kept_i18n is loaded after i18n).
    translates = [n for n in _nodes(SHELL, Node) if "Translate" in type(n).__name__]
    assert len(translates) == len(messages) and all(isinstance(n, KeptTranslateNode) for n in translates)

    body = "|".join(f'{{% translate "{m}" %}}' for m in messages)
    django_own = engines["django"].from_string("{% load i18n %}" + body)
    kept = engines["django"].from_string("{% load i18n kept_i18n %}" + body)
    seen = {}
    for language in ("en-gb", "it", "en-gb", "it"):
        with translation.override(language):
            assert kept.render({}) == django_own.render({})
            seen[language] = kept.render({})
    assert seen["en-gb"] != seen["it"] and "Lingua" in seen["it"]


def test_the_shells_static_urls_are_kept_and_equal_the_storages():
    names = _static_names()
    assert len(names) == 4
    nodes = _nodes(SHELL, StaticNode)
    assert len(nodes) == len(names) and all(isinstance(n, KeptStaticNode) for n in nodes)
    kept = engines["django"].from_string("{% load kept_static %}" + "|".join(f'{{% static "{n}" %}}' for n in names))
    expected = "|".join(staticfiles_storage.url(n) for n in names)
    assert kept.render({}) == expected and kept.render({}) == expected


def test_a_kept_static_url_follows_a_new_storage_static_url_and_debug(settings, tmp_path):
    names = _static_names()
    template = engines["django"].from_string(
        "{% load kept_static %}" + "|".join(f'{{% static "{n}" %}}' for n in names)
    )
    plain = template.render({})
    assert plain == "|".join(f"/static/{n}" for n in names)

    # The production storage: hashed names from its manifest (written here, no collectstatic).
    hashed = {n: re.sub(r"(\.[a-z]+)$", r".0123456789ab\1", n) for n in names}
    (tmp_path / "staticfiles.json").write_text(json.dumps({"paths": hashed, "version": "1.1"}))
    with override_settings(
        STATIC_ROOT=tmp_path,
        STORAGES={**settings.STORAGES, "staticfiles": MANIFEST},
    ):
        expected = "|".join(f"/static/{hashed[n]}" for n in names)
        assert "|".join(staticfiles_storage.url(n) for n in names) == expected
        assert template.render({}) == expected and template.render({}) == expected
        with override_settings(DEBUG=True):  # the manifest storage answers plain names under DEBUG
            assert template.render({}) == "|".join(staticfiles_storage.url(n) for n in names) == plain
        assert template.render({}) == expected
        with override_settings(STATIC_URL="/assets/"):
            assert template.render({}) == expected.replace("/static/", "/assets/")
    assert template.render({}) == plain


def test_a_name_the_manifest_lacks_still_raises_and_is_not_kept(settings, tmp_path):
    (tmp_path / "staticfiles.json").write_text(json.dumps({"paths": {}, "version": "1.1"}))
    template = engines["django"].from_string('{% load kept_static %}{% static "css/nowhere.css" %}')
    with override_settings(
        STATIC_ROOT=tmp_path,
        STORAGES={**settings.STORAGES, "staticfiles": MANIFEST},
    ):
        for _ in range(2):
            with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
                template.render({})
    assert template.render({}) == "/static/css/nowhere.css"


def test_a_static_name_from_a_variable_or_a_filter_stays_djangos_node_and_as_works():
    template = engines["django"].from_string(
        '{% load kept_static %}{% static name %}|{% static "a b.css"|lower %}|'
        '{% static "css/finpulse.css" as href %}[{{ href }}]|'
        '{% autoescape off %}{% static "x&y.css" %}{% endautoescape %}|{% static "x&y.css" %}'
    )
    kinds = [type(n).__name__ for n in template.template.nodelist.get_nodes_by_type(StaticNode)]
    assert kinds == ["StaticNode", "StaticNode", "KeptStaticNode", "KeptStaticNode", "KeptStaticNode"]
    for name in ("img/favicon.svg", "js/finpulse.js"):
        assert template.render({"name": name}) == (
            f"/static/{name}|/static/a%20b.css|[/static/css/finpulse.css]|/static/x%26y.css|/static/x%26y.css"
        )


def _footer(html: str) -> str:
    return html[html.index('<footer class="site-footer">') :]


def test_the_language_footer_is_kept_and_prints_what_the_loop_printed(rf):
    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string

    from apps.core.templatetags import kept_i18n

    # The loop base.html held before decision 173, rendered by Django for each language.
    loop = engines["django"].from_string(
        '{% load i18n %}<span>{% translate "Language" %}:</span>{% for code, name in LANGUAGES %}\n'
        '      {% if code == LANGUAGE_CODE %}<span class="language-switch__current" lang="{{ code }}" '
        'aria-current="true">{{ name }}</span>{% else %}<button type="submit" name="language" value="{{ code }}" '
        'lang="{{ code }}">{{ name }}</button>{% endif %}{% endfor %}'
    )
    request = rf.get("/somewhere/?a=1&b=2")
    request.user = AnonymousUser()
    kept_i18n._language_choices.clear()
    for language in ("en-gb", "it", "en-gb", "it"):
        with translation.override(language):
            page = render_to_string(SHELL, request=request)
            expected = loop.render({"LANGUAGES": settings.LANGUAGES, "LANGUAGE_CODE": language}, request)
            assert expected in _footer(page) and page.count('aria-current="true"') == 1
            assert 'value="/somewhere/?a=1&amp;b=2"' in _footer(page)
    assert len(kept_i18n._language_choices) == 2
    with translation.override("it"):
        assert "Lingua:" in _footer(render_to_string(SHELL, request=request))
    with override_settings(LANGUAGES=[("en-gb", "English"), ("it", "Italiano"), ("de", "Deutsch")]):
        assert not kept_i18n._language_choices
        with translation.override("it"):
            assert 'value="de" lang="de">Deutsch</button>' in _footer(render_to_string(SHELL, request=request))


def test_language_choices_with_other_languages_in_the_context_is_rendered_not_kept():
    from apps.core.templatetags import kept_i18n

    template = engines["django"].from_string("{% load kept_i18n %}{% language_choices %}")
    kept_i18n._language_choices.clear()
    html = template.render({"LANGUAGES": [("xx", "X<y>")], "LANGUAGE_CODE": "en-gb"})
    assert html.endswith('<button type="submit" name="language" value="xx" lang="xx">X&lt;y&gt;</button>')
    assert not kept_i18n._language_choices
