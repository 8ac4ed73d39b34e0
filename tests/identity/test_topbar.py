"""The top bar is kept per process by the viewer's roles (decision 136): each role sees its own links,
in its own language, and a role taken away is gone from the bar on the next page."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from apps.core import fragments
from apps.identity import roles

TASKS = reverse("tasks:list")


@pytest.fixture(autouse=True)
def _remembered_facts(redis_url, settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_USER_FACTS_SECONDS = 60  # the roles come from the cached user facts, as in production


def _nav_links(client: Client, path: str = TASKS) -> set[str]:
    html = client.get(path).content.decode()
    nav = re.search(r'<nav id="main-nav".*?</nav>', html, flags=re.S)
    assert nav is not None
    return set(re.findall(r'href="([^"]+)"', nav.group(0)))


def _signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_each_role_sees_its_own_links_from_one_process(manager, compliance_officer, administrator):
    fragments.forget_forms()
    # Alternating in one process: an entry kept for one role set is never shown to another.
    for _ in range(2):
        manager_links = _nav_links(_signed_in(manager))
        officer_links = _nav_links(_signed_in(compliance_officer))
        admin_links = _nav_links(_signed_in(administrator))

        assert reverse("interactions:captured") in manager_links
        assert reverse("audit:trail") not in manager_links
        assert reverse("portfolio:index") not in manager_links
        assert reverse("admin:index") not in manager_links

        assert reverse("audit:trail") in officer_links and reverse("privacy:requests") in officer_links
        assert reverse("interactions:captured") not in officer_links  # a compliance officer never edits

        assert {reverse("portfolio:index"), reverse("admin:index"), reverse("interactions:captured")} <= admin_links


def test_a_role_taken_away_leaves_the_bar_on_the_next_page(compliance_officer):
    client = _signed_in(compliance_officer)
    assert reverse("audit:trail") in _nav_links(client)

    compliance_officer.groups.remove(Group.objects.get(name=roles.COMPLIANCE_OFFICER))

    assert reverse("audit:trail") not in _nav_links(client)


def test_the_bar_speaks_the_viewers_language(manager):
    client = _signed_in(manager)
    english = client.get(TASKS).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    italian = client.get(TASKS).content.decode()

    assert ">My day<" in english and ">Customers<" in english
    assert ">My day<" not in italian and ">Customers<" not in italian


def test_the_bar_shows_the_viewers_own_name(manager, other_manager):
    first, second = _signed_in(manager), _signed_in(other_manager)
    first_html, second_html = first.get(TASKS).content.decode(), second.get(TASKS).content.decode()

    assert manager.get_full_name() in first_html and manager.get_full_name() not in second_html
    assert other_manager.get_full_name() in second_html


def test_a_signed_out_page_has_the_brand_and_no_navigation(client):
    html = client.get(reverse("login")).content.decode()

    assert 'class="brand"' in html
    assert 'id="main-nav"' not in html and 'id="notification-bell"' not in html
