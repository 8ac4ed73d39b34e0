"""No page shows English the Italian catalogue cannot translate (docs/decisions.md 88, 102).

Every template a page renders (admin excluded: Django's admin has its own catalogue) is read
with Django's own template lexer; what a reader sees outside `{% trans %}`/`{% blocktrans %}`
(the text between tags, and the words in `title`, `placeholder`, `aria-label`, `alt` and a
button's `value`) must hold no word, but for a short list of names and codes that read the same
in every language. So a new template line written in plain English fails here, whichever page
it is on, before anyone opens the page in Italian.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.template import Template
from django.template.base import Lexer, TokenType

BASE = Path(settings.BASE_DIR)
# Names, codes and units that are written the same in English and Italian.
SAME_IN_EVERY_LANGUAGE = {
    "FinPulse",
    "KYC",
    "IBAN",
    "CSV",
    "PDF",
    "API",
    "GBP",
    "EUR",
    "USD",
    "ISO",
    "OIDC",
    "SSO",
    "PII",
    "SMS",
    "Email",
    "email",
    "iCalendar",
    "ics",
    "htmx",
    "JavaScript",
    "English",
    "Italiano",
    "AML",
    "FX",
}
VISIBLE_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "aria-description", "data-confirm"}
PLACEHOLDER = "\x00"
# Not words to translate: scripts, styles, and code (a command, an address, a key).
HIDDEN = {"script", "style", "template", "code", "kbd", "samp"}
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


def page_templates() -> list[Path]:
    roots = [BASE / "templates", *sorted((BASE / "apps").glob("*/templates"))]
    found = [path for root in roots for path in root.rglob("*.html")]
    return sorted(path for path in found if "admin" not in path.relative_to(BASE).parts)


def _visible_source(source: str) -> str:
    """The template with every tag, variable and translated text replaced by a placeholder."""
    parts: list[str] = []
    skipping: str | None = None  # the closing tag of a block whose text is not shown as written
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if skipping:
                if name == skipping:
                    skipping = None
                continue
            if name in ("blocktrans", "blocktranslate", "comment", "verbatim"):
                skipping = "end" + name
            parts.append(f" {PLACEHOLDER} ")  # spaced: a tag inside an HTML tag leaves the tag parseable
        elif skipping:
            continue
        elif token.token_type == TokenType.TEXT:
            parts.append(token.contents)
        elif token.token_type == TokenType.VAR:
            parts.append(f" {PLACEHOLDER} ")
    return "".join(parts)


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[tuple[int, str]] = []
        self._hidden = 0  # inside <script> or <style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN:
            self._hidden += 1
        values = dict(attrs)
        for name, value in attrs:
            shown_value = name == "value" and tag == "input" and values.get("type") in ("submit", "button")
            if value and (name in VISIBLE_ATTRIBUTES or shown_value):
                self.texts.append((self.getpos()[0], value))

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.texts.append((self.getpos()[0], data))


# A quoted text given to an included template or a `with` (shown there as it is), not wrapped in _("…").
_TEXT_ARGUMENT = re.compile(r"""\b(?:caption|title|label|text|heading|empty|help)=(["'])([^"']*[A-Za-z]{2}[^"']*)\1""")


def _text_arguments(source: str) -> list[str]:
    found = []
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK and token.contents.split()[0] in ("include", "with"):
            found += [match.group(2) for match in _TEXT_ARGUMENT.finditer(token.contents)]
    return found


def untranslated_words(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    name = path.relative_to(BASE) if path.is_relative_to(BASE) else path.name
    found = [f"{name}: tag argument {text!r} (write _({text!r}))" for text in _text_arguments(source)]
    parser = _VisibleText()
    parser.feed(_visible_source(source))
    parser.close()
    for line, text in parser.texts:
        words = [w for w in WORD.findall(text.replace(PLACEHOLDER, " ")) if w not in SAME_IN_EVERY_LANGUAGE]
        if words:
            found.append(f"{name}:{line}: {' '.join(text.replace(PLACEHOLDER, '…').split())}")
    return found


def test_no_page_template_shows_words_outside_the_translation_tags():
    found = [line for path in page_templates() for line in untranslated_words(path)]

    assert found == [], "\n".join(found)


# A |date format that writes a month or a day in letters (M, F, b, N, E, D, l).
_DATE_IN_LETTERS = re.compile(r"""\|date:(["'])(?![A-Z_]+_FORMAT\1)[^"']*[MFbNEDl][^"']*\1""")


def test_dates_in_letters_follow_the_language():
    """Month and day names come from the language's formats (DATE_FORMAT: '6 dic 2026') or through
    |date_words, which writes them in lower case where the language does ('domenica 6 dicembre');
    a literal "j M Y" would print 'Dic' in the middle of an Italian sentence."""
    found = [
        f"{path.relative_to(BASE)}: {match.group(0)}"
        for path in page_templates()
        for match in _DATE_IN_LETTERS.finditer(path.read_text(encoding="utf-8"))
    ]

    assert found == [], "\n".join(found)
    assert _DATE_IN_LETTERS.search('{{ d|date:"j M Y" }}') and not _DATE_IN_LETTERS.search('{{ d|date:"DATE_FORMAT" }}')


def test_the_check_sees_plain_english_in_text_and_in_attributes(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '{% load i18n %}<h1>{% translate "Customers" %}</h1><p title="{{ x }}">{{ name }} · 3</p>'
        "{% blocktranslate with n=count %}{{ n }} customers{% endblocktranslate %}{% comment %}Notes{% endcomment %}"
        '<tr{% if late %} class="late"{% endif %}><td>{{ when }}</td></tr>'
        '<button name="action" value="export">—</button>'
        '<input type="submit" value="Save"><a href="{% url "x" %}" aria-label="Close">×</a>\n<p>Due {{ day }}</p>'
        "<script>const english = 'ignored';</script><p>FinPulse · KYC</p>"
        '{% include "t.html" with caption="Rates today" %}{% include "t.html" with caption=_("Rates today") %}',
        encoding="utf-8",
    )

    found = [line.split(": ", 1)[1] for line in untranslated_words(page)]

    assert found == ["tag argument 'Rates today' (write _('Rates today'))", "Save", "Close", "Due …"]


def test_every_page_template_compiles():
    for path in page_templates():
        Template(path.read_text(encoding="utf-8"))  # a broken {% blocktranslate %} raises here
