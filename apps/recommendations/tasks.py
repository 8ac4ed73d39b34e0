"""Celery task for advice: thin, takes ids, owns nothing but the pending mark."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="recommendations.refresh", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def refresh_recommendation(customer_id: int, actor_id: int | None = None) -> str:
    """Fresh advice for one customer, acting for the manager who asked (their visibility applies).

    Never raises for a vendor failure (the service falls back to the rule engine), so a
    redelivery cannot loop; the pending mark is cleared whatever happens, so the page stops
    polling.
    """
    from apps.customers.models import Customer
    from apps.identity.models import User
    from apps.recommendations.selectors import PROFILE_FIELDS
    from apps.recommendations.services import (
        AdviceNotAllowed,
        finish_refresh,
        recommend_for_customer,
        record_refresh_outcome,
    )

    def failed(outcome: str, reason: str) -> str:
        record_refresh_outcome(customer_id=customer_id, state="failed", reason=reason)
        return outcome

    try:
        actor = User.objects.filter(pk=actor_id, is_active=True).first() if actor_id else None
        if actor_id and actor is None:
            return failed("actor-inactive", "The person who asked for the refresh can no longer sign in.")
        if actor is not None:
            from apps.customers.visibility import visible_customers

            customers = visible_customers(user=actor)
        else:
            customers = Customer.objects.all()
        customer = customers.only(*PROFILE_FIELDS).filter(pk=customer_id).first()
        if customer is None:
            return failed("not-found", "The customer is no longer in the book of the person who asked.")
        try:
            row = recommend_for_customer(actor=actor, customer=customer, force=True)
        except AdviceNotAllowed as error:
            return failed("not-allowed", str(error))
        except Exception:
            # Recorded for the panel, then raised: the worker logs it and the pending mark goes.
            record_refresh_outcome(
                customer_id=customer_id, state="failed", reason="The refresh stopped with an error (logged)."
            )
            raise
        record_refresh_outcome(customer_id=customer_id, state="done", recommendation_id=row.pk)
        return row.source
    finally:
        finish_refresh(customer_id=customer_id)


@shared_task(name="recommendations.rate_changed", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def invalidate_for_rate_change(product_id: int, effective_from: str) -> int:
    """A product's rate changed: invalidate the advice that change affects (a system job).

    Idempotent: invalidating twice marks nothing more, so a redelivery is harmless.
    """
    import datetime as dt

    from apps.recommendations.services import invalidate_advice_for_rate

    return invalidate_advice_for_rate(product_id=product_id, effective_from=dt.date.fromisoformat(effective_from))
