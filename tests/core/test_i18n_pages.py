"""The pages an Italian manager opens read in Italian: no English words left on them (decision 102).

The routes are enumerated from the URL conf (every page without an object in its URL, and every
page of one customer), so a new page is checked without being listed. Each is rendered as a
relationship manager whose browser speaks Italian; the visible text (text nodes and the words in
title, placeholder, aria-label and alt; not scripts, styles or code) may not hold an English word
from a list of words that are not Italian and that no name in the data below contains. The
template scan (test_i18n_templates.py) catches a template's own words; this catches the words
Python puts on a page: form labels, help texts, choices, messages, errors.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory
from tests.tasks.factories import TaskFactory

# English words that are not Italian words. Not "branch" or "product": the factories name theirs
# "Branch 1" and "Product 1" (data, shown as it is).
ENGLISH = {
    "the",
    "and",
    "with",
    "your",
    "you",
    "this",
    "for",
    "from",
    "of",
    "are",
    "not",
    "yet",
    "by",
    "which",
    "when",
    "will",
    "has",
    "have",
    "been",
    "there",
    "here",
    "what",
    "who",
    "each",
    "every",
    "new",
    "save",
    "search",
    "show",
    "due",
    "today",
    "back",
    "next",
    "previous",
    "none",
    "customer",
    "customers",
    "task",
    "tasks",
    "products",
    "amount",
    "status",
    "date",
    "name",
    "reason",
    "open",
    "close",
    "filter",
    "export",
    "assign",
    "manager",
    "meeting",
    "week",
    "month",
    "opportunity",
    "opportunities",
    "lead",
    "leads",
    "approve",
    "reject",
    "cancel",
    "delete",
    "sign",
}
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
HIDDEN = {"script", "style", "code", "template"}
# Pages that are not the interface of the bank's staff, or not HTML.
NOT_CHECKED = ("export", "feed", ".ics", ".csv", "logout", "setlang", "oidc", "sso", "health", "metrics")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden += tag in HIDDEN
        self.words += [w for name, value in attrs if name in SHOWN_ATTRIBUTES and value for w in value.split()]

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in HIDDEN and self._hidden > 0

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.words += data.split()


def english_words(html: str) -> set[str]:
    parser = _Text()
    parser.feed(html)
    words = {re.sub(r"[^\w'-]", "", word).lower() for word in parser.words}
    return words & ENGLISH


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> list[tuple[str, URLPattern]]:  # type: ignore[type-arg]
    routes = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            routes += _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif pattern.name:
            routes.append((prefix + str(pattern.pattern), pattern))
            routes[-1] = (namespace + pattern.name, pattern)
    return routes


def page_urls(customer_id: int) -> list[str]:
    urls = []
    for name, pattern in _walk(get_resolver().url_patterns):
        if name.startswith(("admin:", "api")) or any(word in name for word in NOT_CHECKED):
            continue
        arguments = set(pattern.pattern.regex.groupindex)
        if not arguments:
            urls.append(reverse(name))
        elif arguments == {"customer_id"}:
            urls.append(reverse(name, kwargs={"customer_id": customer_id}))
    return sorted(set(urls))


def test_the_check_finds_english_words():
    assert english_words('<h1>Clienti</h1><p title="Open the customer">Nuovo</p><script>var the;</script>') == {
        "open",
        "the",
        "customer",
    }


@pytest.mark.django_db
def test_every_page_of_a_manager_reads_in_italian(manager):
    customer = CustomerFactory(assigned_to=manager, first_name="Mario", last_name="Rossi")
    HoldingFactory(customer=customer, balance=Decimal("1500.00"), currency="EUR")
    TaskFactory(customer=customer, title="Chiamare Mario", priority=3)
    client = Client(HTTP_ACCEPT_LANGUAGE="it")
    client.force_login(manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"

    checked, english = [], {}
    for url in page_urls(customer.pk):
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        checked.append(url)
        found = english_words(response.content.decode())
        if found:
            english[url] = sorted(found)

    assert len(checked) >= 15, checked
    assert english == {}, "\n".join(f"{url}: {' '.join(words)}" for url, words in english.items())
