"""No silent start: a Celery worker that starts runs the alert scan at once, not at beat's next tick."""

from __future__ import annotations

import pytest

from apps.alerts.models import Alert
from apps.notifications.models import Kind, Notification
from finpulse.celery import use_broker
from tests.alerts.support import TODAY, customer, deposit, deposit_product
from tests.notifications.realservices import broker_queue, process_env, start_worker, unique_queue, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def restore_broker():  # type: ignore[no-untyped-def]
    try:
        yield
    finally:
        use_broker()


def test_a_worker_that_starts_runs_the_first_scan_and_sends_the_digest(rabbitmq_url, restore_broker, manager):
    deposit(customer(manager), deposit_product(), 3)
    queue = unique_queue()
    env = process_env(
        broker_url=rabbitmq_url,
        queue=queue,
        FINPULSE_SCAN_ON_WORKER_START="1",
        FINPULSE_BUSINESS_DATE=TODAY.isoformat(),
        FINPULSE_RELATIONSHIP_CADENCE_DAYS="{}",
    )

    with broker_queue(rabbitmq_url, queue):
        worker = start_worker(env, queue)
        try:
            wait_for(
                lambda: Notification.objects.filter(kind=Kind.ALERT_DIGEST, recipient_user=manager).exists(),
                timeout=90,
                what="the start-up scan's digest",
            )
        finally:
            worker.stop()

    assert Alert.objects.filter(manager=manager).count() == 1
    assert "alerts.run_scans" in worker.log()
