"""Customers are built through the real service, so encryption, blind indexes, permissions
and audit are exactly what production writes."""

from __future__ import annotations

import datetime as dt

import factory

from apps.customers.models import Customer
from apps.customers.services import create_customer
from tests.identity.factories import BranchFactory


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"CB{n:08d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = dt.date(1980, 5, 17)
    national_id = factory.Sequence(lambda n: f"QQ{n:06d}C")
    email = factory.Sequence(lambda n: f"customer{n}@mail.example")
    phone = factory.Sequence(lambda n: f"+44 7700 {n:06d}")
    address = "1 High Street, London"
    segment = "mass"
    branch = None  # the assigned manager's branch, else a new branch (see _create)

    @classmethod
    def _create(cls, model_class: type[Customer], *args: object, **kwargs: object) -> Customer:
        manager = kwargs.pop("assigned_to", None)
        if kwargs.get("branch") is None:
            kwargs["branch"] = (manager.branch if manager is not None else None) or BranchFactory()
        return create_customer(actor=None, manager=manager, **kwargs)


def break_glass_grant(user, customer, *, approved_by, ends: dt.datetime):  # type: ignore[no-untyped-def]
    """A break-glass grant to `user` on `customer`, started two hours ago, ending at `ends` (in
    force when later than now, lapsed otherwise)."""
    from django.utils import timezone

    from apps.customers.models import BreakGlassGrant

    return BreakGlassGrant.objects.create(
        user=user, customer=customer, reason="test", approved_by=approved_by,
        starts_at=timezone.now() - dt.timedelta(hours=2), expires_at=ends,
    )  # fmt: skip
