"""Hostile bodies and cursors: every refusal is problem JSON, never a 500 (issue #16, 4 and 8)."""

from __future__ import annotations

import base64
import uuid

import pytest
import yaml
from django.conf import settings

from tests.api.conftest import problem
from tests.customers.factories import CustomerFactory

SCHEMA_PATH = settings.BASE_DIR / "docs" / "openapi.yaml"


def _writes() -> list[tuple[str, str]]:
    document = yaml.safe_load(SCHEMA_PATH.read_text())
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("post", "patch", "put")
    ]


@pytest.mark.parametrize(("method", "path"), _writes())
def test_a_deeply_nested_body_is_a_400_problem_on_every_write(manager_api, manager, method, path):
    customer = CustomerFactory(assigned_to=manager)
    body = "[" * 50_000 + "]" * 50_000

    response = manager_api.generic(
        method,
        path.replace("{id}", str(customer.pk)),
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        HTTP_IF_MATCH="*",
    )

    # A detail route of another resource may 404 before it reads the body; never a 500.
    assert response.status_code in (400, 404), (method, path, response.status_code)
    if "{id}" not in path:
        assert response.status_code == 400
        assert problem(response)["type"].endswith("/parse-error")
    else:
        problem(response)


def test_nesting_at_the_limit_is_parsed_and_one_deeper_refused(manager_api, settings):
    settings.API_MAX_JSON_DEPTH = 5
    ok = {"title": "x", "nested": [[[["[not a bracket]"]]]]}  # depth 5, brackets in a string
    deep = {"title": "x", "nested": [[[[["x"]]]]]}

    allowed = manager_api.post("/api/v1/tasks/", ok, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    refused = manager_api.post("/api/v1/tasks/", deep, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))

    assert allowed.status_code == 400 and "errors" in problem(allowed)  # field errors: it was parsed
    assert refused.status_code == 400
    assert "nested more than 5" in problem(refused)["detail"]


def test_a_body_over_the_size_cap_is_a_413_problem(manager_api, settings):
    settings.API_MAX_BODY_BYTES = 1000

    response = manager_api.post(
        "/api/v1/tasks/", {"title": "x" * 2000}, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )

    assert response.status_code == 413
    assert problem(response)["type"].endswith("/body-too-large")


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "", _cursor("foo"), "!!!!", _cursor("p=abc"), _cursor("o=-1"), _cursor("r=2"), _cursor("p=1&p=2")],
)
def test_an_undecodable_cursor_is_a_400_problem_not_the_first_page(manager_api, manager, cursor):
    CustomerFactory(assigned_to=manager)

    response = manager_api.get("/api/v1/customers/", {"cursor": cursor})

    assert response.status_code == 400
    assert problem(response)["type"].endswith("/invalid-cursor")


def test_the_next_cursor_still_leads_to_the_next_page(manager_api, manager):
    customers = [CustomerFactory(assigned_to=manager) for _ in range(3)]

    first = manager_api.get("/api/v1/customers/", {"page_size": 2}).json()
    second = manager_api.get(first["next"]).json()

    assert [row["id"] for row in first["results"] + second["results"]] == [c.pk for c in customers]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/holdings/", {"maturing_from": "2026-02-30"}),
        ("/api/v1/holdings/", {"maturing_from": "not-a-date"}),
        ("/api/v1/holdings/", {"status": ""}),
        ("/api/v1/tasks/", {"source": ""}),
        ("/api/v1/interactions/", {"channel": ""}),
        ("/api/v1/products/", {"is_active": "maybe"}),
    ],
)
def test_a_list_filter_the_schema_refuses_is_a_400_not_an_unfiltered_list(manager_api, path, query):
    response = manager_api.get(path, query)

    assert response.status_code == 400, (path, query, response.status_code)
    assert set(query) <= set(problem(response)["errors"])


def test_a_holding_without_a_maturity_instruction_answers_null(manager_api, manager):
    from apps.accounts.models import Holding
    from tests.accounts.factories import HoldingFactory

    customer = CustomerFactory(assigned_to=manager)
    HoldingFactory(customer=customer, category=Holding.Category.CURRENT_ACCOUNT)

    (row,) = manager_api.get("/api/v1/holdings/").json()["results"]

    assert row["maturity_instruction"] is None


def test_an_id_holding_a_newline_is_a_problem_404(manager_api):
    response = manager_api.get("/api/v1/leads/%0A/")

    assert response.status_code == 404
    problem(response)


def test_a_nul_character_anywhere_in_a_body_is_a_400_not_a_database_error(manager_api):
    response = manager_api.post(
        "/api/v1/customers/",
        {"external_id": "CB-NUL", "kind": "business", "company_name": "Engines", "branch": "BR\u0000X"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )

    assert response.status_code == 400
    assert problem(response)["type"].endswith("/nul-character")
