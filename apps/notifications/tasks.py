"""Celery tasks for the outbox: thin, take ids, idempotent (the service decides)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from apps.notifications.services import deliver_notification, relay_pending_notifications

# A database outage longer than the service's own reconnects: the rest of the chunk is
# published again after a short wait, rather than left to the relay's five-minute pace.
DB_OUTAGE_RETRIES = 5
DB_OUTAGE_COUNTDOWN = 5


@shared_task(bind=True, name="notifications.deliver", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_notifications_task(self: Any, notification_ids: list[int]) -> dict[str, str]:  # Any: Celery's bound task
    """Deliver outbox rows by id; a redelivered or duplicated message skips what was sent.

    A message carries a small chunk of ids (a scan batch publishes tens of messages, not
    thousands). Delivery retries are the relay's job (the row's next_attempt_at), not Celery
    countdowns, so no message waits in the broker for long (RabbitMQ's consumer timeout);
    only a database that stays unreachable re-publishes the rows not yet handled.
    """
    outcomes: dict[str, str] = {}
    for index, pk in enumerate(notification_ids):
        try:
            outcomes[str(pk)] = deliver_notification(notification_id=int(pk))
        except (OperationalError, InterfaceError) as error:
            raise self.retry(
                args=(notification_ids[index:],),
                countdown=DB_OUTAGE_COUNTDOWN,
                max_retries=DB_OUTAGE_RETRIES,
                exc=error,
            ) from error
    return outcomes


@shared_task(name="notifications.relay", acks_late=True, ignore_result=True)
def relay_notifications_task() -> int:
    """Re-dispatch pending notifications (broker was down, a worker died)."""
    return relay_pending_notifications()
