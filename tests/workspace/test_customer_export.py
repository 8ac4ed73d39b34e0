"""CSV export of the customer list: masked by default, audited, formula-safe, streamed."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from apps.core.csv_export import escape_cell
from apps.core.models import AuditEvent
from tests.customers.factories import CustomerFactory
from tests.workspace.support import (
    pinned_today,  # noqa: F401  (fixture)
    plain_static_files,  # noqa: F401  (fixture)
    role_permissions,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("plain_static_files", "pinned_today", "role_permissions")
EXPORT = reverse("customers:export")


def download(client, params=None):  # type: ignore[no-untyped-def]
    response = client.get(EXPORT, params or {})
    assert response.status_code == 200, response.content[:500]
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return response, list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("dangerous", ["=1+1", "+44 20", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(dangerous):
    assert escape_cell(dangerous) == "'" + dangerous


@pytest.mark.parametrize("harmless", ["Smith", "a=b", "", "12"])
def test_an_ordinary_cell_is_left_alone(harmless):
    assert escape_cell(harmless) == harmless


def test_the_export_is_masked_by_default(client, manager):
    customer = CustomerFactory(assigned_to=manager, email="plain.text@mail.example", national_id="QQ445566B")
    client.force_login(manager)

    response, rows = download(client)

    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    header, row = rows
    assert header[:2] == ["External id", "Name"]
    assert row[0] == customer.external_id
    assert "p***@mail.example" in row
    assert "plain.text@mail.example" not in row and "QQ445566B" not in row


def _stepped_up(client, user):  # type: ignore[no-untyped-def]
    import time

    from apps.identity.step_up import SECOND_FACTOR_SESSION_KEY

    client.force_login(user)
    session = client.session
    session[SECOND_FACTOR_SESSION_KEY] = {"at": time.time(), "method": "totp"}
    session.save()


def test_a_pii_export_without_a_recent_second_factor_goes_to_the_step_up_page(client, manager):
    CustomerFactory(assigned_to=manager, email="plain.text@mail.example")
    client.force_login(manager)

    response = client.get(EXPORT, {"include_pii": "1", "reason": "Annual review pack"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("step_up"))
    assert "include_pii" in response["Location"]  # it returns to this very export
    assert not AuditEvent.objects.filter(action="customer.exported").exists()


def test_exporting_with_pii_decrypts_and_records_it_in_the_audit_trail(client, manager):
    CustomerFactory(assigned_to=manager, email="plain.text@mail.example", address="9 Mint Street")
    CustomerFactory(assigned_to=manager)
    _stepped_up(client, manager)

    _, rows = download(client, {"include_pii": "1", "reason": "Annual review pack"})

    cells = [cell for row in rows for cell in row]
    assert "plain.text@mail.example" in cells
    assert "9 Mint Street" in cells
    event = AuditEvent.objects.get(action="customer.exported")
    assert event.actor == manager
    assert event.metadata["rows"] == 2
    assert event.metadata["include_pii"] is True
    assert "email" in event.metadata["pii_fields"]
    assert event.metadata["reason"] == "Annual review pack"


@pytest.mark.parametrize("reason", ["", "  "])
def test_a_pii_export_without_a_reason_is_refused_and_nothing_leaves(client, manager, reason):
    CustomerFactory(assigned_to=manager, email="plain.text@mail.example")
    client.force_login(manager)

    response = client.get(EXPORT, {"include_pii": "1", "reason": reason})

    assert response.status_code == 400
    assert "Give a reason for revealing personal data" in response.content.decode()
    assert "plain.text@mail.example" not in response.content.decode()
    assert not AuditEvent.objects.filter(action="customer.exported").exists()


def test_a_masked_export_is_audited_too(client, manager):
    CustomerFactory(assigned_to=manager, segment="affluent")
    CustomerFactory(assigned_to=manager)
    client.force_login(manager)

    download(client, {"segment": "affluent"})

    event = AuditEvent.objects.get(action="customer.exported")
    assert event.metadata["rows"] == 1
    assert event.metadata["include_pii"] is False
    assert event.metadata["filters"]["segment"] == "affluent"


def test_a_search_for_personal_data_is_not_copied_into_the_audit_trail(client, manager):
    CustomerFactory(assigned_to=manager, email="who@mail.example")
    client.force_login(manager)

    _, rows = download(client, {"q": "who@mail.example"})

    assert len(rows) == 2
    event = AuditEvent.objects.get(action="customer.exported")
    assert "who@mail.example" not in str(event.metadata)
    assert event.metadata["filters"]["q"] == "[redacted]"


def test_pii_export_is_refused_without_the_reveal_permission(client, branch):
    from django.contrib.auth.models import Permission

    from apps.customers.models import CustomerUserObjectPermission
    from tests.identity.factories import UserFactory

    viewer = UserFactory(branch=branch)
    customer = CustomerFactory(branch=branch)
    CustomerUserObjectPermission.objects.create(
        user=viewer,
        content_object=customer,
        permission=Permission.objects.get(codename="view_customer", content_type__app_label="customers"),
    )
    client.force_login(viewer)

    assert client.get(EXPORT, {"include_pii": "1"}).status_code == 403
    assert not AuditEvent.objects.filter(action="customer.exported").exists()
    _, rows = download(client)  # the masked export is still allowed
    assert len(rows) == 2


def test_the_export_holds_only_visible_customers_matching_the_filters(client, manager, other_manager):
    mine = CustomerFactory(assigned_to=manager, segment="premium")
    CustomerFactory(assigned_to=manager, segment="mass")
    CustomerFactory(assigned_to=other_manager, segment="premium")
    client.force_login(manager)

    _, rows = download(client, {"segment": "premium"})

    assert [row[0] for row in rows[1:]] == [mine.external_id]


def test_a_name_that_looks_like_a_formula_is_neutralised(client, manager):
    CustomerFactory(assigned_to=manager, first_name='=HYPERLINK("http://evil.example")', last_name="X")
    client.force_login(manager)

    _, rows = download(client)

    assert rows[1][1].startswith("'=HYPERLINK")


def test_a_too_short_name_search_exports_nothing_and_says_why(client, manager):
    CustomerFactory(assigned_to=manager)
    client.force_login(manager)

    response = client.get(EXPORT, {"q": "ab"})

    assert response.status_code == 400
    assert "Type at least 3 characters" in response.content.decode()
    assert not AuditEvent.objects.filter(action="customer.exported").exists()


@pytest.mark.parametrize("customers", [3, 30])
def test_the_export_runs_a_fixed_number_of_queries(client, manager, customers, django_assert_max_num_queries):
    for _ in range(customers):
        CustomerFactory(assigned_to=manager)
    _stepped_up(client, manager)

    with django_assert_max_num_queries(16):
        _, rows = download(client, {"include_pii": "1", "reason": "Audit"})

    assert len(rows) == customers + 1
