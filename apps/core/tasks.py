from __future__ import annotations

from celery import shared_task

from apps.core.audit_seal import seal_pending


@shared_task(name="core.seal_audit", acks_late=True, ignore_result=True)
def seal_audit() -> int:
    """Every minute: seal committed audit events into blocks and anchor them (one sealer at a time)."""
    return sum(block.event_count for block in seal_pending())
