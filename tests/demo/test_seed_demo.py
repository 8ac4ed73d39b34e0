"""`manage.py seed_demo`: the demo book is complete, written through the services, idempotent,
and refused in production.

Seeding the full book takes a while, so one test seeds it (twice) and checks everything.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from apps.accounts.models import Holding, HoldingParty
from apps.agenda.models import Meeting
from apps.core.audit import verify_chain
from apps.core.models import AuditEvent
from apps.customers.models import Customer, CustomerAssignment, CustomerRelationship, IdentityDocument
from apps.customers.visibility import visible_customers
from apps.demo.planner import DEMO_PREFIX
from apps.identity import roles
from apps.opportunities.models import Opportunity
from apps.products.models import Product, ProductRate
from apps.products.selectors import rate_on
from apps.tasks.models import Task

TODAY = dt.date(2026, 3, 2)


def _counts() -> dict[str, int]:
    return {
        "users": get_user_model().objects.count(),
        "products": Product.objects.count(),
        "rates": ProductRate.objects.count(),
        "customers": Customer.objects.count(),
        "documents": IdentityDocument.objects.count(),
        "relationships": CustomerRelationship.objects.count(),
        "holdings": Holding.objects.count(),
        "tasks": Task.objects.count(),
        "opportunities": Opportunity.objects.count(),
        "meetings": Meeting.objects.count(),
        "audit events": AuditEvent.objects.count(),
    }


@pytest.mark.django_db
def test_seed_demo_builds_a_complete_book_once_and_a_second_run_changes_nothing(settings):
    settings.FINPULSE_BUSINESS_DATE = TODAY.isoformat()
    out = StringIO()

    call_command("seed_demo", stdout=out)

    # Staff: every role has a user who can log in with the documented password.
    users = {u.username: u for u in get_user_model().objects.prefetch_related("groups")}
    expected_roles = {
        "rm.alice": roles.RELATIONSHIP_MANAGER,
        "rm.bob": roles.RELATIONSHIP_MANAGER,
        "rm.carol": roles.RELATIONSHIP_MANAGER,
        "rm.dan": roles.RELATIONSHIP_MANAGER,
        "bm.london": roles.BRANCH_MANAGER,
        "bm.manchester": roles.BRANCH_MANAGER,
        "compliance.olivia": roles.COMPLIANCE_OFFICER,
        "admin": roles.ADMINISTRATOR,
    }
    for username, role in expected_roles.items():
        assert users[username].has_role(role), username
        # Django admin is for administrators only (decisions.md 37).
        assert users[username].is_staff == (role == roles.ADMINISTRATOR)
        assert users[username].check_password(settings.FINPULSE_DEMO_PASSWORD)
    assert users["admin"].is_superuser
    assert not users["rm.alice"].is_superuser
    assert users["rm.carol"].branch.code == "MAN01"
    assert users["rm.dan"].branch.code == "EDI01"

    # Catalog: every category, dated rates (an older and a current one for each product).
    products = Product.objects.all()
    assert products.count() >= 12
    assert set(products.values_list("category", flat=True)) == {"deposit", "loan", "card", "investment"}
    for product in products:
        assert product.rates.values("effective_from").distinct().count() >= 2, product.code
    deposit = Product.objects.get(code="DEP-TD-FIXED")
    assert (
        rate_on(product=deposit, on=TODAY, amount=20000, term_months=12).rate
        != rate_on(product=deposit, on=TODAY - dt.timedelta(days=200), amount=20000, term_months=12).rate
    )

    # Customers: 300+, individuals and businesses, each assigned to a manager through the service.
    customers = Customer.objects.filter(external_id__startswith=DEMO_PREFIX)
    assert customers.count() >= 300
    assert customers.filter(kind="business").count() >= 20
    assert not customers.filter(primary_manager__isnull=True).exists()
    assert CustomerAssignment.objects.filter(ended_at__isnull=True).count() == customers.count()
    assert (
        visible_customers(user=users["rm.alice"]).count()
        == customers.filter(primary_manager=users["rm.alice"]).count()
        > 0
    )
    assert visible_customers(user=users["bm.manchester"]).count() == customers.filter(branch__code="MAN01").count()
    assert set(customers.values_list("segment", flat=True)) == {
        "mass",
        "affluent",
        "premium",
        "private",
        "sme",
        "corporate",
    }
    assert customers.filter(kyc_review_date__lte=TODAY + dt.timedelta(days=30)).exists()
    assert CustomerRelationship.objects.filter(kind="spouse").exists()
    assert CustomerRelationship.objects.filter(kind="director").exists()

    # Holdings: 1-4 per customer, maturities in the coming weeks (including the alert windows),
    # joint holdings, and no card number ever stored.
    per_customer = dict(customers.annotate(n=Count("holdings")).values_list("pk", "n"))
    assert min(per_customer.values()) >= 1
    assert max(per_customer.values()) <= 4
    maturing = Holding.objects.filter(
        category="term_deposit", maturity_date__gte=TODAY, maturity_date__lte=TODAY + dt.timedelta(days=30)
    )
    assert maturing.count() >= 10
    for days in (1, 7, 30):
        assert maturing.filter(maturity_date=TODAY + dt.timedelta(days=days)).exists(), days
    assert HoldingParty.objects.filter(role="joint").exists()
    assert set(Holding.objects.values_list("category", flat=True)) == set(Holding.Category.values)
    assert not Holding.objects.filter(category="credit_card", number__isnull=False).exists()

    # Identity documents near expiry, and some already expired.
    documents = IdentityDocument.objects.all()
    assert documents.filter(expiry_date__gte=TODAY, expiry_date__lte=TODAY + dt.timedelta(days=60)).count() >= 10
    assert documents.filter(expiry_date__lt=TODAY).exists()

    # Open tasks for every manager: overdue, due today and later.
    for username in ("rm.alice", "rm.bob", "rm.carol", "rm.dan", "bm.london", "bm.manchester"):
        tasks = Task.objects.filter(assignee=users[username], status="open")
        due_days = {timezone.localtime(t.due_at).date() for t in tasks}
        assert any(day < TODAY for day in due_days), username
        assert TODAY in due_days, username
        assert any(day > TODAY for day in due_days), username

    # A pipeline for every manager: open opportunities in several stages, and one won.
    for username in ("rm.alice", "rm.bob", "rm.carol", "rm.dan"):
        theirs = Opportunity.objects.filter(owner=users[username])
        assert theirs.filter(outcome="open").values("stage").distinct().count() >= 3, username
        assert theirs.filter(outcome="won").exists(), username

    # Meetings ahead for every relationship manager, on their own customers, one with a colleague.
    for username in ("rm.alice", "rm.bob", "rm.carol", "rm.dan"):
        meetings = Meeting.objects.filter(organiser=users[username])
        assert meetings.count() == 3, username
        assert not meetings.exclude(customer__primary_manager=users[username]).exists()
        assert all(meeting.starts_at > timezone.now() for meeting in meetings)
    assert Meeting.objects.filter(attendees=users["bm.london"]).count() == 2
    assert Meeting.objects.exclude(video_url="").exists()

    # Every write was audited by the system, and the chain verifies.
    assert AuditEvent.objects.filter(action="customer.created", actor__isnull=True).count() == customers.count()
    assert AuditEvent.objects.filter(action="holding.opened").count() == HoldingParty.objects.count()
    assert AuditEvent.objects.filter(action="product_rate.added").count() == ProductRate.objects.count()
    assert list(verify_chain()) == []
    assert "rm.alice" in out.getvalue()

    # A second run finds everything and writes nothing.
    before = _counts()
    again = StringIO()

    call_command("seed_demo", stdout=again)

    assert _counts() == before
    assert "nothing changed" in again.getvalue()


@pytest.mark.django_db
def test_seed_demo_is_refused_in_production():
    with override_settings(IS_PRODUCTION=True), pytest.raises(CommandError) as refused:
        call_command("seed_demo", stdout=StringIO())

    assert refused.value.returncode == 1
    assert "production" in str(refused.value)
    assert not Customer.objects.exists()
    assert not get_user_model().objects.filter(username="admin").exists()
