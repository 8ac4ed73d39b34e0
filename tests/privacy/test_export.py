"""Subject access (GDPR Art. 15, 20): every kind of record about the customer is in the export."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.customers.services import add_identity_document, record_consent
from apps.interactions.services import log_interaction
from apps.privacy.export import subject_data
from apps.recommendations.services import recommend_for_customer
from tests.accounts.factories import HoldingFactory
from tests.interactions.factories import upload
from tests.privacy.conftest import step_up
from tests.recommendations.factories import advisable_customer, product
from tests.tasks.factories import TaskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(manager):
    """One record of each kind the bank holds about a customer, each with a telling value."""
    customer = advisable_customer(manager, first_name="Mary", last_name="Somerville", email="mary@example.org")
    HoldingFactory(customer=customer, external_id="HLD-SEEDED")
    log_interaction(
        actor=manager, customer=customer, channel="phone", subject="Seeded call", body="Talked about ISAs",
        occurred_at=customer.created_at, attachments=[upload("seeded-statement.pdf")],
    )  # fmt: skip
    add_identity_document(
        actor=None, customer=customer, document_type="passport", number="P5566778", issuing_country="gb"
    )
    record_consent(actor=None, customer=customer, channel="sms", purpose="marketing", granted=True)
    product("SEEDED1", "deposit", "3.0000")
    recommend_for_customer(actor=manager, customer=customer)
    TaskFactory(customer=customer, title="Seeded task")
    return customer


def test_the_export_holds_every_kind_of_record_about_the_customer(seeded):
    data = subject_data(customer=seeded)

    assert data["profile"]["email"] == "mary@example.org"
    assert data["profile"]["first_name"] == "Mary"
    assert [h["external_id"] for h in data["holdings"]] == ["HLD-SEEDED"]
    assert [i["subject"] for i in data["interactions"]] == ["Seeded call"]
    assert [a["original_name"] for a in data["attachments"]] == ["seeded-statement.pdf"]
    assert data["documents"][0]["document_type"] == "passport"
    assert "P5566778" not in json.dumps(data["documents"])  # metadata: the masked number only
    assert {(c["channel"], c["purpose"]) for c in data["consents"]} >= {("sms", "marketing")}
    assert len(data["recommendations"]) == 1
    assert [t["title"] for t in data["tasks"]] == ["Seeded task"]
    actions = {e["action"] for e in data["audit_events"]}
    assert {"customer.created", "interaction.logged", "task.created"} <= actions
    assert "data_key_id" not in data["profile"]


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_a_compliance_officer_downloads_the_export_and_it_is_audited(client, compliance_officer, seeded, fmt):
    client.force_login(compliance_officer)
    step_up(client)

    response = client.get(reverse(f"privacy:export_{fmt}", args=[seeded.pk]))

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode()
    for value in ("mary@example.org", "HLD-SEEDED", "Seeded call", "seeded-statement.pdf", "Seeded task", "passport"):
        assert value in body
    event = AuditEvent.objects.get(action="customer.subject_exported", customer_id=seeded.pk)
    assert event.actor_id == compliance_officer.pk
    assert event.metadata["format"] == fmt
    assert "mary@example.org" not in json.dumps(event.metadata)


def test_a_manager_cannot_reach_the_export_of_their_own_customer(client, manager, seeded):
    client.force_login(manager)

    assert client.get(reverse("privacy:export_json", args=[seeded.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="customer.subject_exported").exists()


def test_the_export_needs_a_recent_second_factor(client, compliance_officer, seeded):
    client.force_login(compliance_officer)

    response = client.get(reverse("privacy:export_json", args=[seeded.pk]))

    assert response.status_code == 302 and response["Location"].startswith(reverse("step_up"))
    assert not AuditEvent.objects.filter(action="customer.subject_exported").exists()
