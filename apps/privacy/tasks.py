from __future__ import annotations

from celery import shared_task

from apps.privacy.services import release_retention_holds as release


@shared_task(name="privacy.release_retention_holds", acks_late=True, ignore_result=True)
def release_retention_holds() -> int:
    """Daily: finish the erasures whose retention holds have ended (idempotent: done ones are skipped)."""
    return len(release())
