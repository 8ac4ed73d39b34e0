"""export_customers --to-storage: the export lands in the S3 bucket (a real moto server), audited."""

from __future__ import annotations

import csv
import io

import pytest

from apps.core.models import AuditEvent
from apps.identity.roles import sync_role_permissions
from tests.customers.factories import CustomerFactory
from tests.imports.support import run_command
from tests.s3_server import s3_client


@pytest.fixture(autouse=True)
def _role_permissions(db):  # type: ignore[no-untyped-def]
    sync_role_permissions()


def test_an_export_to_storage_lands_in_the_bucket_masked_and_audited(manager, other_manager, s3_storage, s3_server):
    mine = CustomerFactory(assigned_to=manager, email="plain.text@mail.example")
    CustomerFactory(assigned_to=other_manager)

    result = run_command("export_customers", actor=manager.username, to_storage=True)

    assert result.returncode == 0, result.stderr
    name = result.stdout.strip()
    assert name.startswith("exports/") and name.endswith(".csv")
    body = s3_client(s3_server).get_object(Bucket=s3_storage, Key=name)["Body"].read().decode("utf-8")
    [row] = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert row["external_id"] == mine.external_id
    assert "plain.text@mail.example" not in body
    assert AuditEvent.objects.get(action="customer.exported").metadata["rows"] == 1
