"""What a seed run created, and what demo data the database holds."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from apps.accounts.models import Holding
from apps.agenda.models import Meeting
from apps.customers.models import Customer, CustomerConsent, CustomerRelationship, IdentityDocument
from apps.demo.catalog import BRANCHES, PRODUCTS_BY_CODE, USERS
from apps.demo.planner import DEMO_PREFIX
from apps.identity.models import Branch
from apps.opportunities.models import Opportunity
from apps.products.models import Product, ProductRate
from apps.tasks.models import Task


@dataclass
class SeedReport:
    created: Counter[str] = field(default_factory=Counter)
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.created.values())


def demo_totals() -> dict[str, int]:
    demo = Customer.objects.filter(external_id__startswith=DEMO_PREFIX)
    return {
        "branches": Branch.objects.filter(code__in=[s.code for s in BRANCHES]).count(),
        "users": get_user_model().objects.filter(username__in=[s.username for s in USERS]).count(),
        "products": Product.objects.filter(code__in=list(PRODUCTS_BY_CODE)).count(),
        "product rates": ProductRate.objects.filter(product__code__in=list(PRODUCTS_BY_CODE)).count(),
        "customers": demo.count(),
        "identity documents": IdentityDocument.objects.filter(customer__in=demo).count(),
        "consents": CustomerConsent.objects.filter(customer__in=demo).count(),
        "relationships": CustomerRelationship.objects.filter(from_customer__in=demo).count(),
        "holdings": Holding.objects.filter(external_id__startswith=DEMO_PREFIX).count(),
        "tasks": Task.objects.filter(customer__in=demo, status=Task.Status.OPEN).count(),
        "opportunities": Opportunity.objects.filter(source_object__startswith="demo:").count(),
        "meetings": Meeting.objects.filter(customer__in=demo).count(),
    }
