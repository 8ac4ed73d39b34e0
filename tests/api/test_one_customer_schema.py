"""The API and the importer validate a customer with one schema (issue #16, item 6)."""

from __future__ import annotations

import uuid

import pytest

from tests.api.conftest import problem
from tests.imports.support import CUSTOMER_HEADER, customer_row, run_command, write_csv


@pytest.mark.parametrize("external_id", ["CB 001", "x=1", "é001", "A\tB", "=cmd"])
def test_the_api_refuses_every_external_id_the_importer_refuses(tmp_path, branch, manager_api, external_id):
    path = write_csv(
        tmp_path / "customers.csv",
        [customer_row(1, branch_code=branch.code, external_id=external_id)],
        header=CUSTOMER_HEADER,
    )
    imported = run_command("import_customers", path)

    response = manager_api.post(
        "/api/v1/customers/",
        {"external_id": external_id, "kind": "individual", "first_name": "Ada", "last_name": "L"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )

    assert imported.returncode == 1
    assert response.status_code == 400
    assert "external_id" in problem(response)["errors"]


def test_the_api_refuses_an_unknown_country_like_the_importer(manager_api):
    response = manager_api.post(
        "/api/v1/customers/",
        {"external_id": "CB-1", "kind": "individual", "first_name": "Ada", "last_name": "L", "country": "ZZ"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )

    assert response.status_code == 400
    assert "country" in problem(response)["errors"]
