from __future__ import annotations

from celery import shared_task

from apps.api.idempotency import purge_expired_records


@shared_task(name="api.purge_idempotency_keys", acks_late=True, ignore_result=True)
def purge_idempotency_keys() -> int:
    """Daily: forget Idempotency-Keys past their 24-hour lifetime (idempotent by nature)."""
    return purge_expired_records()
