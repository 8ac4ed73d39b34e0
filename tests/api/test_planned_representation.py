"""Output serializers with planned fields write exactly what DRF's own path writes (decision 119)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone, translation
from rest_framework import serializers

from apps.api.representation import PlannedRepresentation
from apps.customers.api import CustomerOut
from apps.customers.models import PII_FIELDS, Customer
from apps.identity import roles
from apps.opportunities.api import OpportunityOut
from apps.opportunities.models import Opportunity
from apps.tasks.api import TaskOut
from apps.tasks.models import Task
from tests.customers.factories import CustomerFactory
from tests.identity.factories import UserFactory
from tests.opportunities.factories import opportunity
from tests.tasks.factories import TaskFactory

pytestmark = pytest.mark.django_db


def _drf(serializer_class: type[serializers.ModelSerializer], instance: Any) -> dict[str, Any]:
    """The row as DRF's ModelSerializer writes it, fields built for this one serializer."""
    return serializers.ModelSerializer.to_representation(serializer_class(instance), instance)


def _same(serializer_class: type[serializers.ModelSerializer], instances: list[Any]) -> None:
    planned = serializer_class(instances, many=True).data
    assert len(planned) == len(instances) > 0
    for row, instance in zip(planned, instances, strict=True):
        expected = _drf(serializer_class, instance)
        # Same keys in the same order, same values, same JSON bytes.
        assert list(row) == list(expected)
        assert json.dumps(row, default=str) == json.dumps(expected, default=str)


def test_customers_as_drf_writes_them_with_and_without_nulls() -> None:
    manager = UserFactory(roles=[roles.RELATIONSHIP_MANAGER])
    CustomerFactory(assigned_to=manager, annual_income=Decimal("85000.5"), kyc_review_date=dt.date(2027, 3, 31))
    CustomerFactory(annual_income=None, kyc_review_date=None)  # nobody's yet
    rows = list(Customer.objects.select_related("branch").defer(*PII_FIELDS).order_by("id"))
    assert {row.primary_manager_id is None for row in rows} == {True, False}
    _same(CustomerOut, rows)
    row = CustomerOut(rows[0]).data
    assert row["annual_income"] == "85000.50" and row["kyc_review_date"] == "2027-03-31"
    assert CustomerOut(rows[1]).data["primary_manager"] is None


def test_times_follow_the_active_time_zone_as_drf_does() -> None:
    customer = CustomerFactory(assigned_to=UserFactory(roles=[roles.RELATIONSHIP_MANAGER]))
    with timezone.override("Europe/Rome"), translation.override("it"):
        _same(CustomerOut, [customer])
        assert CustomerOut(customer).data["created_at"][-6:] in {"+01:00", "+02:00"}


def test_tasks_and_opportunities_as_drf_writes_them() -> None:
    manager = UserFactory(roles=[roles.RELATIONSHIP_MANAGER])
    TaskFactory(customer=CustomerFactory(assigned_to=manager), assignee=manager)
    _same(TaskOut, list(Task.objects.select_related("customer")))
    opportunity(owner=manager)
    _same(OpportunityOut, list(Opportunity.objects.select_related("customer", "product", "stage")))


def test_a_field_that_needs_more_than_the_row_is_refused() -> None:
    class WithMethod(PlannedRepresentation, serializers.ModelSerializer):
        shouted = serializers.SerializerMethodField()

        class Meta:
            model = Customer
            fields = ("id", "shouted")

        def get_shouted(self, customer: Customer) -> str:
            return customer.display_name.upper()

    with pytest.raises(TypeError, match="shouted"):
        _ = WithMethod(CustomerFactory()).data
