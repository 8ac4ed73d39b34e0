"""The dashboard's book dates (decisions 164, 176): kept by the database's triggers through every
write, and the four work sections and the recent interactions they serve show exactly what the
visibility rule, the confidentiality rule and the sections' rules select, read straight from the
tables, for every role."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from guardian.shortcuts import assign_perm

from apps.accounts.models import Holding, HoldingParty
from apps.approvals.services import approve_change
from apps.break_glass.services import request_break_glass
from apps.core.windows import (
    DOCUMENT_EXPIRED_LOOKBACK_DAYS,
    documents_expiring_within,
    kyc_review_days,
    maturing_within,
)
from apps.customers.models import Customer, IdentityDocument
from apps.customers.services import add_identity_document, assign_customer, update_customer
from apps.customers.visibility import customer_scope
from apps.identity import roles
from apps.interactions.models import Interaction
from apps.interactions.selectors import visible_interactions
from apps.workspace.customer_list import kyc_review_due
from apps.workspace.models import BookDate
from apps.workspace.selectors import RECENT_INTERACTIONS, SECTION_LIMIT, my_day
from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory
from tests.interactions.factories import InteractionFactory
from tests.workspace.support import (
    TODAY,
    pinned_today,  # noqa: F401  (fixture)
    plain_static_files,  # noqa: F401  (fixture)
    role_permissions,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("plain_static_files", "pinned_today", "role_permissions")


def _kept() -> list[tuple[Any, ...]]:
    fields = ("manager_id", "customer_id", "kind", "day", "ref_id", "state", "moment")
    return sorted(BookDate.objects.values_list(*fields), key=str)


def _from_the_tables() -> list[tuple[Any, ...]]:
    """What the book dates must hold, read from the tables they copy."""
    rows: list[tuple[Any, ...]] = [
        (c.primary_manager_id, c.pk, "k", c.kyc_review_date, c.pk, c.kyc_status, None) for c in Customer.objects.all()
    ]
    rows += [
        (d.customer.primary_manager_id, d.customer_id, "d", d.expiry_date, d.pk, "", None)
        for d in IdentityDocument.objects.select_related("customer").exclude(expiry_date=None)
    ]
    rows += [
        (p.customer.primary_manager_id, p.customer_id, "m", p.holding.maturity_date, p.holding_id, "", None)
        for p in HoldingParty.objects.select_related("customer", "holding").exclude(holding__maturity_date=None)
    ]
    rows += [
        (i.customer.primary_manager_id, i.customer_id, "i", None, i.pk, "", i.occurred_at)
        for i in Interaction.objects.select_related("customer")
    ]
    return sorted(rows, key=str)


def _document(customer: Customer, days: int) -> IdentityDocument:
    return add_identity_document(
        actor=None,
        customer=customer,
        document_type=IdentityDocument.DocumentType.PASSPORT,
        number=f"P{days + 5000}",
        issuing_country="GB",
        expiry_date=TODAY + dt.timedelta(days=days),
    )


def _deposit(customer: Customer, days: int, **kwargs: Any) -> Holding:
    return HoldingFactory(
        customer=customer,
        category=Holding.Category.TERM_DEPOSIT,
        maturity_date=TODAY + dt.timedelta(days=days),
        balance=Decimal("1000.00"),
        **kwargs,
    )


def test_every_write_keeps_the_book_dates(manager, other_manager):
    """Services, the ORM's saves, bulk updates and deletes (as imports and admin write): after each,
    the book dates are what the tables say."""
    mine = CustomerFactory(assigned_to=manager, kyc_review_date=TODAY + dt.timedelta(days=5))
    theirs = CustomerFactory(assigned_to=other_manager)
    nobodys = CustomerFactory()
    assert _kept() == _from_the_tables()
    assert len(_kept()) == 3

    passport = _document(mine, 20)
    _document(nobodys, -3)
    deposit = _deposit(mine, 10)
    _deposit(theirs, 12)
    HoldingFactory(customer=mine)  # a current account: no maturity, no row
    assert _kept() == _from_the_tables()

    passport.expiry_date = TODAY + dt.timedelta(days=200)
    passport.save()
    IdentityDocument.objects.filter(customer=nobodys).update(expiry_date=None)
    assert _kept() == _from_the_tables()

    Holding.objects.filter(pk=deposit.pk).update(maturity_date=TODAY + dt.timedelta(days=3))
    deposit.refresh_from_db()
    deposit.status = Holding.Status.CLOSED
    deposit.save()
    HoldingParty.objects.create(holding=deposit, customer=theirs, role=HoldingParty.Role.JOINT)
    assert _kept() == _from_the_tables()
    HoldingParty.objects.filter(holding=deposit, customer=theirs).update(customer=nobodys)
    assert _kept() == _from_the_tables()
    HoldingParty.objects.filter(holding=deposit, customer=nobodys).delete()
    assert _kept() == _from_the_tables()

    update_customer(actor=None, customer=mine, kyc_review_date=TODAY + dt.timedelta(days=40))
    Customer.objects.filter(pk=theirs.pk).update(kyc_status=Customer.KycStatus.REVIEW_DUE, kyc_review_date=None)
    assert _kept() == _from_the_tables()

    assign_customer(actor=None, customer=mine, manager=other_manager, reason="Holiday cover")
    Customer.objects.filter(pk=nobodys.pk).update(primary_manager=manager)
    assert _kept() == _from_the_tables()

    call = InteractionFactory(customer=mine, occurred_at=timezone.now() - dt.timedelta(days=1))
    InteractionFactory(customer=theirs, is_confidential=True)
    note = InteractionFactory(customer=nobodys, author=manager)
    assert _kept() == _from_the_tables()
    call.occurred_at = timezone.now() - dt.timedelta(days=3)
    call.save()
    Interaction.objects.filter(pk=note.pk).update(customer=theirs)
    assert _kept() == _from_the_tables()
    assign_customer(actor=None, customer=theirs, manager=manager, reason="Holiday cover")
    assert _kept() == _from_the_tables()
    Interaction.objects.filter(pk=note.pk).delete()
    assert _kept() == _from_the_tables()

    passport.delete()
    deposit.delete()
    nobodys.delete()
    assert _kept() == _from_the_tables()
    assert not BookDate.objects.filter(customer_id=nobodys.pk).exists()


def _expected(user: Any) -> dict[str, tuple[list[tuple[int, dt.date]], bool]]:
    """Each work section's (customer, date) rows and whether there are more, by the visibility rule
    and the sections' rules, read with the ORM straight from the tables."""
    scope = customer_scope(user=user)
    since = TODAY - dt.timedelta(days=DOCUMENT_EXPIRED_LOOKBACK_DAYS)
    documents = (
        IdentityDocument.objects.filter(scope.rows("customer"))
        .filter(expiry_date__range=(since, documents_expiring_within(today=TODAY)))
        .order_by("expiry_date", "id")
        .values_list("customer_id", "expiry_date")
    )
    maturing = (
        HoldingParty.objects.filter(scope.rows("customer"))
        .filter(
            role__in=[HoldingParty.Role.OWNER, HoldingParty.Role.JOINT],
            holding__status=Holding.Status.ACTIVE,
            holding__maturity_date__range=(TODAY, maturing_within(today=TODAY)),
        )
        .order_by("holding__maturity_date", "holding_id", "customer_id")
        .values_list("customer_id", "holding__maturity_date")
    )
    kyc = (
        scope.customers()
        .filter(kyc_review_due(today=TODAY))
        .exclude(status=Customer.Status.CLOSED)
        .order_by(F("kyc_review_date").asc(nulls_last=True), "id")
        .values_list("id", "kyc_review_date")
    )
    found = {"documents": list(documents), "maturing": list(maturing), "kyc": [(c, d or TODAY) for c, d in kyc]}
    return {name: (rows[:SECTION_LIMIT], len(rows) > SECTION_LIMIT) for name, rows in found.items()}


def _shown(user: Any) -> dict[str, tuple[list[tuple[int, dt.date]], bool]]:
    day = my_day(user=user)
    sections = {"documents": day.expiring_documents, "maturing": day.maturing_holdings, "kyc": day.kyc_reviews}
    return {
        name: ([(item.customer_id, item.date) for item in section.items], section.has_more)
        for name, section in sections.items()
    }


def test_each_role_sees_in_the_sections_what_the_rules_select_from_the_tables(
    manager, other_manager, branch_manager, compliance_officer, settings
):
    """A manager's book from the book dates, with what they hold as someone else's customers (a
    break-glass grant, a shared permission), and without a customer named theirs that they do not
    hold; a branch manager and compliance, whose sections are read the old way, alike."""
    far = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=BranchFactory(), username="manager.far")
    boss = UserFactory(roles=[roles.BRANCH_MANAGER], branch=far.branch, username="far.boss")
    for n in range(SECTION_LIMIT + 3):  # more than a section shows, dates interleaved with the others'
        customer = CustomerFactory(assigned_to=manager, kyc_review_date=TODAY + dt.timedelta(days=n * 3 - 10))
        _document(customer, n * 7 - 25)
        _deposit(customer, n * 2 + 1)
    closed = CustomerFactory(assigned_to=manager, kyc_review_date=TODAY, status=Customer.Status.CLOSED)
    _document(closed, 4)
    flagged = CustomerFactory(assigned_to=manager, kyc_status=Customer.KycStatus.EXPIRED, kyc_review_date=None)
    _deposit(flagged, 2, parties={flagged: HoldingParty.Role.OWNER, closed: HoldingParty.Role.JOINT})
    restricted = CustomerFactory(assigned_to=manager, kyc_review_date=TODAY)
    _document(restricted, 1)
    Customer.objects.filter(pk=restricted.pk).update(restricted_at=timezone.now())
    shared = CustomerFactory(assigned_to=other_manager, kyc_review_date=TODAY - dt.timedelta(days=30))
    _document(shared, -20)
    _deposit(shared, 1)
    assign_perm("customers.view_customer", manager, shared)
    opened = CustomerFactory(assigned_to=far, external_id="BG-0002", kyc_review_date=TODAY - dt.timedelta(days=2))
    _document(opened, 0)
    _deposit(opened, 0, parties={opened: HoldingParty.Role.JOINT})
    settings.FINPULSE_BREAK_GLASS_HOURS = 2
    asked = request_break_glass(actor=manager, external_id="BG-0002", reason="At the front desk")
    approve_change(checker=boss, change=asked)
    named = CustomerFactory(assigned_to=other_manager, kyc_review_date=TODAY - dt.timedelta(days=40))
    _document(named, -1)
    _deposit(named, 1)
    Customer.objects.filter(pk=named.pk).update(primary_manager=manager)  # named theirs, not held by them

    # Interactions, newest first across every customer: the manager's own customers' (confidential
    # ones by someone else too), the shared and break-glass customers' (a confidential one by their
    # owner, hidden from the manager) and the named one's (filed under the manager, not held).
    now = timezone.now()
    first = (shared.pk, opened.pk, named.pk)  # the newest: compared within the ten shown
    for n, customer in enumerate(sorted(Customer.objects.all(), key=lambda c: (c.pk not in first, c.pk))):
        for k in range(2):
            InteractionFactory(
                customer=customer,
                author=other_manager if customer.pk == named.pk else customer.primary_manager,
                is_confidential=(n + k) % 3 == 0,
                occurred_at=now - dt.timedelta(minutes=n * 5 + k),
            )
    for customer in (mine_by_other := Customer.objects.filter(primary_manager=manager).order_by("pk")[:2]):
        InteractionFactory(customer=customer, author=other_manager, is_confidential=True, occurred_at=now)
    assert len(mine_by_other) == 2

    for user in (manager, other_manager, far, branch_manager, compliance_officer):
        recent = my_day(user=user).recent_interactions
        readable = visible_interactions(user=user).order_by("-occurred_at", "-id")[:RECENT_INTERACTIONS]
        assert [i.pk for i in recent] == [i.pk for i in readable], user.username
        assert recent, user.username  # nothing compared empty
    shown = {i.customer_id: i for i in my_day(user=manager).recent_interactions}
    assert len(shown) < RECENT_INTERACTIONS == len(my_day(user=manager).recent_interactions)
    assert {shared.pk, opened.pk} <= shown.keys() and named.pk not in shown
    for user in (manager, other_manager, far, branch_manager, compliance_officer):
        expected = _expected(user)
        assert _shown(user) == expected, user.username
        assert all(rows for rows, _ in expected.values()), user.username  # nothing compared empty
    shown = _shown(manager)
    assert {customer for customer, _ in shown["documents"][0]} >= {shared.pk, opened.pk}
    assert named.pk not in {customer for rows, _ in shown.values() for customer, _ in rows}
    assert shown["documents"][1] and shown["maturing"][1] and shown["kyc"][1]


@pytest.mark.parametrize(("role", "reads_book_dates"), [("manager", True), ("branch_manager", False)])
def test_a_manager_reads_the_book_dates_and_a_branch_does_not(request, role, reads_book_dates, manager):
    CustomerFactory(assigned_to=manager)
    with CaptureQueriesContext(connection) as queries:
        my_day(user=request.getfixturevalue(role))
    statement = next(q["sql"] for q in queries.captured_queries if "tasks_task" in q["sql"])
    assert ("workspace_bookdate" in statement) is reads_book_dates


def test_the_business_date_moves_the_sections_with_no_write(manager, settings):
    """The book dates hold dates, not windows: the next business day's sections (and the manager's
    KYC part, compiled once with a marker day) need no write."""
    customer = CustomerFactory(assigned_to=manager)
    later = CustomerFactory(assigned_to=manager, kyc_review_date=TODAY + dt.timedelta(days=kyc_review_days() + 20))
    far_off = (documents_expiring_within(today=TODAY) - TODAY).days + 20
    _document(customer, far_off)
    day = my_day(user=manager)
    assert day.expiring_documents.items == [] and day.kyc_reviews.items == []

    settings.FINPULSE_BUSINESS_DATE = (TODAY + dt.timedelta(days=30)).isoformat()

    day = my_day(user=manager)
    assert [item.customer_id for item in day.expiring_documents.items] == [customer.pk]
    assert [item.customer_id for item in day.kyc_reviews.items] == [later.pk]


@pytest.mark.django_db
def test_the_migrations_leave_the_book_dates_with_statistics():
    # PostgreSQL marks a table never analysed with reltuples -1; the dashboard's plans need them.
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'workspace_bookdate'")
        (reltuples,) = cursor.fetchone()

    assert reltuples >= 0
