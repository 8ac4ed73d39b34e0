"""Free text has one limit, held by the form, the API, the service and the database (issue #16, 7)."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from apps.core.errors import DomainError
from apps.core.text_limits import DESCRIPTION_MAX_LENGTH, NOTE_MAX_LENGTH
from apps.interactions.models import Interaction
from apps.interactions.services import log_interaction
from apps.products.models import Product
from apps.tasks.models import Task
from tests.api.conftest import issue_key, key_client, problem
from tests.customers.factories import CustomerFactory
from tests.interactions.factories import InteractionFactory
from tests.interactions.test_views import _form
from tests.products.factories import ProductFactory
from tests.tasks.factories import TaskFactory

HUGE = "x" * 2_000_000
pytestmark = pytest.mark.django_db


def test_the_interaction_form_refuses_a_two_million_character_note(client, manager):
    customer = CustomerFactory(assigned_to=manager, branch=manager.branch)
    client.force_login(manager)

    response = client.post(reverse("interactions:create", args=[customer.pk]), _form(body=HUGE))

    assert response.status_code == 200  # the form again, with the error
    assert f"at most {NOTE_MAX_LENGTH:,}".replace(",", "") in response.content.decode().replace(",", "")
    assert not Interaction.objects.exists()


def test_the_service_refuses_a_note_over_the_limit(manager):
    customer = CustomerFactory(assigned_to=manager, branch=manager.branch)

    with pytest.raises((DomainError, ValidationError)):
        log_interaction(
            actor=manager, customer=customer, channel="phone", subject="Call", body="x" * (NOTE_MAX_LENGTH + 1)
        )

    assert not Interaction.objects.exists()


def test_the_api_refuses_a_note_over_the_limit(manager):
    customer = CustomerFactory(assigned_to=manager, branch=manager.branch)
    _, secret = issue_key(manager)
    api = key_client(secret)
    body = {"customer": customer.pk, "channel": "phone", "subject": "Call"}

    too_long = api.post(
        "/api/v1/interactions/",
        {**body, "body": "x" * (NOTE_MAX_LENGTH + 1)},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    huge = api.post(
        "/api/v1/interactions/", {**body, "body": HUGE}, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )

    assert too_long.status_code == 400 and "body" in problem(too_long)["errors"]
    assert huge.status_code == 413 and problem(huge)["type"].endswith("/body-too-large")
    assert not Interaction.objects.exists()


@pytest.mark.parametrize(
    ("build", "model", "field", "limit"),
    [
        (lambda m: InteractionFactory(customer=CustomerFactory(assigned_to=m)), Interaction, "body", NOTE_MAX_LENGTH),
        (lambda m: TaskFactory(customer=CustomerFactory(assigned_to=m)), Task, "description", DESCRIPTION_MAX_LENGTH),
        (lambda m: TaskFactory(customer=CustomerFactory(assigned_to=m)), Task, "outcome", DESCRIPTION_MAX_LENGTH),
        (lambda m: ProductFactory(), Product, "description", DESCRIPTION_MAX_LENGTH),
    ],
)
def test_the_database_refuses_free_text_over_its_limit(manager, build, model, field, limit):
    row = build(manager)

    model.objects.filter(pk=row.pk).update(**{field: "x" * limit})
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=row.pk).update(**{field: "x" * (limit + 1)})


def test_every_free_text_field_has_a_limit():
    """A new TextField without max_length fails here (system-written logs are listed)."""
    from django.apps import apps
    from django.db import models

    system_written = {
        ("imports", "importrun", "message"),
        ("imports", "importrowerror", "message"),
        ("recommendations", "recommendation", "response"),
    }
    unbounded = [
        (m._meta.app_label, m._meta.model_name, f.name)
        for m in apps.get_models()
        if m.__module__.startswith("apps.")
        for f in m._meta.concrete_fields
        if isinstance(f, models.TextField) and f.max_length is None and not f.validators
    ]
    assert [u for u in unbounded if u not in system_written] == []
