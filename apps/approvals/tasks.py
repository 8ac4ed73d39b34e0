from __future__ import annotations

from celery import shared_task

from apps.approvals.services import expire_changes


@shared_task(name="approvals.expire_changes", acks_late=True, ignore_result=True)
def expire_due_changes() -> int:
    """Every few minutes: four-eyes requests past their expiry become expired (idempotent)."""
    return expire_changes()
