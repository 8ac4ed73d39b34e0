"""`seed_demo`: write whatever part of the demo data is missing; a complete set is left untouched."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings

from apps.accounts.models import Holding
from apps.core.business_date import business_today
from apps.core.errors import PermissionDenied
from apps.customers.models import Customer
from apps.demo.planner import CUSTOMER_COUNT, DEMO_PREFIX, build_plan
from apps.demo.report import SeedReport, demo_totals
from apps.demo.writers.customers import CustomerBook, write_customer
from apps.demo.writers.identity import ensure_branches, ensure_users
from apps.demo.writers.meetings import ensure_meetings
from apps.demo.writers.opportunities import ensure_opportunities
from apps.demo.writers.products import ensure_catalog


def ensure_demo_allowed() -> None:
    if settings.IS_PRODUCTION:
        raise PermissionDenied("Refusing to load demo data in production: it creates users with published passwords.")


def seed_demo(*, today: dt.date | None = None, progress: Callable[[int, int], None] | None = None) -> SeedReport:
    """Write whatever part of the demo data is missing; a complete set is left untouched."""
    ensure_demo_allowed()
    today = today or business_today()
    report = SeedReport()
    branches = ensure_branches(report)
    users = ensure_users(branches, report)
    products = ensure_catalog(today, branches, report)
    existing = set(Customer.objects.filter(external_id__startswith=DEMO_PREFIX).values_list("external_id", flat=True))
    if len(existing) < CUSTOMER_COUNT:
        plans = build_plan(today)
        book = CustomerBook(plans)
        missing = [plan for plan in plans if plan.external_id not in existing]
        # Only when resuming: holdings may survive a demo customer deleted by hand.
        holdings = Holding.objects.filter(external_id__startswith=DEMO_PREFIX) if existing else Holding.objects.none()
        existing_holdings = set(holdings.values_list("external_id", flat=True))
        for done, plan in enumerate(missing, start=1):
            write_customer(plan, book, users, branches, products, existing_holdings, report)
            if progress is not None:
                progress(done, len(missing))
    ensure_opportunities(users, products, today, report)
    ensure_meetings(today=today, users=users, report=report)
    report.totals = demo_totals()
    return report
