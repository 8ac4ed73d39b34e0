"""Reads of alerts: only on customers the user may see (visible_customers decides)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.alerts.models import Alert
from apps.core.errors import NotFound
from apps.customers.selectors import visible_customers

ACTIVE = (Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED, Alert.Status.SNOOZED)


def visible_alerts(*, user: Any) -> QuerySet[Alert]:
    """Alerts on customers the user may see, with what the list shows."""
    return Alert.objects.filter(customer__in=visible_customers(user=user)).select_related("customer", "manager", "task")


def my_alerts(*, user: Any, status: str = "") -> QuerySet[Alert]:
    """A manager's list: alerts addressed to them on customers they still see; open first by default."""
    alerts = visible_alerts(user=user).filter(manager=user)
    if status in Alert.Status.values:
        return alerts.filter(status=status)
    return alerts.filter(status__in=ACTIVE)


def alert_for_user(*, user: Any, alert_id: Any) -> Alert:
    try:
        return visible_alerts(user=user).get(pk=int(alert_id))
    except (Alert.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such alert.") from None
