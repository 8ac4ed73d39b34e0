"""Celery tasks for the outbox: thin, take ids, idempotent (the service decides)."""

from __future__ import annotations

from celery import shared_task

from apps.notifications.services import deliver_notification, relay_pending_notifications


@shared_task(name="notifications.deliver", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_notifications_task(notification_ids: list[int]) -> dict[str, str]:
    """Deliver outbox rows by id; a redelivered or duplicated message skips what was sent.

    A message carries a small chunk of ids (a scan batch publishes tens of messages, not
    thousands). Retries are the relay's job (the row's next_attempt_at), not Celery
    countdowns, so no message waits in the broker for long (RabbitMQ's consumer timeout).
    """
    return {str(pk): deliver_notification(notification_id=int(pk)) for pk in notification_ids}


@shared_task(name="notifications.relay", acks_late=True, ignore_result=True)
def relay_notifications_task() -> int:
    """Re-dispatch pending notifications (broker was down, a worker died)."""
    return relay_pending_notifications()
