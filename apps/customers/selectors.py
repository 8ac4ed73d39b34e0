"""Who may see which customer: every read of customers, or of anything under them, starts here."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from guardian.shortcuts import get_objects_for_user

from apps.core.blind_index import blind_index
from apps.core.errors import NotFound
from apps.customers.models import Customer, CustomerUserObjectPermission


def visible_customers(*, user: Any) -> QuerySet[Customer]:
    """Customers this user may see.

    Administrators and compliance officers see every customer (compliance read-only, which
    the services enforce); a branch manager sees their branch; a relationship manager sees
    the customers they hold object permissions on (granted by assignment). Anyone else,
    inactive or anonymous, sees nothing.
    """
    customers = Customer.objects.all()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return customers.none()
    if user.sees_all_customers:
        return customers
    assigned = get_objects_for_user(
        user,
        "customers.view_customer",
        klass=customers,
        use_groups=False,
        with_superuser=False,
        accept_global_perms=False,
    )
    if user.is_branch_manager and user.branch_id:
        return customers.filter(Q(branch_id=user.branch_id) | Q(pk__in=assigned.values("pk")))
    return assigned


def customer_for_user(*, user: Any, customer_id: Any) -> Customer:
    """One customer the user may see; missing and forbidden look alike (404)."""
    try:
        return visible_customers(user=user).select_related("branch", "primary_manager").get(pk=int(customer_id))
    except (Customer.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such customer.") from None


def customers_by_pii(*, user: Any, kind: str, value: str) -> QuerySet[Customer]:
    """Exact lookup by national id, email or phone through the blind index."""
    index = blind_index(kind, value)
    if index is None:
        return Customer.objects.none()
    return visible_customers(user=user).filter(**{f"{kind}_index": index})


def managers_with_access(*, customer: Customer) -> QuerySet[CustomerUserObjectPermission]:
    return CustomerUserObjectPermission.objects.filter(content_object=customer).select_related("user", "permission")
