"""Reads of alerts: only on customers the user may see (visible_customers decides)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import F, Q, QuerySet

from apps.alerts.models import Alert
from apps.core.errors import NotFound
from apps.customers.visibility import visible_customers

if TYPE_CHECKING:
    from apps.identity.models import User

ACTIVE = (Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED, Alert.Status.SNOOZED)


def visible_alerts(*, user: User) -> QuerySet[Alert]:
    """Alerts on customers the user may see, with what the list shows."""
    return Alert.objects.filter(customer__in=visible_customers(user=user)).select_related("customer", "manager", "task")


def my_alerts(*, user: User, status: str = "", rule: str = "", customer: str = "") -> QuerySet[Alert]:
    """A manager's list: alerts addressed to them on customers they still see, most urgent first.

    Urgent means the fewest days left, past due first (most overdue at the top), then the most
    money at stake. Active alerts unless a state is asked for;
    `rule` narrows to one rule, `customer` to a customer number (external id) or part of a name.
    """
    alerts = visible_alerts(user=user).filter(manager=user)
    alerts = alerts.filter(status=status) if status in Alert.Status.values else alerts.filter(status__in=ACTIVE)
    if rule in Alert.Rule.values:
        alerts = alerts.filter(rule=rule)
    customer = customer.strip()
    if customer:
        alerts = alerts.filter(
            Q(customer__external_id__iexact=customer) | Q(customer__display_name__icontains=customer)
        )
    # Past due first, most overdue first (docs/decisions.md): a banker works the backlog before
    # what falls due later; the list marks those alerts overdue. Same deadline: most money first.
    return alerts.order_by(F("due_on").asc(nulls_last=True), F("amount").desc(nulls_last=True), "pk")


def alert_for_user(*, user: User, alert_id: Any) -> Alert:
    try:
        return visible_alerts(user=user).get(pk=int(alert_id))
    except (Alert.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such alert.") from None
