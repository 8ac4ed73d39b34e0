"""The manager's day: what is due, what is about to mature or expire, what was said lately.

Every list starts from what the user may see, is capped at SECTION_LIMIT rows and costs one
query, so the page costs the same for a manager with 50 customers and a compliance officer
who sees a million. Who sees which customer is decided once per page (customer_scope: the
same rule as visible_customers, in the form that is cheap to put on five tables) and every
section filters by that one scope. Each row says why it is there: the rule (in the bank's
words and as its code) and the date that put it there.

Interactions, notifications and leads come from their own apps' selectors.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Holding, HoldingParty
from apps.core.business_date import business_today
from apps.core.errors import NotFound
from apps.core.windows import (
    DOCUMENT_EXPIRED_LOOKBACK_DAYS,
    document_expiry_days,
    documents_expiring_within,
    kyc_review_days,
    maturing_days,
    maturing_within,
)
from apps.customers.fields import DOCUMENT_ROW_FIELDS
from apps.customers.models import Customer, IdentityDocument
from apps.customers.visibility import CustomerScope, customer_scope
from apps.interactions.models import Interaction
from apps.interactions.selectors import recent_interactions
from apps.leads.models import Lead
from apps.leads.selectors import new_leads_for
from apps.notifications.models import Notification
from apps.notifications.selectors import unread_notifications
from apps.tasks.models import Task
from apps.workspace.customer_360 import Money
from apps.workspace.customer_list import kyc_review_due
from apps.workspace.models import SavedView

if TYPE_CHECKING:
    from apps.identity.models import User

SECTION_LIMIT = 10  # a day's list to act on; each section links to the full list
RECENT_INTERACTIONS = 10


@dataclass(frozen=True)
class WorkItem:
    """One line of the day: which customer, what, why (rule and date)."""

    customer_id: int
    customer_name: str
    title: str
    rule: str
    rule_code: str
    date: dt.date | dt.datetime
    date_label: str
    is_overdue: bool = False
    amount: Money | None = None


@dataclass
class Section:
    title: str
    items: list[WorkItem]
    has_more: bool = False


@dataclass
class MyDay:
    today: dt.date
    tasks: Section
    maturing_holdings: Section
    expiring_documents: Section
    kyc_reviews: Section
    recent_interactions: list[Interaction]
    unread_notifications: list[Notification]
    new_leads: list[Lead]


def _capped(rows: list[Any]) -> tuple[list[Any], bool]:
    return rows[:SECTION_LIMIT], len(rows) > SECTION_LIMIT


def _day_bounds(today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    return start, start + dt.timedelta(days=1)


def tasks_due(*, user: User, today: dt.date, scope: CustomerScope | None = None) -> Section:
    """Open tasks assigned to the user on customers they see (visible_tasks), due today or
    overdue, oldest first."""
    scope = scope or customer_scope(user=user)
    start, end = _day_bounds(today)
    rows, more = _capped(
        list(
            Task.objects.filter(scope.rows(), assignee=user, status=Task.Status.OPEN, due_at__lt=end)
            .select_related("customer")
            .only(
                "id",
                "title",
                "due_at",
                "priority",
                "source",
                "source_rule",
                "customer__id",
                "customer__display_name",
            )
            .order_by("due_at", "-priority", "id")[: SECTION_LIMIT + 1]
        )
    )
    items = []
    for task in rows:
        overdue = task.due_at < start
        items.append(
            WorkItem(
                customer_id=task.customer.pk,
                customer_name=task.customer.display_name,
                title=task.title,
                rule=("Overdue task" if overdue else "Task due today") + f" · {task.get_source_display()}",
                rule_code=task.source_rule or f"task:{task.source}",
                date=timezone.localtime(task.due_at),
                date_label="Was due" if overdue else "Due",
                is_overdue=overdue,
            )
        )
    return Section(title="Tasks due today and overdue", items=items, has_more=more)


def maturing_holdings(*, user: User, today: dt.date, scope: CustomerScope | None = None) -> Section:
    """Active holdings of visible customers (as owner or joint holder) maturing in the window."""
    scope = scope or customer_scope(user=user)
    days = maturing_days()
    until = maturing_within(today=today)
    rows, more = _capped(
        list(
            HoldingParty.objects.filter(
                scope.rows(),
                role__in=[HoldingParty.Role.OWNER, HoldingParty.Role.JOINT],
                holding__status=Holding.Status.ACTIVE,
                holding__maturity_date__range=(today, until),
            )
            .select_related("holding", "customer")
            .only(
                "id",
                "role",
                "customer__id",
                "customer__display_name",
                "holding__id",
                "holding__category",
                "holding__number_hint",
                "holding__currency",
                "holding__balance",
                "holding__maturity_date",
                "holding__maturity_instruction",
            )
            .order_by("holding__maturity_date", "holding_id", "customer_id")[: SECTION_LIMIT + 1]
        )
    )
    items = []
    for party in rows:
        holding = party.holding
        instruction = holding.get_maturity_instruction_display()
        items.append(
            WorkItem(
                customer_id=party.customer.pk,
                customer_name=party.customer.display_name,
                title=f"{holding.get_category_display()} {holding.number_hint}".strip(),
                rule=f"Matures within {days} days" + (f" · instruction: {instruction.lower()}" if instruction else ""),
                rule_code=f"maturity:{days}d",
                date=holding.maturity_date,
                date_label="Matures",
                amount=Money(amount=holding.balance, currency=holding.currency),
            )
        )
    return Section(title=f"Maturing in the next {days} days", items=items, has_more=more)


def expiring_documents(*, user: User, today: dt.date, scope: CustomerScope | None = None) -> Section:
    """Identity documents of visible customers expiring soon, or lately expired."""
    scope = scope or customer_scope(user=user)
    since = today - dt.timedelta(days=DOCUMENT_EXPIRED_LOOKBACK_DAYS)
    until = documents_expiring_within(today=today)
    days = document_expiry_days()
    rows, more = _capped(
        list(
            IdentityDocument.objects.filter(scope.rows(), expiry_date__range=(since, until))
            .select_related("customer")
            .only(*DOCUMENT_ROW_FIELDS)
            .order_by("expiry_date", "id")[: SECTION_LIMIT + 1]
        )
    )
    items = []
    for document in rows:
        expired = document.expiry_date < today
        items.append(
            WorkItem(
                customer_id=document.customer.pk,
                customer_name=document.customer.display_name,
                title=f"{document.get_document_type_display()} {document.number_hint}".strip(),
                rule="Identity document expired" if expired else f"Identity document expires within {days} days",
                rule_code=f"document_expiry:{days}d",
                date=document.expiry_date,
                date_label="Expired" if expired else "Expires",
                is_overdue=expired,
            )
        )
    title = f"Identity documents expiring in the next {days} days"
    return Section(title=title, items=items, has_more=more)


def kyc_reviews_due(*, user: User, today: dt.date, scope: CustomerScope | None = None) -> Section:
    """Visible, not closed customers whose KYC review is due (same rule as the list filter)."""
    scope = scope or customer_scope(user=user)
    days = kyc_review_days()
    rows, more = _capped(
        list(
            scope.customers()
            .filter(kyc_review_due(today=today))
            .exclude(status=Customer.Status.CLOSED)
            .only("id", "display_name", "kyc_status", "kyc_review_date")
            # Oldest review date first, in the order of the kyc_review_date index (so a compliance
            # officer's million customers are read in index order, not sorted); customers flagged
            # by status without a date come last.
            .order_by(F("kyc_review_date").asc(nulls_last=True), "id")[: SECTION_LIMIT + 1]
        )
    )
    items = []
    for customer in rows:
        date = customer.kyc_review_date
        overdue = date is None or date < today
        if date is None:
            rule = f"KYC status: {customer.get_kyc_status_display()}"
        elif date < today:
            rule = "KYC review overdue"
        else:
            rule = f"KYC review within {days} days"
        items.append(
            WorkItem(
                customer_id=customer.pk,
                customer_name=customer.display_name,
                title=f"KYC review ({customer.get_kyc_status_display()})",
                rule=rule,
                rule_code=f"kyc_review:{days}d",
                date=date or today,
                date_label="Review" if date else "Flagged",
                is_overdue=overdue,
            )
        )
    return Section(title="KYC reviews due", items=items, has_more=more)


def my_day(*, user: User) -> MyDay:
    today = business_today()
    # Who sees which customer is decided once; every section filters by the same scope.
    scope = customer_scope(user=user)
    return MyDay(
        today=today,
        tasks=tasks_due(user=user, today=today, scope=scope),
        maturing_holdings=maturing_holdings(user=user, today=today, scope=scope),
        expiring_documents=expiring_documents(user=user, today=today, scope=scope),
        kyc_reviews=kyc_reviews_due(user=user, today=today, scope=scope),
        recent_interactions=list(recent_interactions(user=user, limit=RECENT_INTERACTIONS, scope=scope)),
        unread_notifications=unread_notifications(user=user, limit=SECTION_LIMIT),
        new_leads=new_leads_for(user=user, limit=SECTION_LIMIT),
    )


# --- saved views of the customer list -------------------------------------------------------


def visible_views(*, user: User) -> QuerySet[SavedView]:
    """Saved views a user may open: their own, and those shared with their branch."""
    if not getattr(user, "is_authenticated", False):
        return SavedView.objects.none()
    shared = Q(sharing=SavedView.Sharing.BRANCH, branch_id=user.branch_id) if user.branch_id else Q(pk__in=[])
    return SavedView.objects.filter(Q(owner=user) | shared)


def view_for_user(*, user: User, view_id: Any) -> SavedView:
    """One saved view the user may open; missing and someone else's private one look alike (404)."""
    try:
        return visible_views(user=user).select_related("owner").get(pk=int(view_id))
    except (SavedView.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such saved view.") from None


def pinned_views(*, user: User) -> list[SavedView]:
    """The views the user pinned on their dashboard (still visible to them), by name. One query."""
    return list(visible_views(user=user).filter(pinned_by=user).order_by("name", "pk"))
