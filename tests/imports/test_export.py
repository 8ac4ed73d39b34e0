"""export_customers: the user's own customers, masked unless asked (and allowed), audited, formula-safe."""

from __future__ import annotations

import csv
import io
import json

import pytest

from apps.core.models import AuditEvent
from apps.identity.roles import sync_role_permissions
from tests.customers.factories import CustomerFactory
from tests.identity.factories import UserFactory
from tests.imports.support import run_command


@pytest.fixture(autouse=True)
def _role_permissions(db):  # type: ignore[no-untyped-def]
    # A fresh test database syncs role permissions before every app has its permissions.
    sync_role_permissions()


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_export_is_masked_by_default_and_only_holds_the_users_customers(manager, other_manager):
    mine = CustomerFactory(assigned_to=manager, email="plain.text@mail.example", national_id="QQ445566B")
    CustomerFactory(assigned_to=other_manager)

    result = run_command("export_customers", actor=manager.username)

    assert result.returncode == 0
    [row] = rows_of(result.stdout)
    assert row["external_id"] == mine.external_id
    assert row["manager_username"] == manager.username
    assert row["email_hint"] == "p***@mail.example"
    assert "email" not in row and "national_id" not in row and "date_of_birth" not in row
    assert "plain.text@mail.example" not in result.stdout and "QQ445566B" not in result.stdout
    event = AuditEvent.objects.get(action="customer.exported")
    assert event.metadata["include_pii"] is False and event.metadata["rows"] == 1


def test_exporting_pii_is_audited_and_needs_the_permission(manager, tmp_path):
    CustomerFactory(assigned_to=manager, email="plain.text@mail.example", address="9 Mint Street")
    output = tmp_path / "export.jsonl"

    no_reason = run_command("export_customers", actor=manager.username, include_pii=True, output=output)
    assert no_reason.returncode == 2 and "Give a reason" in no_reason.stderr
    assert not output.exists() and not AuditEvent.objects.filter(action="customer.exported").exists()

    result = run_command(
        "export_customers", actor=manager.username, include_pii=True, reason="Regulator request", output=output
    )

    assert result.returncode == 0
    [record] = [json.loads(line) for line in output.read_text().splitlines()]
    assert (record["email"], record["address"]) == ("plain.text@mail.example", "9 Mint Street")
    event = AuditEvent.objects.get(action="customer.exported")
    assert event.actor_id == manager.pk
    assert event.metadata["include_pii"] is True and "email" in event.metadata["pii_fields"]
    assert event.metadata["format"] == "jsonl"
    assert event.metadata["reason"] == "Regulator request"

    clerk = UserFactory(username="clerk")  # no role: may not reveal personal data
    refused = run_command(
        "export_customers", actor=clerk.username, include_pii=True, reason="x", output=tmp_path / "no.csv"
    )

    assert refused.returncode == 1 and "may not export personal data" in refused.stderr
    assert not (tmp_path / "no.csv").exists()
    assert AuditEvent.objects.filter(action="customer.exported").count() == 1


def test_cells_a_spreadsheet_would_run_are_escaped(manager):
    CustomerFactory(assigned_to=manager, first_name='=HYPERLINK("http://evil.example","x")', last_name="+cmd|calc")

    result = run_command("export_customers", actor=manager.username)

    [row] = rows_of(result.stdout)
    assert row["first_name"].startswith("'=HYPERLINK")
    assert row["last_name"] == "'+cmd|calc"


def test_filters_narrow_the_export_and_a_bad_filter_is_bad_usage(manager):
    CustomerFactory(assigned_to=manager, segment="premium")
    CustomerFactory(assigned_to=manager, segment="mass")

    result = run_command("export_customers", actor=manager.username, segment="premium")

    assert [r["segment"] for r in rows_of(result.stdout)] == ["premium"]
    assert run_command("export_customers", actor=manager.username, segment="gold").returncode == 2
    assert run_command("export_customers", actor="nobody").returncode == 2


def test_an_export_loads_back_as_unchanged(manager, tmp_path):
    CustomerFactory(assigned_to=manager, first_name="Grace", last_name="Hopper")
    CustomerFactory(assigned_to=manager, kind="business", first_name="", last_name="", company_name="Cobol Ltd")
    path = tmp_path / "round.csv"
    run_command("export_customers", actor=manager.username, include_pii=True, reason="Round trip", output=path)

    result = run_command("import_customers", path)

    assert result.returncode == 0, result.stderr
    assert "unchanged 2" in result.stdout and "Nothing changed" in result.stdout
