import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from apps.core.errors import Conflict, DomainError, PermissionDenied
from apps.core.models import AuditEvent
from apps.interactions.files import path_of
from apps.interactions.models import Attachment, Interaction
from apps.interactions.services import add_correction, edit_interaction, log_interaction
from tests.customers.factories import CustomerFactory
from tests.interactions.factories import ELF_BYTES, HTML_BYTES, PDF_BYTES, InteractionFactory, upload


def _files_under(root):
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _age(interaction, minutes):
    Interaction.objects.filter(pk=interaction.pk).update(created_at=timezone.now() - dt.timedelta(minutes=minutes))
    interaction.refresh_from_db()


def test_logging_an_interaction_with_a_valid_attachment_stores_the_file_with_its_checksum(manager, media_root):
    customer = CustomerFactory(assigned_to=manager)

    interaction = log_interaction(
        actor=manager,
        customer=customer,
        channel="meeting",
        subject="Annual review",
        body="Talked about savings.",
        attachments=[upload("statement.pdf", PDF_BYTES)],
    )

    attachment = Attachment.objects.get(interaction=interaction)
    assert attachment.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert attachment.content_type == "application/pdf"
    assert attachment.original_name == "statement.pdf"
    stored = path_of(attachment.storage_path)
    assert stored.read_bytes() == PDF_BYTES
    assert media_root.resolve() in stored.parents
    assert "statement" not in stored.name  # stored under a random name, never the uploaded one


def test_logging_an_interaction_writes_one_audit_event_without_the_body(manager):
    customer = CustomerFactory(assigned_to=manager)

    interaction = log_interaction(
        actor=manager, customer=customer, channel="phone", subject="Call", body="Secret plans", attachments=[upload()]
    )

    event = AuditEvent.objects.get(action="interaction.logged", object_id=str(interaction.pk))
    assert event.customer_id == customer.pk
    assert event.metadata["attachments"][0]["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()
    assert "Secret plans" not in str(event.metadata) + str(event.changes)


@pytest.mark.parametrize(
    ("name", "data"),
    [("report.pdf", HTML_BYTES), ("photo.png", ELF_BYTES), ("big.pdf", PDF_BYTES + b"0" * 4096)],
)
def test_a_refused_attachment_leaves_no_interaction_no_attachment_and_no_file(
    manager, media_root, settings, name, data
):
    settings.FINPULSE_ATTACHMENT_MAX_BYTES = 2048
    customer = CustomerFactory(assigned_to=manager)

    with pytest.raises(DomainError) as refused:
        log_interaction(
            actor=manager,
            customer=customer,
            channel="email",
            subject="Documents",
            attachments=[upload("fine.pdf", PDF_BYTES), upload(name, data)],
        )

    assert refused.value.field == "attachments"
    assert not Interaction.objects.exists()
    assert not Attachment.objects.exists()
    assert _files_under(media_root) == []
    assert not AuditEvent.objects.filter(action="interaction.logged").exists()


def test_a_compliance_officer_cannot_log_interactions(compliance_officer, manager):
    customer = CustomerFactory(assigned_to=manager)

    with pytest.raises(PermissionDenied):
        log_interaction(actor=compliance_officer, customer=customer, channel="note", subject="Note")


def test_an_interaction_cannot_be_in_the_future(manager):
    customer = CustomerFactory(assigned_to=manager)

    with pytest.raises(DomainError, match="future") as refused:
        log_interaction(
            actor=manager,
            customer=customer,
            channel="note",
            subject="Note",
            occurred_at=timezone.now() + dt.timedelta(days=1),
        )
    assert refused.value.field == "occurred_at"


def test_the_author_can_edit_within_the_window_and_it_is_audited_without_the_text(manager):
    interaction = InteractionFactory(customer=CustomerFactory(assigned_to=manager))

    edit_interaction(actor=manager, interaction=interaction, subject="Fixed subject", outcome="Agreed")

    interaction.refresh_from_db()
    assert interaction.subject == "Fixed subject"
    event = AuditEvent.objects.get(action="interaction.edited", object_id=str(interaction.pk))
    assert set(event.changes) == {"subject", "outcome"}
    assert "Fixed subject" not in str(event.changes)


def test_after_the_window_an_interaction_is_immutable(manager, settings):
    settings.FINPULSE_INTERACTION_EDIT_WINDOW_MINUTES = 15
    interaction = InteractionFactory(customer=CustomerFactory(assigned_to=manager), subject="Original")
    _age(interaction, 16)

    with pytest.raises(Conflict, match="add a correction"):
        edit_interaction(actor=manager, interaction=interaction, subject="Rewritten")

    interaction.refresh_from_db()
    assert interaction.subject == "Original"


def test_only_the_author_can_edit(manager, branch_manager):
    interaction = InteractionFactory(customer=CustomerFactory(assigned_to=manager))

    with pytest.raises(PermissionDenied):
        edit_interaction(actor=branch_manager, interaction=interaction, subject="Not mine")


def test_a_correction_is_a_new_interaction_linked_to_the_original(manager):
    original = InteractionFactory(customer=CustomerFactory(assigned_to=manager), subject="Wrong amount")
    _age(original, 60)

    correction = add_correction(actor=manager, original=original, channel="note", subject="Amount was 5,000")

    assert correction.pk != original.pk
    assert correction.corrects == original
    assert correction.customer_id == original.customer_id
    original.refresh_from_db()
    assert original.subject == "Wrong amount"
