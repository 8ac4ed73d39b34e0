"""Empty catalogues are taken out of the translation chains, and no answer changes (decision 158)."""

from __future__ import annotations

import gettext
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation import trans_real

from apps.core.catalogues import prune_empty_fallbacks

ROOT = Path(__file__).resolve().parents[2]
MISSING = ("A sentence no catalogue holds", "Another one, %(count)s of them")


def _chain(catalogue: gettext.NullTranslations) -> list[gettext.NullTranslations]:
    chain = []
    node = catalogue._fallback
    while node is not None:
        chain.append(node)
        node = node._fallback
    return chain


def _empties(catalogue: gettext.NullTranslations) -> int:
    return sum(
        1
        for node in _chain(catalogue)
        if type(node) is gettext.GNUTranslations and all(key == "" for key in node._catalog)
    )


def _answers(catalogue: trans_real.DjangoTranslation) -> list[str]:
    """What the catalogue answers for every message it and its fallbacks hold, and for some none holds."""
    singular, plural = set(MISSING), set()
    for node in [catalogue, *_chain(catalogue)]:
        for key in node._catalog.keys():  # noqa: SIM118  # Django's TranslationCatalog is not iterable
            if isinstance(key, tuple):
                plural.add(key[0])
            elif key:
                singular.add(key)
    answers = []
    for message in sorted(singular):
        answers.append(catalogue.gettext(message))
        context, _, text = message.partition("\x04")
        if text:
            answers.append(catalogue.pgettext(context, text))
    for message in sorted(plural | set(MISSING)):
        answers += [catalogue.ngettext(message, message + " (plural)", n) for n in (0, 1, 2, 5)]
    return answers


@pytest.mark.parametrize("code", [code for code, _ in settings.LANGUAGES])
def test_pruning_takes_out_the_empty_catalogues_and_changes_no_answer(code: str) -> None:
    catalogue = trans_real.DjangoTranslation(code)  # a fresh one, as Django builds it
    catalogue._fallback = _with_empty_tail(catalogue._fallback)  # at least one empty, whatever Django ships
    before = _answers(catalogue)
    assert _empties(catalogue) >= 1

    prune_empty_fallbacks(catalogue)

    assert _empties(catalogue) == 0
    assert _answers(catalogue) == before


def _with_empty_tail(fallback: gettext.NullTranslations | None) -> gettext.NullTranslations:
    """An empty catalogue in front of the chain, as gettext.translation gives for "en" beside "en_GB"."""
    empty = gettext.GNUTranslations()
    empty._catalog = {"": "Content-Type: text/plain; charset=UTF-8\n"}
    empty.plural = lambda n: int(n != 1)
    empty._fallback = fallback
    return empty


def test_catalogues_that_hold_messages_stay_in_the_chain() -> None:
    english = trans_real.DjangoTranslation(settings.LANGUAGE_CODE)
    italian = trans_real.DjangoTranslation("it")
    italian._fallback = _with_empty_tail(english)

    prune_empty_fallbacks(italian)

    assert italian._fallback is english
    assert italian.gettext("Customers") == "Clienti"


def test_each_process_starts_with_pruned_interface_catalogues() -> None:
    """The app's start-up prunes them: a fresh interpreter's chains hold no empty catalogue."""
    script = (
        "import django, gettext; django.setup()\n"
        "from django.conf import settings\n"
        "from django.utils.translation import trans_real\n"
        "for code, _ in settings.LANGUAGES:\n"
        "    node = trans_real.translation(code)._fallback\n"
        "    while node is not None:\n"
        "        assert not (type(node) is gettext.GNUTranslations and all(k == '' for k in node._catalog)), code\n"
        "        node = node._fallback\n"
        "print('pruned')\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "finpulse.settings"}
    result = subprocess.run(  # nosec B603 - this interpreter, a fixed script
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "pruned"
