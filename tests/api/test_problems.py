"""Every API error is RFC 9457 problem JSON from one handler."""

from __future__ import annotations

import uuid

from tests.api.conftest import problem


def test_field_errors_are_listed_per_field(manager_api):
    response = manager_api.post("/api/v1/tasks/", {"title": ""}, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))

    body = problem(response)
    assert response.status_code == 400
    assert body["type"] == "https://finpulse.bank.example/problems/validation-error"
    assert set(body["errors"]) >= {"customer", "title", "due_at"}
    assert body["request_id"] == response["X-Request-ID"]


def test_a_body_that_is_not_json_is_refused(manager_api):
    response = manager_api.post(
        "/api/v1/tasks/",
        "title=x",
        content_type="application/x-www-form-urlencoded",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )

    assert response.status_code == 415
    problem(response)


def test_malformed_json_is_a_400(manager_api):
    response = manager_api.post(
        "/api/v1/tasks/", "{not json", content_type="application/json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )

    assert response.status_code == 400
    assert problem(response)["type"].endswith("/parse-error")


def test_an_unknown_address_under_the_api_is_a_problem_404(manager_api):
    response = manager_api.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert problem(response)["type"].endswith("/not-found")


def test_a_cursor_to_nowhere_and_a_bad_page_size_are_400s(manager_api):
    assert problem(manager_api.get("/api/v1/customers/", {"cursor": "garbage"}))["status"] == 400
    response = manager_api.get("/api/v1/customers/", {"page_size": 1000})
    assert response.status_code == 400
    assert "page_size" in problem(response)["errors"]


def test_clients_are_throttled_through_the_cache(manager, api_client_for, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"client": "2/min"}}
    client = api_client_for(manager)

    statuses = [client.get("/api/v1/products/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    response = client.get("/api/v1/products/")
    assert problem(response)["type"].endswith("/throttled")
    assert int(response["Retry-After"]) > 0
