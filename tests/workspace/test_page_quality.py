"""Money and PII filters, static files with hashed names, and optional dashboard sections."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.template import engines
from django.utils import timezone, translation

from apps.core.templatetags.finpulse import masked, money, person_name
from tests.customers.factories import CustomerFactory
from tests.workspace.support import (
    pinned_today,  # noqa: F401  (fixture)
    plain_static_files,  # noqa: F401  (fixture)
    role_permissions,  # noqa: F401  (fixture)
)


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("1234567.5"), "GBP", "GBP\u00a01,234,567.50"),
        (Decimal("0.105"), "EUR", "EUR\u00a00.10"),  # banker's rounding, no float drift
        (Decimal("-42"), "USD", "USD\u00a0-42.00"),
        (Decimal("1500"), "JPY", "JPY\u00a01,500"),
        ("12.3", "", "12.30"),
        (None, "GBP", "—"),
    ],
)
def test_money_formats_decimals_with_the_currency(amount, currency, shown):
    assert money(amount, currency) == shown


def test_money_refuses_a_float():
    with pytest.raises(TypeError):
        money(0.1, "GBP")


def test_masked_shows_a_hint_of_a_clear_value():
    assert masked("jane@bank.example", "email") == "j***@bank.example"
    assert masked("GB29NWBK60161331926819") == "••••6819"
    assert masked("", "email") == "—"


def test_person_name_prefers_the_full_name(manager):
    assert person_name(manager) == manager.get_full_name()
    assert person_name(None) == "—"


@pytest.mark.parametrize(
    "value",
    [
        dt.date(2026, 3, 2),
        dt.date(987, 12, 31),  # the year keeps four digits, as Django's "Y" does
        dt.datetime(2026, 1, 15, 9, 5, tzinfo=dt.UTC),
        # Summer time: shown in London time, which is already the next day.
        dt.datetime(2026, 7, 1, 23, 30, 5, 123456, tzinfo=dt.UTC),
    ],
)
def test_time_tag_prints_what_the_date_filters_print(value):
    engine = engines["django"]
    with_filters = engine.from_string(
        """<time datetime="{{ v|date:'c' }}">{{ v|date:"j M Y" }}"""
        """{% if has_time %} {{ v|time:"H:i" }}{% endif %}</time>"""
    )
    with_tag = engine.from_string("{% load finpulse %}{{ v|time_tag }}")

    expected = with_filters.render({"v": value, "has_time": isinstance(value, dt.datetime)})

    assert with_tag.render({"v": value}) == expected
    assert expected.startswith('<time datetime="')


def _time_parts_as_django_prints_them(value):  # type: ignore[no-untyped-def]
    """time_parts before decision 181: Django's own formatting, on every call."""
    from django.utils import dateformat
    from django.utils.dates import MONTHS_3
    from django.utils.formats import get_format

    if translation.get_language().startswith("en"):
        text = f"{value.day} {MONTHS_3[value.month].title()} {value.year:04d}"
    else:
        text = dateformat.format(value, get_format("DATE_FORMAT"))
    if isinstance(value, dt.datetime):
        text += f" {value.hour:02d}:{value.minute:02d}"
    return value.isoformat(), text


@pytest.mark.parametrize("language", ["en-gb", "it"])
def test_dates_kept_per_language_and_day_print_what_django_prints(language):
    from apps.core.templatetags.finpulse import local_time_parts, time_parts

    days = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(400)] + [dt.date(987, 12, 31)]
    moments = [dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC) + dt.timedelta(hours=7 * n) for n in range(400)]
    with translation.override(language):
        for value in [*days, *moments, dt.datetime(2026, 7, 1, 23, 30, 5)]:  # the last one naive
            local = timezone.template_localtime(value)
            assert time_parts(local) == _time_parts_as_django_prints_them(local), value
            assert local_time_parts()(value) == time_parts(local), value
        assert local_time_parts()(None) == ("", "")


def test_dates_follow_the_language_and_a_changed_format(settings):
    from apps.core.templatetags.finpulse import time_parts

    day = dt.date(2026, 12, 6)
    with translation.override("it"):
        assert time_parts(day) == ("2026-12-06", "6 dic 2026")
        settings.FORMAT_MODULE_PATH = None  # Django's own Italian format: "d F Y"
        assert time_parts(day) == ("2026-12-06", _time_parts_as_django_prints_them(day)[1])
    with translation.override("en-gb"):
        assert time_parts(day) == ("2026-12-06", "6 Dec 2026")


def test_time_tag_prints_nothing_for_no_date():
    assert engines["django"].from_string("{% load finpulse %}[{{ v|time_tag }}]").render({"v": None}) == "[]"


@pytest.mark.usefixtures("pinned_today", "role_permissions")
def test_static_files_are_served_by_whitenoise_under_hashed_names(client, manager, settings, tmp_path):
    # The production storage (tests elsewhere render with plain names, see tests/conftest.py).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--noinput", verbosity=0)
    client.force_login(manager)

    html = client.get("/").content.decode()

    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert any(re.fullmatch(r"/static/vendor/htmx/htmx\.min\.[0-9a-f]{12}\.js", s) for s in scripts), scripts
    finpulse_js = next(s for s in scripts if "/js/finpulse." in s)
    assert re.fullmatch(r"/static/js/finpulse\.[0-9a-f]{12}\.js", finpulse_js)
    served = client.get(finpulse_js)
    assert served.status_code == 200
    assert "immutable" in served["Cache-Control"]


@pytest.mark.usefixtures("plain_static_files", "pinned_today", "role_permissions")
def test_unread_notifications_appear_on_the_dashboard(client, manager):
    from apps.notifications.models import Notification

    CustomerFactory(assigned_to=manager)
    # Test data for another app's outbox: a row as its services leave it (in-app, unread).
    Notification.objects.create(
        recipient_user=manager,
        channel="in_app",
        kind="maturity",
        dedupe_key="test:maturity:1",
        subject="Deposit maturing for a customer",
        status="sent",
        sent_at=timezone.now(),
    )
    client.force_login(manager)

    html = client.get("/").content.decode()

    assert "Unread notifications" in html
    assert "Deposit maturing for a customer" in html


@pytest.mark.usefixtures("plain_static_files")
def test_the_vendored_scripts_carry_their_licence(settings):
    from pathlib import Path

    vendor = Path(settings.BASE_DIR) / "static" / "vendor"
    assert (vendor / "htmx" / "htmx.min.js").exists() and (vendor / "htmx" / "LICENSE").exists()
    assert (vendor / "chartjs" / "chart.umd.min.js").exists() and (vendor / "chartjs" / "LICENSE.md").exists()


def test_every_stylesheet_closes_what_it_opens():
    # One missing "}" after a media query silently nests every later rule in it: the desktop then
    # showed the phone's menu button and its navigation ran under the user's name.
    from pathlib import Path

    from django.conf import settings

    sheets = [path for folder in settings.STATICFILES_DIRS for path in Path(folder).glob("css/*.css")]
    assert sheets
    for sheet in sheets:
        text = re.sub(r"/\*.*?\*/", "", sheet.read_text(), flags=re.S)  # comments may hold braces
        depth = 0
        for number, line in enumerate(text.splitlines(), 1):
            depth += line.count("{") - line.count("}")
            assert depth >= 0, f"{sheet.name}: a '}}' closes nothing on line {number}"
        assert depth == 0, f"{sheet.name}: {depth} block(s) left open"
