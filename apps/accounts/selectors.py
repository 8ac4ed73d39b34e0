from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from apps.accounts.models import Holding
from apps.customers.visibility import visible_customers

if TYPE_CHECKING:
    from apps.identity.models import User


def visible_holdings(*, user: User) -> QuerySet[Holding]:
    """Holdings with at least one party the user may see."""
    return Holding.objects.filter(parties__customer__in=visible_customers(user=user)).distinct()
