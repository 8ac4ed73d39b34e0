"""Shared set-up for the Django admin tests (tests/*/test_admin.py).

Import the `admin_ready` fixture into a test module to use it.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def admin_ready(db, settings):  # type: ignore[no-untyped-def]
    # The TOTP gate of the admin site has its own tests; these are about what staff see.
    settings.FINPULSE_ADMIN_REQUIRE_TOTP = False


def management_data(response) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What a browser posts back for the inlines of a rendered admin change form: each
    formset's management fields and the values its rows were rendered with."""
    data: dict[str, object] = {}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = value
        for form in formset.forms:
            for field in form:
                value = field.value()
                if value is not None and value is not False:
                    data[field.html_name] = "on" if value is True else value
    return data


def admin_is_closed_to(client, user, url: str) -> bool:  # type: ignore[no-untyped-def]
    """Django admin is for administrators only (docs/decisions.md 37): anyone else who opens
    an admin page is refused (403) on the way, and no admin page is rendered."""
    client.force_login(user)
    response = client.get(url, follow=True)
    return response.status_code == 403 and b"FinPulse administration" not in response.content
