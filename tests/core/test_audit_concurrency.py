"""Concurrent audited writers do not wait on each other, and what they wrote seals and verifies."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from apps.core.audit import record_audit_event, verify_chain
from apps.core.audit_seal import verify_audit_trail
from apps.core.models import AuditEvent
from apps.customers.models import Customer
from apps.customers.services import update_customer
from tests.core.sealing import seal_all
from tests.customers.factories import CustomerFactory

WRITERS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_writers_leave_a_chain_that_verifies(manager):
    customers = [CustomerFactory(assigned_to=manager) for _ in range(WRITERS)]
    before = AuditEvent.objects.count()
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(customer: Customer) -> None:
        try:
            start.wait(timeout=30)
            update_customer(actor=manager, customer=customer, segment="affluent")
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()  # each thread has its own connection; do not leak it

    threads = [threading.Thread(target=write, args=(customer,)) for customer in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert not any(thread.is_alive() for thread in threads)
    assert AuditEvent.objects.filter(action="customer.updated").count() == WRITERS
    assert AuditEvent.objects.count() == before + WRITERS
    assert list(verify_chain()) == []


@pytest.mark.django_db(transaction=True)
def test_two_open_transactions_both_append_and_commit_without_waiting(manager, settings, tmp_path):
    """With the old advisory lock the second writer blocked until the first committed; now it
    appends and commits while the first is still open (the statement timeout turns a wait into
    an error), and both events are sealed and verify."""
    settings.FINPULSE_AUDIT_ANCHOR_DIR = tmp_path
    first_written, second_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                record_audit_event(actor=manager, action="test.first")
                first_written.set()
                assert second_done.wait(timeout=20), "the second writer did not finish while the first was open"
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_written.wait(timeout=20)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
                cursor.execute("SET LOCAL statement_timeout = '5s'")
            record_audit_event(actor=manager, action="test.second")
        second_done.set()
    finally:
        second_done.set()
        thread.join(timeout=30)

    assert not errors
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {"test.first", "test.second"}
    seal_all()
    report = verify_audit_trail()
    assert report.ok, report.findings
    assert report.unsealed == 0 and report.blocks >= 1
