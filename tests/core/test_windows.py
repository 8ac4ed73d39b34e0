"""Every "how soon" comes from apps.core.windows: change a setting and every surface follows.

Surfaces: the alert scans, the dashboard sections, the customer list's filters, the advice
snapshot and the API's holding filter.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.accounts.models import Holding
from apps.alerts.models import Alert
from apps.alerts.scans import business_now, run_scans
from apps.customers.services import add_identity_document
from apps.recommendations.selectors import current_profile
from apps.workspace.customer_list import CustomerQuery, filtered_customers
from apps.workspace.selectors import expiring_documents, kyc_reviews_due, maturing_holdings
from tests.accounts.factories import HoldingFactory
from tests.api.conftest import issue_key, key_client
from tests.customers.factories import CustomerFactory
from tests.products.factories import ProductFactory, ProductRateFactory
from tests.tasks.factories import TaskFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _today(settings):  # type: ignore[no-untyped-def]
    from apps.identity.roles import sync_role_permissions

    sync_role_permissions()  # the API key's scopes need the role permissions (see tests/api/conftest.py)
    settings.FINPULSE_BUSINESS_DATE = TODAY.isoformat()
    settings.FINPULSE_CUSTOMER_NOTICE_CHANNELS = []
    settings.FINPULSE_RELATIONSHIP_CADENCE_DAYS = {}


def _deposit(manager, days: int) -> Holding:  # type: ignore[no-untyped-def]
    product = ProductFactory(category="deposit")
    ProductRateFactory(product=product, effective_from=TODAY - dt.timedelta(days=400), rate=Decimal("3.0"))
    return HoldingFactory(
        customer=CustomerFactory(assigned_to=manager, branch=manager.branch),
        product=product,
        category=Holding.Category.TERM_DEPOSIT,
        opened_on=TODAY - dt.timedelta(days=300),
        maturity_date=TODAY + dt.timedelta(days=days),
        balance=Decimal("25000.00"),
    )


def _maturing_everywhere(manager, holding: Holding) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    customer = holding.parties.get().customer
    api = key_client(issue_key(manager)[1])
    listed = api.get("/api/v1/holdings/", {"maturing": "true"}).json()["results"]
    run_scans(only={"maturity"})
    return {
        "list filter": filtered_customers(user=manager, query=CustomerQuery(maturing=True))
        .filter(pk=customer.pk)
        .exists(),
        "dashboard": any(i.customer_id == customer.pk for i in maturing_holdings(user=manager, today=TODAY).items),
        "scan": Alert.objects.filter(rule=Alert.Rule.MATURITY, object_id=holding.pk).exists(),
        "api": any(row["id"] == holding.pk for row in listed),
    }


def test_the_maturing_window_follows_the_maturity_thresholds_on_every_surface(manager, settings):
    holding = _deposit(manager, days=40)

    settings.FINPULSE_MATURITY_THRESHOLDS = {"deposit": [30, 7]}
    assert _maturing_everywhere(manager, holding) == dict.fromkeys(("list filter", "dashboard", "scan", "api"), False)

    settings.FINPULSE_MATURITY_THRESHOLDS = {"deposit": [45, 7]}
    assert _maturing_everywhere(manager, holding) == dict.fromkeys(("list filter", "dashboard", "scan", "api"), True)
    assert maturing_holdings(user=manager, today=TODAY).title == "Maturing in the next 45 days"
    assert Alert.objects.get(object_id=holding.pk).threshold == 45


def test_the_advice_snapshot_follows_its_maturity_horizon(manager, settings):
    holding = _deposit(manager, days=100)
    customer = holding.parties.get().customer

    settings.FINPULSE_ADVICE_MATURITY_DAYS = 90
    assert current_profile(customer=customer, today=TODAY).snapshot["upcoming_maturities"] == []

    settings.FINPULSE_ADVICE_MATURITY_DAYS = 120
    (row,) = current_profile(customer=customer, today=TODAY).snapshot["upcoming_maturities"]
    assert row["matures_in"] == "within 120 days"


def test_document_expiry_follows_the_setting_on_the_dashboard_and_in_the_scan(manager, settings):
    customer = CustomerFactory(assigned_to=manager, branch=manager.branch)
    document = add_identity_document(
        actor=None,
        customer=customer,
        document_type="passport",
        number="P7500001",
        issuing_country="GB",
        expiry_date=TODAY + dt.timedelta(days=75),
    )

    def everywhere() -> tuple[bool, bool]:
        run_scans(only={"document_expiry"})
        shown = any(i.customer_id == customer.pk for i in expiring_documents(user=manager, today=TODAY).items)
        return shown, Alert.objects.filter(rule=Alert.Rule.DOCUMENT_EXPIRY, object_id=document.pk).exists()

    settings.FINPULSE_DOCUMENT_EXPIRY_DAYS = [60, 30]
    assert everywhere() == (False, False)

    settings.FINPULSE_DOCUMENT_EXPIRY_DAYS = [90, 30]
    assert everywhere() == (True, True)
    assert expiring_documents(user=manager, today=TODAY).title == "Identity documents expiring in the next 90 days"


def test_the_kyc_window_follows_the_setting_on_every_surface(manager, settings):
    customer = CustomerFactory(
        assigned_to=manager, branch=manager.branch, kyc_review_date=TODAY + dt.timedelta(days=40), kyc_status="verified"
    )

    def everywhere() -> dict[str, bool]:
        run_scans(only={"kyc_review"})
        return {
            "list filter": filtered_customers(user=manager, query=CustomerQuery(kyc_due=True))
            .filter(pk=customer.pk)
            .exists(),
            "dashboard": any(i.customer_id == customer.pk for i in kyc_reviews_due(user=manager, today=TODAY).items),
            "scan": Alert.objects.filter(rule=Alert.Rule.KYC_REVIEW, object_id=customer.pk).exists(),
            "snapshot": current_profile(customer=customer, today=TODAY).snapshot["kyc"]["review_due"],
        }

    settings.FINPULSE_KYC_REVIEW_NOTICE_DAYS = 30
    assert everywhere() == dict.fromkeys(("list filter", "dashboard", "scan", "snapshot"), False)

    settings.FINPULSE_KYC_REVIEW_NOTICE_DAYS = 45
    assert everywhere() == dict.fromkeys(("list filter", "dashboard", "scan", "snapshot"), True)


def test_the_relationship_scan_follows_the_cadence_setting(manager, settings):
    customer = CustomerFactory(
        assigned_to=manager, branch=manager.branch, segment="premium", customer_since=TODAY - dt.timedelta(days=120)
    )

    def overdue() -> bool:
        run_scans(only={"relationship"})
        return Alert.objects.filter(rule=Alert.Rule.RELATIONSHIP, customer=customer).exists()

    settings.FINPULSE_RELATIONSHIP_CADENCE_DAYS = {"premium": 150}
    assert overdue() is False

    settings.FINPULSE_RELATIONSHIP_CADENCE_DAYS = {"premium": 90}
    assert overdue() is True
    assert Alert.objects.get(rule=Alert.Rule.RELATIONSHIP, customer=customer).threshold == 90


def test_the_escalation_scan_follows_the_escalation_setting(manager, branch_manager, settings):
    now = business_now(TODAY)
    task = TaskFactory(
        customer=CustomerFactory(assigned_to=manager, branch=manager.branch), due_at=now - dt.timedelta(days=5)
    )

    def escalated() -> bool:
        run_scans(only={"followups"})
        return Alert.objects.filter(rule=Alert.Rule.TASK_ESCALATION, object_id=task.pk).exists()

    settings.FINPULSE_TASK_ESCALATION_DAYS = 7
    assert escalated() is False

    settings.FINPULSE_TASK_ESCALATION_DAYS = 4
    assert escalated() is True
