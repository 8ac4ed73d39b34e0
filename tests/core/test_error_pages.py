"""Item 14 of issue #15: styled 403 (saying why), 404 (no URL list), 500 and favicon; the demo
runs with DEBUG off."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import RequestFactory

from apps.core.views import server_error
from finpulse import urls
from tests.workspace.support import plain_static_files, role_permissions  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("plain_static_files", "role_permissions")


def test_a_refusal_is_a_styled_page_that_says_why(client, manager):
    client.force_login(manager)

    response = client.get("/portfolio/")

    html = response.content.decode()
    assert response.status_code == 403
    assert '<header class="topbar">' in html and 'id="forbidden"' in html
    assert "Only administrators and branch managers manage portfolios." in html


def test_an_unknown_page_is_a_styled_404_without_the_url_list(client, manager, settings):
    settings.DEBUG = False
    client.force_login(manager)

    response = client.get("/no/such/page/")

    html = response.content.decode()
    assert response.status_code == 404
    assert 'id="not-found"' in html and '<header class="topbar">' in html
    assert "URLconf" not in html and "customers/" not in re.sub(r'href="[^"]*"', "", html)


def test_a_failure_is_a_styled_500_without_details_or_a_database():
    assert urls.handler500 == "apps.core.views.server_error"

    response = server_error(RequestFactory().get("/"))  # no database, no session needed

    html = response.content.decode()
    assert response.status_code == 500
    assert 'id="server-error"' in html and "finpulse.css" in html
    assert "Traceback" not in html


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"].endswith("img/favicon.svg")


def test_make_run_serves_the_demo_with_debug_off():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()

    assert re.search(r"^run: export DJANGO_DEBUG \?= 0$", makefile, re.M)
    assert "collectstatic" in makefile  # whitenoise serves what collectstatic gathered
