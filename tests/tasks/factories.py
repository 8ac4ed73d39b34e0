from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from apps.tasks.models import Task
from apps.tasks.services import create_task
from tests.customers.factories import CustomerFactory


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    customer = factory.SubFactory(CustomerFactory)
    assignee = factory.LazyAttribute(lambda t: t.customer.primary_manager)
    title = factory.Sequence(lambda n: f"Call back about deposit {n}")
    due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))

    @classmethod
    def _create(cls, model_class: type[Task], *args: object, **kwargs: object) -> Task:
        return create_task(actor=None, **kwargs)
