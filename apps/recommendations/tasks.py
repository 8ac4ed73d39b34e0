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
    from apps.recommendations.services import AdviceNotAllowed, finish_refresh, recommend_for_customer

    try:
        actor = User.objects.filter(pk=actor_id, is_active=True).first() if actor_id else None
        if actor_id and actor is None:
            return "actor-inactive"
        if actor is not None:
            from apps.customers.visibility import visible_customers

            customers = visible_customers(user=actor)
        else:
            customers = Customer.objects.all()
        customer = customers.only(*PROFILE_FIELDS).filter(pk=customer_id).first()
        if customer is None:
            return "not-found"
        try:
            row = recommend_for_customer(actor=actor, customer=customer, force=True)
        except AdviceNotAllowed:
            return "not-allowed"
        return row.source
    finally:
        finish_refresh(customer_id=customer_id)
