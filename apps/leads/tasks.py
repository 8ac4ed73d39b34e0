"""Celery tasks for leads: thin, take ids, idempotent (the services decide).

The vendor's requests per minute are guarded across every worker by the shared LLM limiter
(apps.core.llm, FINPULSE_LLM_RATE_PER_MINUTE): a burst waits for its slot. The task's own
Celery rate limit (FINPULSE_LEAD_WORKER_RATE, per worker, set through task annotations in
settings) only keeps one worker from hogging the queue.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(
    bind=True,
    name="leads.extract_lead",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=None,
)
def extract_lead(self: Any, lead_id: int) -> str:
    """Read, qualify and route one lead. A duplicate message finds it done (or leased) and stops.

    While the LLM asks us to wait, the task retries itself with a countdown (at most five
    minutes, well under RabbitMQ's consumer timeout); if that message is lost too, the sweeper
    finds the lead in qualifying once its lease runs out.
    """
    from apps.leads.services import ExtractionDeferred, process_lead

    try:
        lead = process_lead(lead_id=int(lead_id))
    except ExtractionDeferred as deferred:
        raise self.retry(countdown=deferred.retry_in + 1) from deferred
    return lead.state if lead is not None else "nothing-to-do"


@shared_task(name="leads.sweep_stuck", acks_late=True, ignore_result=True)
def sweep_stuck_leads_task() -> int:
    """Beat, every minute: re-queue leads left in new (lost message) or qualifying (dead worker)."""
    from apps.leads.services import sweep_stuck_leads

    return sweep_stuck_leads()
