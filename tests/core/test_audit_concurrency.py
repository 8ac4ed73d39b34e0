"""Concurrent writers queue on the chain head instead of forking the chain."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from apps.core.audit import verify_chain
from apps.core.models import AuditEvent
from apps.customers.models import Customer
from apps.customers.services import update_customer
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
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(prev_hashes) >= WRITERS
    assert len(set(prev_hashes)) == len(prev_hashes), "two events share a previous hash: the chain forked"
