"""Idempotency-Key on creating POSTs (IETF httpapi draft): 400, replay, 422, 409."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from apps.api.idempotency import claim, purge_expired_records
from apps.api.models import IdempotencyRecord
from apps.tasks.models import Task
from tests.api.conftest import issue_key, key_client, problem
from tests.customers.factories import CustomerFactory


def _task_body(customer_id: int, title: str = "Call back") -> dict[str, object]:
    return {"customer": customer_id, "title": title, "due_at": "2030-01-01T09:00:00Z"}


def test_a_creating_post_without_a_key_is_a_400_and_writes_nothing(manager, manager_api):
    customer = CustomerFactory(assigned_to=manager)

    response = manager_api.post("/api/v1/tasks/", _task_body(customer.pk), format="json")

    assert response.status_code == 400
    assert problem(response)["type"].endswith("/idempotency-key-missing")
    assert not Task.objects.exists()


def test_a_retry_returns_the_first_response_without_a_second_write(manager, manager_api):
    customer = CustomerFactory(assigned_to=manager)
    key = str(uuid.uuid4())

    first = manager_api.post("/api/v1/tasks/", _task_body(customer.pk), format="json", HTTP_IDEMPOTENCY_KEY=key)
    retry = manager_api.post("/api/v1/tasks/", _task_body(customer.pk), format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Location"] == first["Location"]
    assert retry["ETag"] == first["ETag"]
    assert retry["Idempotent-Replayed"] == "true"
    assert Task.objects.count() == 1


def test_the_same_key_with_another_body_is_a_422(manager, manager_api):
    customer = CustomerFactory(assigned_to=manager)
    key = str(uuid.uuid4())
    manager_api.post("/api/v1/tasks/", _task_body(customer.pk), format="json", HTTP_IDEMPOTENCY_KEY=key)

    response = manager_api.post(
        "/api/v1/tasks/", _task_body(customer.pk, "Other"), format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert response.status_code == 422
    assert problem(response)["type"].endswith("/idempotency-key-reused")
    assert Task.objects.count() == 1


def test_a_retry_while_the_first_is_running_is_a_409(manager):
    customer = CustomerFactory(assigned_to=manager)
    api_key, secret = issue_key(manager)
    client = key_client(secret)
    key = str(uuid.uuid4())
    body = _task_body(customer.pk)
    # The first request has claimed the key and not finished: what a concurrent retry sees.
    from rest_framework.test import APIRequestFactory

    request = APIRequestFactory().post("/api/v1/tasks/", body, format="json")
    from rest_framework.parsers import JSONParser
    from rest_framework.request import Request

    from apps.api.idempotency import fingerprint

    drf_request = Request(request, parsers=[JSONParser()])
    claim(client=f"key:{api_key.pk}", key=key, request_fingerprint=fingerprint(drf_request))

    response = client.post("/api/v1/tasks/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 409
    assert problem(response)["type"].endswith("/idempotency-key-in-flight")
    assert not Task.objects.exists()


def test_a_rejected_request_is_stored_and_replayed_too(manager, manager_api):
    key = str(uuid.uuid4())
    bad = {"customer": 999999, "title": "x", "due_at": "2030-01-01T09:00:00Z"}

    first = manager_api.post("/api/v1/tasks/", bad, format="json", HTTP_IDEMPOTENCY_KEY=key)
    retry = manager_api.post("/api/v1/tasks/", bad, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == retry.status_code == 400
    assert retry.json()["errors"] == first.json()["errors"]
    assert retry["Content-Type"].startswith("application/problem+json")


def test_keys_belong_to_one_client(manager, api_client_for):
    customer = CustomerFactory(assigned_to=manager)
    key = str(uuid.uuid4())

    one = api_client_for(manager).post(
        "/api/v1/tasks/", _task_body(customer.pk), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    two = api_client_for(manager).post(
        "/api/v1/tasks/", _task_body(customer.pk), format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert one.status_code == two.status_code == 201
    assert Task.objects.count() == 2


def test_keys_expire_after_24_hours(manager, manager_api):
    customer = CustomerFactory(assigned_to=manager)
    key = str(uuid.uuid4())
    manager_api.post("/api/v1/tasks/", _task_body(customer.pk), format="json", HTTP_IDEMPOTENCY_KEY=key)
    IdempotencyRecord.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    again = manager_api.post("/api/v1/tasks/", _task_body(customer.pk), format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert Task.objects.count() == 2
    IdempotencyRecord.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert purge_expired_records() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_posts_with_one_key_create_exactly_one_record(manager):
    customer = CustomerFactory(assigned_to=manager)
    _, secret = issue_key(manager)
    key = str(uuid.uuid4())
    body = _task_body(customer.pk)
    start = threading.Barrier(10)
    responses: list[tuple[int, object]] = []
    lock = threading.Lock()

    def post() -> None:
        try:
            client = key_client(secret)
            start.wait()
            response = client.post("/api/v1/tasks/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
            with lock:
                responses.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Task.objects.count() == 1
    created = [body for status, body in responses if status == 201]
    assert created, responses
    assert all(body == created[0] for body in created)
    assert {status for status, _ in responses} <= {201, 409}
    assert len(responses) == 10


def test_beat_purges_expired_idempotency_keys_daily(db):
    from django.utils import timezone
    from django_celery_beat.models import PeriodicTask

    from apps.api.models import IdempotencyRecord
    from apps.api.tasks import purge_idempotency_keys

    schedule = PeriodicTask.objects.get(task="api.purge_idempotency_keys")
    assert schedule.enabled and schedule.interval.every == 1 and schedule.interval.period == "days"
    now = timezone.now()
    for key, expires_at in [("old", now - dt.timedelta(minutes=1)), ("live", now + dt.timedelta(hours=23))]:
        IdempotencyRecord.objects.create(client="user:1", key=key, fingerprint="0" * 64, expires_at=expires_at)

    assert purge_idempotency_keys() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["live"]
