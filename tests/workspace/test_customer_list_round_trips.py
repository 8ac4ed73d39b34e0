"""What a list or search request asks the cache before its rows, and what its form copies
(decision 187): the remembered filters, the branch options and the exports' entries in one
round trip, no write of "no filters" over none, and only the field a form changes copied."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.template import engines
from django.templatetags.i18n import TranslateNode
from django.urls import reverse

from apps.core.templatetags.kept_i18n import KeptTranslateNode
from apps.workspace.forms import CustomerExportForm, CustomerSearchForm
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory
from tests.workspace.support import (
    pinned_today,  # noqa: F401  (fixture)
    plain_static_files,  # noqa: F401  (fixture)
    role_permissions,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("plain_static_files", "pinned_today", "role_permissions")
LIST = reverse("customers:list")
# The entries the list reads before its rows: its remembered filters, the branch options, the exports.
LIST_ENTRIES = ("customer-list-filters:", "book-facts:", "pii-exports:")


@pytest.fixture
def list_entry_calls(
    redis_url: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[tuple[str, list[str]]]]:
    """Each call of the default cache (the library's object, passed through) that names one of
    the list's entries: (method, the keys it names)."""
    settings.FINPULSE_USER_FACTS_SECONDS = 60  # the branch options are kept, as in production
    calls: list[tuple[str, list[str]]] = []

    def recording(name: str) -> Any:
        real = getattr(cache, name)

        def call(key_or_keys: Any, *args: Any, **kwargs: Any) -> Any:
            keys = [key_or_keys] if isinstance(key_or_keys, str) else list(key_or_keys)
            if any(key.startswith(LIST_ENTRIES) for key in keys):
                calls.append((name, keys))
            return real(key_or_keys, *args, **kwargs)

        return call

    for name in ("get", "get_many", "set", "set_many", "delete"):
        monkeypatch.setattr(cache, name, recording(name))
    yield calls


def test_a_list_request_reads_its_entries_in_one_round_trip(client, manager, list_entry_calls):
    CustomerFactory(assigned_to=manager, first_name="Nadia", last_name="Roundtrip")
    client.force_login(manager)
    client.get(LIST)  # the branch options and the exports' "none" are stored
    client.get(LIST, {"page": "2"})
    list_entry_calls.clear()

    response = client.get(LIST, {"page": "3"})

    assert response.status_code == 200
    assert "Nadia Roundtrip" in response.content.decode()
    (method, keys), *others = list_entry_calls
    assert method == "get_many"
    assert sorted(key.split(":")[0] for key in keys) == [
        "book-facts",
        "book-facts",
        "customer-list-filters",
        "pii-exports",
        "pii-exports",
    ]
    assert others == []  # no filters kept, none to keep: nothing written


def test_a_search_writes_its_filters_after_the_one_read(client, manager, list_entry_calls):
    CustomerFactory(assigned_to=manager, first_name="Nadia", last_name="Roundtrip")
    client.force_login(manager)
    client.get(LIST)
    list_entry_calls.clear()

    response = client.get(LIST, {"q": "Roundtrip"})

    assert "Nadia Roundtrip" in response.content.decode()
    assert [method for method, _ in list_entry_calls] == ["get_many", "set"]
    assert list_entry_calls[1][1][0].startswith("customer-list-filters:")


def test_a_list_without_filters_forgets_the_last_ones(client, manager, list_entry_calls):
    CustomerFactory(assigned_to=manager, segment="premium")
    client.force_login(manager)
    client.get(LIST, {"segment": "premium"})
    assert client.get(LIST).context["filters_restored"] is True

    client.get(LIST, {"page": "2"})  # parameters, none of them a filter

    assert client.get(LIST).context["filters_restored"] is False


def test_search_forms_share_only_the_fields_no_form_changes(manager, other_manager):
    york = BranchFactory(name="York", code="YRK")
    CustomerFactory(assigned_to=manager, branch=york)
    chosen = CustomerSearchForm({"branch": str(york.pk)}, user=manager)
    plain = CustomerSearchForm({}, user=other_manager)

    assert chosen.fields["q"] is plain.fields["q"] is CustomerSearchForm.base_fields["q"]
    assert chosen.fields["branch"] is not plain.fields["branch"]
    assert plain.fields["branch"] is not CustomerSearchForm.base_fields["branch"]
    # One form narrows its branches and sets its options; neither shows in another form.
    assert chosen.is_valid() and chosen.cleaned_data["branch"] == york
    chosen.branch_options()
    assert [value for value, _ in chosen.fields["branch"].widget.choices] == ["", york.pk]
    assert list(plain.fields["branch"].widget.choices) == list(CustomerSearchForm.base_fields["branch"].widget.choices)
    assert "pk__in" not in str(CustomerSearchForm.base_fields["branch"].queryset.query)
    assert not CustomerSearchForm({"branch": str(york.pk)}, user=other_manager).is_valid()


def test_export_forms_copy_every_field_as_django_does():
    first, second = CustomerExportForm({}), CustomerExportForm({})

    assert all(first.fields[name] is not second.fields[name] for name in first.fields)


@pytest.mark.parametrize("name", ["workspace/customer_list.html", "workspace/_customer_results.html"])
def test_the_list_templates_keep_each_fixed_message_per_language(name):
    """Their fixed `{% translate %}` are kept_i18n's nodes (what they print in both languages:
    benchmarks/list_pages_snapshot.py, byte for byte against Django's own tag)."""
    template = engines["django"].engine.get_template(name)
    translates = template.nodelist.get_nodes_by_type(TranslateNode)
    fixed = re.findall(r"{% translate [\"'][^\"']+[\"'] %}", template.source)

    assert len(fixed) >= 3 and len(translates) == len(fixed)
    assert all(isinstance(node, KeptTranslateNode) for node in translates)
