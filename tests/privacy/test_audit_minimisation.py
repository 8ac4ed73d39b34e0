"""Audit events hold references and masked values, never a person's data (so erasure can work)."""

from __future__ import annotations

import json

import pytest

from apps.core.models import AuditEvent
from apps.customers.services import create_customer, update_customer
from apps.tasks.services import update_task_details
from tests.tasks.factories import TaskFactory

pytestmark = pytest.mark.django_db


def stored(event: AuditEvent) -> str:
    return json.dumps([event.changes, event.metadata])


def test_creating_and_renaming_a_customer_keeps_the_names_out_of_the_chain(manager):
    customer = create_customer(
        actor=manager, external_id="CB09990001", branch=manager.branch, manager=manager,
        first_name="Hedy", last_name="Lamarr", annual_income="91000.00", email="hedy@example.org",
    )  # fmt: skip
    update_customer(actor=manager, customer=customer, last_name="Markey")

    created = AuditEvent.objects.get(action="customer.created", object_id=str(customer.pk))
    updated = AuditEvent.objects.get(action="customer.updated", object_id=str(customer.pk))
    for value in ("Hedy", "Lamarr", "Markey", "91000", "hedy@example.org"):
        assert value not in stored(created) + stored(updated)
    assert created.changes["last_name"] == ["", "[redacted]"]
    assert updated.changes["last_name"] == ["[redacted]", "[redacted]"]
    assert created.changes["external_id"] == [None, "CB09990001"]  # a reference, kept


def test_editing_a_tasks_words_records_that_they_changed_not_what_they_say(manager):
    task = TaskFactory(customer__assigned_to=manager, assignee=manager)

    update_task_details(actor=manager, task=task, title="Call Hedy about her divorce", priority=1)

    event = AuditEvent.objects.get(action="task.updated", object_id=str(task.pk))
    assert "Hedy" not in stored(event)
    assert event.changes["title"] == ["[text]", "[text changed]"]
