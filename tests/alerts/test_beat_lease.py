"""The beat lease: one active beat, handed over at once on a clean stop (a rolling deploy)."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.core.leases import acquire_lease, lease_holders, release_lease
from tests.notifications.realservices import broker_queue, process_env, start_beat, unique_queue, wait_for


def test_a_lease_is_held_by_one_holder_renewed_by_it_and_taken_over_after_expiry(db):
    with connection.cursor() as cursor:
        assert acquire_lease(cursor, name="test", holder="a", seconds=30)
        assert not acquire_lease(cursor, name="test", holder="b", seconds=30)
        assert acquire_lease(cursor, name="test", holder="a", seconds=30)  # renewal
        cursor.execute("UPDATE core_lease SET expires_at = now() - interval '1 second' WHERE name = 'test'")
        assert lease_holders(cursor, name="test") == []
        assert acquire_lease(cursor, name="test", holder="b", seconds=30)  # expired: b takes over
        assert lease_holders(cursor, name="test") == ["b"]


def test_a_released_lease_is_free_at_once_and_only_its_holder_releases_it(db):
    with connection.cursor() as cursor:
        acquire_lease(cursor, name="test", holder="a", seconds=300)
        release_lease(cursor, name="test", holder="b")
        assert lease_holders(cursor, name="test") == ["a"]
        release_lease(cursor, name="test", holder="a")
        assert acquire_lease(cursor, name="test", holder="b", seconds=300)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_beat_stopped_by_sigterm_hands_the_lease_over_at_once(rabbitmq_url):
    """A rolling deploy: the old beat gets SIGTERM; the new one sends long before the lease expired."""
    queue = unique_queue()
    env = process_env(broker_url=rabbitmq_url, queue=queue, FINPULSE_BEAT_LEASE_SECONDS="300")
    with broker_queue(rabbitmq_url, queue):
        old = start_beat(env)
        try:
            wait_for(lambda: "Beat lease taken" in old.log(), timeout=60, what="the first beat to take the lease")
            new = start_beat(env)
            try:
                wait_for(lambda: "stays idle" in new.log(), timeout=60, what="the second beat to stand by")
                old.stop(timeout=30)  # SIGTERM, as ECS sends it
                assert "Beat lease released." in old.log()
                wait_for(lambda: "Beat lease taken" in new.log(), timeout=15, what="the new beat to take over")
            finally:
                new.stop()
        finally:
            old.stop()
