"""Demo customers: one customer and everything that hangs off them in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from apps.accounts.services import open_holding
from apps.customers.models import Customer
from apps.customers.services import add_identity_document, create_customer, link_customers, record_consent
from apps.demo.planner import CustomerPlan
from apps.demo.report import SeedReport
from apps.identity.models import Branch
from apps.interactions.services import log_interaction
from apps.products.models import Product
from apps.tasks.services import create_task


class CustomerBook:
    """Customers by plan index: created in this run, or loaded once when resuming."""

    def __init__(self, plans: list[CustomerPlan]) -> None:
        self.plans = plans
        self.objects: dict[int, Customer] = {}

    def __getitem__(self, index: int) -> Customer:
        if index not in self.objects:
            self.objects[index] = Customer.objects.get(external_id=self.plans[index].external_id)
        return self.objects[index]


def _skip_commit_flush() -> None:
    """Do not wait for the disk at commit: ~320 commits otherwise spend most of the first run
    on fsync. Safe for demo data: a crash can only lose whole, most recent transactions (never
    half of one), and the next run writes those customers again."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def write_customer(
    plan: CustomerPlan,
    book: CustomerBook,
    users: dict[str, Any],
    branches: dict[str, Branch],
    products: dict[str, Product],
    existing_holdings: set[str],
    report: SeedReport,
) -> None:
    """One customer and everything written with them, all or nothing."""
    with transaction.atomic():
        _skip_commit_flush()
        customer = create_customer(
            actor=None,
            external_id=plan.external_id,
            branch=branches[plan.branch_code],
            manager=users[plan.manager],
            reason="Demo book",
            **plan.profile,
        )
        book.objects[plan.index] = customer
        for document in plan.documents:
            add_identity_document(actor=None, customer=customer, **document)
        for channel, purpose, granted in plan.consents:
            record_consent(
                actor=None,
                customer=customer,
                channel=channel,
                purpose=purpose,
                granted=granted,
                source="Account opening",
            )
        for from_index, to_index, kind in plan.links:
            link_customers(actor=None, from_customer=book[from_index], to_customer=book[to_index], kind=kind)
        holdings = [h for h in plan.holdings if h.external_id not in existing_holdings]
        for holding in holdings:
            open_holding(
                actor=None,
                external_id=holding.external_id,
                product=products[holding.product_code],
                category=holding.category,
                parties={book[index]: role for index, role in holding.parties.items()},
                currency=holding.currency,
                opened_on=holding.opened_on,
                number=holding.number,
                balance=holding.balance,
                **holding.details,
            )
        for task in plan.tasks:
            create_task(
                actor=None,
                customer=customer,
                assignee=users[task.assignee],
                title=task.title,
                description=task.description,
                due_at=task.due_at,
                priority=task.priority,
                reminder_at=task.reminder_at,
            )
        for contact in plan.interactions:
            log_interaction(
                actor=users[plan.manager],
                customer=customer,
                channel=contact.channel,
                subject=contact.subject,
                outcome=contact.outcome,
                occurred_at=contact.occurred_at,
            )
    report.created["customers"] += 1
    report.created["identity documents"] += len(plan.documents)
    report.created["consents"] += len(plan.consents)
    report.created["relationships"] += len(plan.links)
    report.created["holdings"] += len(holdings)
    report.created["tasks"] += len(plan.tasks)
    report.created["interactions"] += len(plan.interactions)
