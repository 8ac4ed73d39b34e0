"""Cached list rows (apps/core/fragments.py): keyed by what they show, never stale, never another viewer's."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse
from django.utils.safestring import mark_safe

from apps.core import fragments
from tests.customers.factories import CustomerFactory
from tests.tasks.factories import TaskFactory

LIST = reverse("customers:list")


@pytest.fixture(autouse=True)
def _no_kept_fragments() -> None:
    """Each test starts with no kept fragment: an entry left by an earlier run of the suite on the
    same Redis database would be read back where a test expects a miss (each xdist worker has its
    own database, so this empties no one else's)."""
    caches[fragments.CACHE_ALIAS].clear()


def test_a_row_is_rendered_once_and_then_read_back_the_same(manager):
    row = {"pk": 7, "url": "/customers/7/", "display_name": "Ada <Lovelace>", "external_id": "CB7"}
    row |= {"segment": "Premium", "kyc_status": "Verified", "kyc_review_date": None, "email_hint": "a***@x.example"}
    row |= {"phone_hint": "", "branch_name": "Leeds", "manager_name": "Mo", "maturing": False, "next_maturity": None}

    first = fragments.render_rows("workspace/_customer_row.html", [row])
    second = fragments.render_rows("workspace/_customer_row.html", [row])

    assert first == second
    assert "Ada &lt;Lovelace&gt;" in first[0]  # escaped as the template escapes it


def test_a_renamed_customer_shows_the_new_name_at_once(client, manager):
    customer = CustomerFactory(assigned_to=manager, first_name="Olga", last_name="Old")
    client.force_login(manager)
    assert "Olga Old" in client.get(LIST).content.decode()

    customer.first_name, customer.last_name = "Nadia", "New"
    customer.display_name = customer.compose_display_name()
    customer.save(update_fields=["first_name", "last_name", "display_name"])
    html = client.get(LIST).content.decode()

    assert "Nadia New" in html
    assert "Olga Old" not in html


def test_a_renamed_branch_shows_in_the_rows_without_touching_the_customer(client, manager):
    CustomerFactory(assigned_to=manager, branch=manager.branch)
    client.force_login(manager)
    client.get(LIST)

    manager.branch.name = "Renamed Branch"
    manager.branch.save(update_fields=["name"])

    assert "Renamed Branch" in client.get(LIST).content.decode()


def _row_tokens(html: str) -> set[str]:
    return set(re.findall(r'<li id="task-.*?name="csrfmiddlewaretoken" value="([^"]+)"', html, flags=re.S))


def test_cached_task_rows_carry_the_viewers_own_csrf_token(manager, branch_manager):
    customer = CustomerFactory(assigned_to=manager, branch=manager.branch)
    TaskFactory(customer=customer, assignee=manager, title="Call back")
    panel = reverse("tasks:customer_tasks", args=[customer.pk])
    first_client, second_client = Client(), Client()
    first_client.force_login(manager)
    second_client.force_login(branch_manager)  # sees the same row, in another session

    first = first_client.get(panel)
    second = second_client.get(panel)  # the row comes from the cache now

    for response in (first, second):
        html = response.content.decode()
        secret = response.wsgi_request.META["CSRF_COOKIE"]
        tokens = _row_tokens(html)
        assert "csrf-token-of-the-viewer" not in html
        assert tokens
        assert {_unmask_cipher_token(token) for token in tokens} == {secret}
    assert first.wsgi_request.META["CSRF_COOKIE"] != second.wsgi_request.META["CSRF_COOKIE"]


def test_a_viewer_who_may_not_edit_gets_rows_without_actions(client, manager, compliance_officer):
    customer = CustomerFactory(assigned_to=manager, branch=manager.branch)
    task = TaskFactory(customer=customer, assignee=manager, title="Call back")
    panel = reverse("tasks:customer_tasks", args=[customer.pk])
    client.force_login(manager)
    assert reverse("tasks:complete", args=[task.pk]) in client.get(panel).content.decode()
    client.logout()
    client.force_login(compliance_officer)

    html = client.get(panel).content.decode()

    assert "Call back" in html
    assert reverse("tasks:complete", args=[task.pk]) not in html


@pytest.mark.parametrize("tag", ["{% url 'tasks:list' %}", "{% include 'base.html' %}", "{% load finpulse %}"])
def test_a_row_template_that_reads_outside_its_row_is_refused(tag, settings, tmp_path):
    (tmp_path / "row_with_tag.html").write_text(f"<li>{tag}</li>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    fragments._template_version.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured):
            fragments.render_rows("row_with_tag.html", [{"pk": 1}])
    finally:
        fragments._template_version.cache_clear()


# --- the customer list's filter bar, kept in the process's memory (decision 112) ------------------


def _filter_bar(html: str) -> str:
    return html[html.index('<form id="customer-search"') : html.index("</form>", html.index('id="customer-search"'))]


def _bar_from_the_form(manager, query: dict[str, str]) -> str:
    from django.template.loader import get_template

    from apps.workspace.forms import CustomerSearchForm

    form = CustomerSearchForm(query, user=manager)
    form.is_valid()
    return get_template("workspace/_customer_filters.html").render({"form": form})


@pytest.mark.parametrize(
    "query",
    [{}, {"q": 'Ada <b>&"x"'}, {"q": "Ad"}, {"segment": "premium", "kyc_due": "on", "sort": "name"}],
    ids=["empty", "typed text with markup", "too short: an error", "filters"],
)
def test_the_remembered_filter_bar_is_the_bar_the_form_renders(client, manager, query):
    CustomerFactory(assigned_to=manager, branch=manager.branch)
    fragments.forget_forms()
    other_session = Client()
    other_session.force_login(manager)
    other_session.get(LIST, {"q": "Someone else entirely"} if query.get("q") else {"segment": "mass"})
    client.force_login(manager)

    first = _filter_bar(client.get(LIST, query).content.decode())
    second = _filter_bar(client.get(LIST, query).content.decode())  # from memory

    assert first == second
    assert _bar_from_the_form(manager, query) in first
    assert "typed-text-of-the-viewer" not in first
    if query.get("q") == "Ad":
        assert "Type at least 3 characters" in first and 'value="Ad"' in first
    elif query.get("q"):
        assert 'value="Ada &lt;b&gt;&amp;&quot;x&quot;"' in first  # escaped as the widget escapes it


def test_each_viewer_gets_the_branch_options_of_their_own_book(client, manager, other_manager):
    from tests.identity.factories import BranchFactory

    leeds, york = BranchFactory(name="Leeds"), BranchFactory(name="York")
    CustomerFactory(assigned_to=manager, branch=leeds)
    CustomerFactory(assigned_to=other_manager, branch=york)
    fragments.forget_forms()

    client.force_login(manager)
    mine = _filter_bar(client.get(LIST).content.decode())
    client.force_login(other_manager)
    theirs = _filter_bar(client.get(LIST).content.decode())

    assert "Leeds" in mine and "York" not in mine
    assert "York" in theirs and "Leeds" not in theirs


def test_a_kept_part_may_not_include_another_template(tmp_path, settings):
    (tmp_path / "kept_with_include.html").write_text('{% include "components/field.html" %}')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    fragments._checked_source_digest.cache_clear()

    with pytest.raises(ImproperlyConfigured):
        fragments.render_kept("kept_with_include.html", {"signed_in": True})


# --- several panels of one page kept as one entry with their rows (decisions 146, 181) --------------


def _work_panel(rows, **facts):  # type: ignore[no-untyped-def]
    facts = {"section_id": "documents", "title": "Documents", "count": len(rows), "has_more": False} | facts
    facts |= {"more_url": "", "empty": "Nothing.", "see_all": "See all"}
    return ("components/work_section.html", facts, "workspace/_day_work_row.html", rows)


def test_panels_are_rendered_once_read_back_the_same_and_a_changed_row_or_fact_is_another_entry(manager):
    row = {"url": "/customers/7/", "customer_name": "Ada <Lovelace>", "title": "Passport", "amount": ""}
    row |= {"rule": "Expired", "rule_code": "document_expiry:60d", "date_label": "Expired"}
    row |= {"date_iso": "2026-12-01", "date_text": "1 Dec 2026", "is_overdue": True}
    slot_facts = {"slot_id": "s", "title": "T", "url": "/x/?a=1&b=2", "link_text": "L"}
    slot = ("components/htmx_slot.html", slot_facts, None, ())
    panels = {"slot": slot, "documents": _work_panel([row]), "empty": _work_panel([])}

    first = fragments.render_panels(panels)
    second = fragments.render_panels(panels)
    renamed = fragments.render_panels({**panels, "documents": _work_panel([{**row, "customer_name": "Ada B"}])})
    retitled = fragments.render_panels({**panels, "documents": _work_panel([row], title="Papers")})

    assert first == second and list(first) == ["slot", "documents", "empty"]
    assert "Ada &lt;Lovelace&gt;" in first["documents"] and "is-overdue" in first["documents"]
    assert '<span class="count">1</span>' in first["documents"] and "Nothing." in first["empty"]
    assert 'hx-get="/x/?a=1&amp;b=2"' in first["slot"]
    assert "Ada B" in renamed["documents"] and "Lovelace" not in renamed["documents"]
    assert "Papers" in retitled["documents"] and retitled["slot"] == first["slot"]


def test_a_panel_template_that_reads_outside_its_values_is_refused(manager, settings, tmp_path):
    (tmp_path / "panel_with_url.html").write_text("<a href=\"{% url 'customers:list' %}\">{{ title }}</a>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    fragments._template_version.cache_clear()

    with pytest.raises(ImproperlyConfigured):
        fragments.render_panels({"p": ("panel_with_url.html", {"title": "T"}, None, ())})


# --- a page's rows kept as one entry, digested from their pickled values (decision 182) -------------


def _customer_row(pk: int, name: str, **changes: object) -> dict[str, object]:
    row = {"pk": pk, "url": f"/customers/{pk}/", "display_name": name, "external_id": f"CB{pk}"}
    row |= {"segment": "Premium", "kyc_status": "Verified", "kyc_review_date": dt.date(2027, 1, 31)}
    row |= {"email_hint": "a***@x.example", "phone_hint": "", "branch_name": "Leeds", "manager_name": "Mo"}
    row |= {"maturing": False, "next_maturity": None, "words": {"select": "Select", "review": "review"}}
    return row | changes


def test_a_page_shown_again_is_one_read_of_one_entry_and_any_change_is_another(manager, monkeypatch):
    rows = [_customer_row(pk, f"Ada {pk}") for pk in range(1, 6)]
    first = fragments.render_rows("workspace/_customer_row.html", rows)
    cache = caches[fragments.CACHE_ALIAS]
    asked: list[str] = []
    monkeypatch.setattr(cache, "get_many", lambda keys: asked.append("get_many") or {})

    again = fragments.render_rows("workspace/_customer_row.html", [dict(row) for row in rows])
    assert again == first and asked == []  # the page's entry: no row was looked up

    for changed, shows_otherwise in (
        ({"display_name": "Ada <New>"}, True),
        ({"kyc_review_date": dt.date(2027, 2, 1)}, True),
        ({"words": {"select": "Seleziona", "review": "review"}}, True),
        # Another type is another page, even where it prints the same.
        ({"kyc_review_date": dt.datetime(2027, 1, 31, tzinfo=dt.UTC)}, False),
        ({"display_name": mark_safe("Ada 3")}, False),
    ):
        asked.clear()
        other = [*rows[:2], {**rows[2], **changed}, *rows[3:]]
        html = fragments.render_rows("workspace/_customer_row.html", other)
        assert asked == ["get_many"]  # a miss of the page's entry: the rows' entries are read
        assert html[:2] == first[:2] and html[3:] == first[3:] and (html[2] != first[2]) == shows_otherwise
    assert (
        "Ada &lt;New&gt;"
        in fragments.render_rows("workspace/_customer_row.html", [{**rows[0], "display_name": "Ada <New>"}])[0]
    )


def test_a_row_that_is_not_plain_values_takes_the_rows_entries_only(manager):
    from django.utils.translation import gettext_lazy

    setting = ("workspace/_customer_row.html:x", "en-gb", "UTC")
    plain = [_customer_row(1, "Ada"), _customer_row(2, "Bo")]
    assert fragments._page_key(setting, plain) is not None
    for value in (gettext_lazy("Premium"), object(), dt.datetime(2027, 1, 1, tzinfo=ZoneInfo("Europe/London"))):
        assert fragments._page_key(setting, [plain[0], {**plain[1], "segment": value}]) is None
    lazy = [plain[0], {**plain[1], "segment": gettext_lazy("Premium")}]
    assert (
        fragments.render_rows("workspace/_customer_row.html", lazy)[1]
        == fragments.render_rows("workspace/_customer_row.html", [plain[0], {**plain[1], "segment": "Premium"}])[1]
    )


def test_joined_rows_print_what_the_templates_loop_printed():
    from django.template import engines

    engine = engines["django"]
    loop = engine.from_string(
        "<ul>\n  {% for row in rows %}\n    {{ row }}\n  {% empty %}\n    none\n  {% endfor %}\n</ul>"
    )
    joined = engine.from_string("<ul>\n  {% if rows %}{{ rows }}{% else %}\n    none\n  {% endif %}\n</ul>")
    for rows in ([], [mark_safe("<li>a</li>")], [mark_safe("<li>a &amp; b</li>"), mark_safe("<li>c</li>")]):
        text = fragments.joined_rows(rows, before="\n    ", after="\n  ")
        assert joined.render({"rows": text}) == loop.render({"rows": rows})
