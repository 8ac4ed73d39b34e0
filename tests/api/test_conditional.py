"""ETag on reads, If-Match on changes: 428 without it, 412 when stale, nothing changed."""

from __future__ import annotations

from apps.customers.models import Customer
from apps.tasks.models import Task
from tests.api.conftest import problem
from tests.customers.factories import CustomerFactory
from tests.tasks.factories import TaskFactory


def test_a_read_carries_an_etag_that_changes_with_the_object(manager, manager_api):
    task = TaskFactory(customer=CustomerFactory(assigned_to=manager))
    url = f"/api/v1/tasks/{task.pk}/"
    before = manager_api.get(url)["ETag"]

    changed = manager_api.patch(url, {"title": "New title"}, format="json", HTTP_IF_MATCH=before)

    assert changed.status_code == 200, changed.json()
    assert changed["ETag"] != before
    assert manager_api.get(url)["ETag"] == changed["ETag"]


def test_a_change_without_if_match_is_a_428(manager, manager_api):
    task = TaskFactory(customer=CustomerFactory(assigned_to=manager))

    response = manager_api.patch(f"/api/v1/tasks/{task.pk}/", {"title": "New"}, format="json")

    assert response.status_code == 428
    assert problem(response)["type"].endswith("/precondition-required")
    assert Task.objects.get(pk=task.pk).title == task.title


def test_a_stale_if_match_is_a_412_and_changes_nothing(manager, manager_api):
    task = TaskFactory(customer=CustomerFactory(assigned_to=manager))
    url = f"/api/v1/tasks/{task.pk}/"
    stale = manager_api.get(url)["ETag"]
    assert manager_api.patch(url, {"priority": 4}, format="json", HTTP_IF_MATCH=stale).status_code == 200

    response = manager_api.patch(url, {"title": "Lost update"}, format="json", HTTP_IF_MATCH=stale)

    assert response.status_code == 412
    assert problem(response)["type"].endswith("/precondition-failed")
    task.refresh_from_db()
    assert task.title != "Lost update"
    assert task.priority == 4


def test_a_stale_customer_change_is_refused_too(manager, manager_api):
    customer = CustomerFactory(assigned_to=manager, segment="mass")
    url = f"/api/v1/customers/{customer.pk}/"

    response = manager_api.patch(url, {"segment": "premium"}, format="json", HTTP_IF_MATCH='"stale"')

    assert response.status_code == 412
    assert Customer.objects.get(pk=customer.pk).segment == "mass"


def test_a_reschedule_keeps_the_reminder_rule(manager, manager_api):
    task = TaskFactory(customer=CustomerFactory(assigned_to=manager))
    url = f"/api/v1/tasks/{task.pk}/"
    etag = manager_api.get(url)["ETag"]

    response = manager_api.patch(
        url,
        {"due_at": "2030-01-01T09:00:00Z", "reminder_at": "2030-01-02T09:00:00Z"},
        format="json",
        HTTP_IF_MATCH=etag,
    )

    assert response.status_code == 400
    assert "reminder_at" in problem(response)["errors"]
