"""The audit trail: append-only in the database, each event hashed, checked by a command (blocks: test_audit_seal)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from apps.core.audit import check_chain, compute_hash, record_audit_event, verify_chain
from apps.core.models import AuditEvent
from apps.customers.services import update_customer
from apps.tasks.services import complete_task
from tests.core.tampering import triggers_disabled
from tests.customers.factories import CustomerFactory
from tests.tasks.factories import TaskFactory


@pytest.fixture
def trail(manager):
    """A few real events from real services."""
    customer = CustomerFactory(assigned_to=manager)
    update_customer(actor=manager, customer=customer, segment="affluent")
    complete_task(actor=manager, task=TaskFactory(customer=customer), outcome="Called")
    return list(AuditEvent.objects.order_by("id"))


def verify_command() -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("verify_audit_chain", stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def test_the_database_refuses_update_on_the_audit_table(trail):
    with (
        pytest.raises(DatabaseError, match="Cannot update or delete"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE core_auditevent SET action = 'nothing.happened' WHERE id = %s", [trail[0].pk])

    assert AuditEvent.objects.get(pk=trail[0].pk).action == trail[0].action


def test_the_database_refuses_delete_on_the_audit_table(trail):
    with (
        pytest.raises(DatabaseError, match="Cannot update or delete"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM core_auditevent")

    assert AuditEvent.objects.count() == len(trail)


def test_the_orm_cannot_delete_an_event_either(trail):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=trail[-1].pk).delete()

    assert AuditEvent.objects.count() == len(trail)


def test_each_event_is_hashed_on_its_own_without_a_link_to_the_one_before(trail):
    """No chain head to read: writers never wait on each other (the sealer orders events later)."""
    for event in trail:
        assert event.prev_hash == ""
        assert event.hash == compute_hash(event)
    assert len({event.txid for event in trail}) == 1  # this test's one transaction wrote them all


def test_an_intact_chain_verifies(trail):
    output, error = verify_command()

    assert error is None
    assert output.strip() == f"OK: {len(trail)} events in 0 blocks, 0 anchors, {len(trail)} events not sealed yet"
    assert list(verify_chain()) == []


def test_an_empty_chain_verifies(db):
    output, error = verify_command()

    assert error is None
    assert output.strip() == "OK: 0 events in 0 blocks, 0 anchors, 0 events not sealed yet"


def test_a_row_altered_with_triggers_disabled_fails_verification_naming_that_row(trail):
    altered = trail[1]
    with triggers_disabled("core.AuditEvent:audit_append_only"):
        AuditEvent.objects.filter(pk=altered.pk).update(metadata={"reason": "rewritten"})

    output, error = verify_command()

    assert error is not None and error.returncode == 1
    assert f"event id {altered.pk}: " in str(error)
    assert "content does not match its hash" in str(error)
    assert "OK" not in output


def test_a_row_altered_in_sql_with_the_trigger_switched_off_is_named(trail):
    altered = trail[2]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        cursor.execute("UPDATE core_auditevent SET actor_label = 'someone.else' WHERE id = %s", [altered.pk])
        cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER USER")

    report = check_chain()

    assert report.first_break is not None
    assert report.first_break.event_id == altered.pk
    assert report.broken == 1


def test_events_are_only_recorded_inside_a_transaction(transactional_db):
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        record_audit_event(actor=None, action="test.recorded")


def test_pii_never_reaches_the_audit_trail(manager):
    customer = CustomerFactory(
        assigned_to=manager, national_id="QQ654321A", email="secret.person@mail.example", phone="+44 7700 900555"
    )
    update_customer(actor=manager, customer=customer, email="new.secret@mail.example", address="9 Hidden Lane")

    stored = json.dumps(list(AuditEvent.objects.values("changes", "metadata")))

    for value in ("QQ654321A", "secret.person", "new.secret", "900555", "Hidden Lane", "1980-05-17"):
        assert value not in stored
    event = AuditEvent.objects.get(action="customer.updated")
    assert event.changes["email"] == ["[redacted]", "[redacted]"]
    assert event.customer_id == customer.pk
    assert event.actor_label == manager.username
