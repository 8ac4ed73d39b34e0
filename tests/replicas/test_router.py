"""The router's fixed rules, without a replica server (the real one is in test_read_replicas.py)."""

from __future__ import annotations

from django.contrib.sessions.models import Session

from apps.customers.models import Customer
from finpulse.db_router import PrimaryReplicaRouter, replica_reads


def test_migrations_run_on_the_primary_only():
    router = PrimaryReplicaRouter()

    assert router.allow_migrate("default", "customers") is True
    assert router.allow_migrate("replica", "customers") is False


def test_reads_outside_a_replica_scope_and_all_writes_use_the_primary():
    router = PrimaryReplicaRouter()

    assert router.db_for_read(Customer) == "default"  # jobs, commands, POSTs
    assert router.db_for_write(Customer) == "default"


def test_without_a_replica_configured_a_replica_scope_still_reads_the_primary():
    router = PrimaryReplicaRouter()

    with replica_reads() as routing:
        assert routing.replica_allowed is False
        assert router.db_for_read(Customer) == "default"
        assert router.db_for_read(Session) == "default"


def test_a_write_pins_the_rest_of_the_scope_to_the_primary():
    router = PrimaryReplicaRouter()

    with replica_reads() as routing:
        router.db_for_write(Customer)
        assert routing.wrote is True
