"""Languages (docs/decisions.md 88-90): English by default, Italian shipped; amounts and dates by locale.

The same page is rendered in en-gb and it; the Italian catalogue is complete and its compiled
.mo says what the .po says; the language switcher is Django's set_language behind CSRF; machine
outputs (CSV, API) do not change with the language.
"""

from __future__ import annotations

import ast
import datetime as dt
import gettext
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from apps.core.templatetags.finpulse import (
    date_words,
    format_amount_range,
    format_money,
    format_rate,
    time_tag,
    translated,
)
from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory
from tests.tasks.factories import TaskFactory

LOCALE = Path(settings.BASE_DIR) / "locale" / "it" / "LC_MESSAGES"
NBSP = "\u00a0"


def _po_entries(path: Path) -> list[dict[str, object]]:
    """Entries of a .po file written without wrapping (makemessages --no-wrap): msgid, plural, msgstr(s), flags."""
    entries: list[dict[str, object]] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict[str, object] = {"flags": "", "msgstr": []}
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] = line
            elif line.startswith("msgctxt "):
                entry["context"] = ast.literal_eval(line[len("msgctxt ") :])
            elif line.startswith("msgid_plural "):
                entry["plural"] = ast.literal_eval(line[len("msgid_plural ") :])
            elif line.startswith("msgid "):
                entry["msgid"] = ast.literal_eval(line[len("msgid ") :])
            elif line.startswith("msgstr"):
                entry["msgstr"].append(ast.literal_eval(line.split(" ", 1)[1]))  # type: ignore[union-attr]
            elif line.startswith('"') and entry.get("msgid"):
                raise AssertionError(f"wrapped line in the .po (run makemessages with --no-wrap): {line}")
        if entry.get("msgid"):
            entries.append(entry)
    return entries


def test_every_italian_msgid_has_a_translation_and_none_is_fuzzy():
    entries = _po_entries(LOCALE / "django.po")

    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"]) or not e["msgstr"]]  # type: ignore[arg-type]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in str(e["flags"])]
    assert untranslated == []
    assert fuzzy == []
    # No "translation" that is the English text again, but for words that are the same in both.
    same = {e["msgid"] for e in entries if e["msgstr"] == [e["msgid"]]}
    # Words Italian bankers use as they are.
    as_they_are = {"Email", "SMS", "Chat", "Marketing", "Menu", "Affluent", "Premium", "Private banking", "Corporate"}
    as_they_are |= {"Pipeline", "No"}
    assert same <= as_they_are | {"In %(cur)s"}, same


def test_the_committed_mo_says_what_the_po_says():
    with (LOCALE / "django.mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)

    for entry in _po_entries(LOCALE / "django.po"):
        msgstr: list[str] = entry["msgstr"]  # type: ignore[assignment]
        if "plural" in entry:
            assert catalogue.ngettext(entry["msgid"], entry["plural"], 1) == msgstr[0], entry["msgid"]
            assert catalogue.ngettext(entry["msgid"], entry["plural"], 5) == msgstr[1], entry["msgid"]
        elif "context" in entry:
            assert catalogue.pgettext(entry["context"], entry["msgid"]) == msgstr[0], entry["msgid"]  # type: ignore[arg-type]
        else:
            assert catalogue.gettext(entry["msgid"]) == msgstr[0], entry["msgid"]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en-gb", ["GBP\u00a01,234,567.50", "4.10%", "2 Mar 2026", "10,000 to under 50,000 GBP"]),
        ("it", ["1.234.567,50\u00a0GBP", "4,10%", "2 mar 2026", "da 10.000 a meno di 50.000 GBP"]),
    ],
)
def test_amounts_rates_and_dates_follow_the_language(language, expected):
    with translation.override(language):
        shown = [
            format_money(Decimal("1234567.5"), "GBP"),
            format_rate(Decimal("4.1")),
            str(time_tag(dt.date(2026, 3, 2))),
            format_amount_range(Decimal("10000"), Decimal("50000"), "GBP", below_high=True),
        ]

    assert shown[0] == expected[0]
    assert shown[1] == expected[1]
    assert shown[2] == f'<time datetime="2026-03-02">{expected[2]}</time>'
    assert shown[3] == expected[3]


@pytest.fixture
def customer_page(manager):  # type: ignore[no-untyped-def]
    customer = CustomerFactory(assigned_to=manager)
    HoldingFactory(customer=customer, balance=Decimal("1500.00"), currency="GBP", opened_on=dt.date(2025, 1, 15))
    return customer.get_absolute_url()


def _page(manager, url: str, language: str | None) -> str:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(manager)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_customer_page_reads_in_english_by_default(customer_page, manager):
    html = _page(manager, customer_page, None)

    assert '<html lang="en-gb">' in html
    assert ">Customers</a>" in html and ">Holdings</h2>" in html
    assert f"GBP{NBSP}1,500.00" in html
    assert "15 Jan 2025" in html
    assert "<h3>Current account" in html


def test_the_customer_page_reads_in_italian_with_italian_amounts_and_dates(customer_page, manager):
    html = _page(manager, customer_page, "it")

    assert '<html lang="it">' in html
    assert ">Clienti</a>" in html and ">Rapporti</h2>" in html and ">Esci</button>" in html
    assert f"1.500,00{NBSP}GBP" in html
    assert "15 gen 2025" in html
    assert "<h3>Conto corrente" in html  # a choice label, translated on display
    assert ">Customers</a>" not in html and f"GBP{NBSP}1,500.00" not in html


def test_the_language_switcher_posts_to_set_language_and_the_choice_is_remembered(customer_page, manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    page = client.get(customer_page).content.decode()
    assert 'action="/i18n/setlang/"' in page and 'name="language" value="it"' in page

    refused = client.post("/i18n/setlang/", {"language": "it", "next": customer_page})
    assert refused.status_code == 403  # no CSRF token, no change
    assert settings.LANGUAGE_COOKIE_NAME not in refused.cookies

    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    switched = client.post("/i18n/setlang/", {"language": "it", "next": customer_page, "csrfmiddlewaretoken": token})
    assert switched.status_code == 302 and switched["Location"] == customer_page
    cookie = switched.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "it" and int(cookie["max-age"]) == settings.LANGUAGE_COOKIE_AGE

    assert ">Clienti</a>" in client.get(customer_page).content.decode()
    assert ">Clienti</a>" in client.get("/").content.decode()  # remembered on the next page too


def test_an_unknown_language_changes_nothing(customer_page, manager):
    client = Client()
    client.force_login(manager)

    response = client.post("/i18n/setlang/", {"language": "xx", "next": customer_page})

    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert ">Customers</a>" in client.get(customer_page).content.decode()


def test_an_italian_browser_gets_italian_pages_and_the_sign_in_page_too(db):
    html = Client(HTTP_ACCEPT_LANGUAGE="it-IT,it;q=0.9").get("/accounts/login/").content.decode()

    assert "Accedi a FinPulse" in html


def test_the_404_page_is_translated(manager):
    client = Client()
    client.force_login(manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"

    response = client.get("/customers/999999999/")

    assert response.status_code == 404
    assert "Non trovato" in response.content.decode()


def test_the_csv_export_stays_in_one_machine_format_whatever_the_language(customer_page, manager):
    exports = {}
    for language in ("en-gb", "it"):
        client = Client()
        client.force_login(manager)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = client.get("/reports/book/export.csv")
        assert response.status_code == 200
        exports[language] = b"".join(response.streaming_content).decode()

    assert exports["en-gb"] == exports["it"]
    assert "1500.00" in exports["it"] and "1.500,00" not in exports["it"]


def test_the_api_answers_in_english_whatever_the_client_asks(db):
    english = Client().get("/api/v1/customers/")
    italian = Client(HTTP_ACCEPT_LANGUAGE="it").get("/api/v1/customers/", headers={"Cookie": "finpulse_language=it"})

    assert italian.status_code == english.status_code == 401
    italian_body, english_body = italian.json(), english.json()
    italian_body.pop("request_id", None), english_body.pop("request_id", None)
    assert italian_body == english_body
    assert "credentials" in italian_body["detail"]  # DRF's Italian would be "Le credenziali ..."
    assert italian["Content-Language"] == "en-gb"


def test_choice_labels_stay_english_data_whatever_the_language():
    from apps.accounts.models import Holding

    with translation.override("it"):
        label = Holding.Category.CURRENT_ACCOUNT.label
        shown = translated(label)

    assert label == "Current account"  # what hashes, audit records, CSV and the LLM read
    assert shown == "Conto corrente"  # what an Italian page shows


def test_the_cached_rows_of_an_italian_list_speak_italian(manager):
    """The task and customer rows are rendered from plain values and cached (apps/core/fragments.py);
    their words and labels come translated in the values, and an English viewer's rows stay English."""
    customer = CustomerFactory(assigned_to=manager, kyc_status="verified", kyc_review_date=dt.date(2027, 3, 6))
    TaskFactory(customer=customer, title="Call about the deposit", priority=3)
    pages = {}
    for language in ("it", "en-gb", "it"):  # the second Italian read comes from the cache
        pages[language] = (_page(manager, "/tasks/", language), _page(manager, "/customers/", language))

    tasks, customers = pages["it"]
    assert "Call about the deposit" in tasks
    assert ">Segna come svolta</button>" in tasks and ">Esito</label>" in tasks and ">Ripianifica</a>" in tasks
    assert '<span class="badge">Alta</span>' in tasks and "scade il <time" in tasks
    for english in (">Mark done<", ">Outcome<", ">Reschedule<", ">Reassign<", ">High<", "due <time"):
        assert english not in tasks, english
    assert "<td>Verificato<br><small>revisione il 6 mar 2027</small></td>" in customers
    assert 'aria-label="Seleziona ' in customers and 'aria-label="Select ' not in customers
    tasks, customers = pages["en-gb"]
    assert ">Mark done</button>" in tasks and '<span class="badge">High</span>' in tasks
    assert "<td>Verified<br><small>review 6 Mar 2027</small></td>" in customers


@pytest.mark.parametrize(
    ("language", "fmt", "expected"),
    [
        ("en-gb", "l j F Y", "Wednesday 4 March 2026"),
        ("it", "l j F Y", "mercoledì 4 marzo 2026"),
        ("it", "D j M", "mer 4 mar"),
        ("it", "j F Y, H:i T", "4 marzo 2026, 10:30 UTC"),
    ],
)
def test_month_and_day_names_are_written_as_the_language_writes_them(language, fmt, expected):
    with translation.override(language):
        assert date_words(dt.datetime(2026, 3, 4, 10, 30, tzinfo=dt.UTC), fmt) == expected


def test_italian_calendar_and_dashboard_write_dates_as_italian_does(manager, settings):
    """Lower case inside a sentence ('Data contabile mercoledì 4 marzo 2026', 'Settimana ... 4 mar'),
    capitalised at the head of a heading ('Mercoledì 4 marzo', 'Marzo 2026')."""
    settings.FINPULSE_BUSINESS_DATE = "2026-03-04"

    dashboard = _page(manager, "/", "it")
    week = _page(manager, "/calendar/?date=2026-03-04", "it")
    month = _page(manager, "/calendar/month/?date=2026-03-04", "it")

    assert ">mercoledì 4 marzo 2026</time>" in dashboard
    assert "2 mar" in week and "8 mar 2026" in week and "Mar 2026" not in week
    assert '<h2 class="calendar-day__head">Mer 4 mar' in week and 'aria-label="Mercoledì 4 marzo"' in week
    assert "<h1>Marzo 2026</h1>" in month
    assert "4 Marzo" not in week and "4 Marzo" not in dashboard


def test_every_translation_keeps_the_placeholders_of_its_msgid():
    """A translation that drops or misspells %(name)s prints the wrong value or raises on the page."""
    placeholder = re.compile(r"%\((\w+)\)[sd]|%[sd]")
    wrong = []
    for entry in _po_entries(LOCALE / "django.po"):
        wanted = sorted(placeholder.findall(str(entry["msgid"]) + str(entry.get("plural", ""))))
        for msgstr in entry["msgstr"]:  # type: ignore[attr-defined]
            if set(placeholder.findall(msgstr)) != set(wanted):
                wrong.append(f"{entry['msgid']!r} -> {msgstr!r}")

    assert wrong == [], "\n".join(wrong)
