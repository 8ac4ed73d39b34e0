"""The book report: what a manager's customers hold and owe, what matures in the next 13 weeks,
who is overdue for contact, how many tasks were done on time, how much advice was accepted, and
the value of the open opportunities by pipeline stage.

Who sees what: every figure starts from the viewer's customer_scope (apps.customers.visibility),
the rule behind visible_customers. A relationship manager gets their book; a branch manager
their branch (and what is assigned to them), with the same figures per manager (the customers'
primary manager) and for the branch; compliance and administrators the whole bank, per manager.

Every figure is an aggregation in PostgreSQL (Sum, Count, GROUP BY): the page runs the same
dozen queries for a book of 50 or a branch of 100,000 customers, and nothing here loops over
holdings, customers or tasks, only over the grouped rows (a category and a currency, a week, a
segment). Amounts stay in their currency; a reporting-currency figure uses the rate the bank
loaded (apps.core.fx) and is missing, never guessed, where there is none.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.accounts.models import Holding, HoldingParty
from apps.accounts.positions import BookPosition, book_positions, holding_positions
from apps.core.business_date import business_today
from apps.core.fx import Conversion, conversions_on, reporting_currency
from apps.core.plans import planned_with_values
from apps.core.windows import relationship_cadence_days
from apps.customers.models import Customer
from apps.customers.visibility import CustomerScope, customer_scope
from apps.opportunities.models import Opportunity
from apps.opportunities.selectors import visible_opportunities
from apps.products.models import Segment
from apps.recommendations.models import RecommendationFeedback
from apps.tasks.models import Task
from apps.workspace.customer_list import contact_overdue, with_contact_dates

if TYPE_CHECKING:
    from apps.identity.models import User

LADDER_WEEKS = 13
UNASSIGNED = 0  # the "manager" of customers without a primary manager in per-manager figures
_ZERO = Decimal("0.00")


def report_period_days() -> int:
    return int(settings.FINPULSE_REPORT_PERIOD_DAYS)


@dataclass(frozen=True)
class ReportPeriod:
    """Tasks due and advice decided between these dates (both included)."""

    start: dt.date
    end: dt.date

    @classmethod
    def ending(cls, today: dt.date, days: int | None = None) -> ReportPeriod:
        return cls(start=today - dt.timedelta(days=(days or report_period_days()) - 1), end=today)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end + 1 day) as aware datetimes in the bank's time zone."""
        zone = timezone.get_current_timezone()
        start = dt.datetime.combine(self.start, dt.time.min, tzinfo=zone)
        end = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        return start, end


@dataclass
class Money:
    """An amount in its own currency, and in the reporting currency when the bank loaded a rate."""

    currency: str
    amount: Decimal
    converted: Decimal | None

    @property
    def is_missing(self) -> bool:
        return self.converted is None


@dataclass
class Converted:
    """A reporting-currency total, and what could not be converted into it (listed, not guessed)."""

    total: Decimal = _ZERO
    missing: list[Money] = field(default_factory=list)

    def add(self, money: Money) -> None:
        if money.converted is None:
            if money.amount:
                self.missing.append(money)
        else:
            self.total += money.converted

    @property
    def is_complete(self) -> bool:
        return not self.missing


@dataclass
class PositionRow:
    """Held or owed in one category and currency (a bar of the assets and liabilities chart)."""

    category: str
    category_label: str
    side: str  # "held" or "owed"
    money: Money
    holdings: int


@dataclass
class LadderWeek:
    """What matures in one of the next 13 weeks: deposits and investments paid out (held) and
    loans falling due (owed), per currency, and both in the reporting currency."""

    index: int
    start: dt.date
    end: dt.date
    held: list[Money] = field(default_factory=list)
    owed: list[Money] = field(default_factory=list)
    held_total: Converted = field(default_factory=Converted)
    owed_total: Converted = field(default_factory=Converted)
    holdings: int = 0


@dataclass
class CadenceRow:
    """Active customers of one segment, and how many are overdue for contact."""

    segment: str
    label: str
    cadence_days: int
    customers: int = 0
    overdue: int = 0

    @property
    def compliant(self) -> int:
        return self.customers - self.overdue

    @property
    def compliance_percent(self) -> int | None:
        return None if not self.customers else round(100 * self.compliant / self.customers)


@dataclass
class TaskFigures:
    """Tasks due in the period (cancelled ones left out) and how they ended."""

    due: int = 0
    on_time: int = 0
    late: int = 0
    open_overdue: int = 0
    open_not_due: int = 0

    def add(self, other: TaskFigures) -> None:
        for name in ("due", "on_time", "late", "open_overdue", "open_not_due"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def on_time_percent(self) -> int | None:
        return None if not self.due else round(100 * self.on_time / self.due)


@dataclass
class AdviceFigures:
    """Managers' decisions on recommended products in the period."""

    accepted: int = 0
    dismissed: int = 0

    def add(self, other: AdviceFigures) -> None:
        self.accepted += other.accepted
        self.dismissed += other.dismissed

    @property
    def decided(self) -> int:
        return self.accepted + self.dismissed

    @property
    def accepted_percent(self) -> int | None:
        return None if not self.decided else round(100 * self.accepted / self.decided)


@dataclass
class ManagerRow:
    """One manager's book in a branch report (or the customers with no manager: id 0)."""

    manager_id: int
    name: str
    held: Converted = field(default_factory=Converted)
    owed: Converted = field(default_factory=Converted)
    maturing: Converted = field(default_factory=Converted)
    customers: int = 0
    overdue: int = 0
    tasks: TaskFigures = field(default_factory=TaskFigures)
    advice: AdviceFigures = field(default_factory=AdviceFigures)


@dataclass
class PipelineStage:
    """Open opportunities in one stage: their value per currency, and weighted by probability."""

    name: str
    position: int
    opportunities: int = 0
    value: list[Money] = field(default_factory=list)
    weighted: list[Money] = field(default_factory=list)
    value_total: Converted = field(default_factory=Converted)
    weighted_total: Converted = field(default_factory=Converted)


@dataclass
class BookReport:
    today: dt.date
    period: ReportPeriod
    reporting_currency: str
    per_manager: bool
    conversions: dict[str, Conversion]
    positions: list[PositionRow]
    held: Converted
    owed: Converted
    ladder: list[LadderWeek]
    cadence: list[CadenceRow]
    tasks: TaskFigures
    advice: AdviceFigures
    managers: list[ManagerRow]
    pipeline: list[PipelineStage] = field(default_factory=list)

    @property
    def pipeline_total(self) -> tuple[Converted, Converted]:
        """The whole pipeline's value and weighted value in the reporting currency."""
        value, weighted = Converted(), Converted()
        for stage in self.pipeline:
            for money in stage.value:
                value.add(money)
            for money in stage.weighted:
                weighted.add(money)
        return value, weighted

    @property
    def missing_rates(self) -> list[Conversion]:
        return [c for c in self.conversions.values() if c.is_missing]

    @property
    def missing_currencies(self) -> list[str]:
        """The currencies without a rate, for a sentence that names them ("USD, JPY")."""
        return [c.currency for c in self.missing_rates]

    @property
    def used_rates(self) -> list[Conversion]:
        return [c for c in self.conversions.values() if not c.is_missing and c.currency != c.reporting_currency]


class DaysFrom(Func):
    """Whole days from a date value to a date column (PostgreSQL: date - date is an integer)."""

    template = "(%(expressions)s)"
    arg_joiner = " - "
    output_field = IntegerField()


def shows_managers(user: User) -> bool:
    """Branch managers, compliance and administrators see the figures per manager."""
    return bool(user.is_branch_manager or user.is_compliance_officer or user.is_administrator)


def _parties(scope: CustomerScope) -> QuerySet[HoldingParty]:
    return HoldingParty.objects.filter(scope.rows("customer"))


def _money(position: BookPosition, side: str, conversions: dict[str, Conversion]) -> Money:
    amount: Decimal = getattr(position, side)
    return Money(position.currency, amount, conversions[position.currency].convert(amount))


def maturity_ladder_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """The ladder's first and last maturity dates: today and 13 weeks on (91 days, today included)."""
    return today, today + dt.timedelta(days=7 * LADDER_WEEKS - 1)


def ladder_week_dates(today: dt.date, index: int) -> tuple[dt.date, dt.date]:
    start = today + dt.timedelta(days=7 * index)
    return start, start + dt.timedelta(days=6)


def _week_of_maturity(today: dt.date) -> Any:  # Any: a query expression
    return DaysFrom(F("maturity_date"), Value(today, output_field=DateField())) / Value(7)


def _maturing(parties: QuerySet[HoldingParty], today: dt.date) -> QuerySet[HoldingParty]:
    first, last = maturity_ladder_window(today)
    return parties.filter(holding__maturity_date__range=(first, last))


def _cadence_rows(scope: CustomerScope, today: dt.date) -> list[tuple[str, int, int, int]]:
    """(segment, manager id, customers, overdue) of active customers in segments with a cadence."""
    customers = with_contact_dates(
        scope.customers().filter(status=Customer.Status.ACTIVE, segment__in=list(relationship_cadence_days()))
    )
    rows = (
        customers.order_by()
        .values("segment", manager=Coalesce(F("primary_manager_id"), Value(UNASSIGNED)))
        .annotate(customers=Count("pk"), overdue=Count("pk", filter=contact_overdue(today=today)))
        .values_list("segment", "manager", "customers", "overdue")
    )
    return list(rows)


def _task_rows(scope: CustomerScope, period: ReportPeriod) -> list[tuple[int, TaskFigures]]:
    start, end = period.bounds()
    now = timezone.now()
    done = Q(status=Task.Status.DONE)
    rows = (
        Task.objects.filter(scope.rows("customer"), due_at__gte=start, due_at__lt=end)
        .exclude(status=Task.Status.CANCELLED)
        .order_by()
        .values(manager=Coalesce(F("customer__primary_manager_id"), Value(UNASSIGNED)))
        .annotate(
            due=Count("pk"),
            on_time=Count("pk", filter=done & Q(completed_at__lte=F("due_at"))),
            late=Count("pk", filter=done & Q(completed_at__gt=F("due_at"))),
            open_overdue=Count("pk", filter=Q(status=Task.Status.OPEN, due_at__lt=now)),
            open_not_due=Count("pk", filter=Q(status=Task.Status.OPEN, due_at__gte=now)),
        )
        .values_list("manager", "due", "on_time", "late", "open_overdue", "open_not_due")
    )
    return [(manager, TaskFigures(*figures)) for manager, *figures in rows]


def _advice_rows(scope: CustomerScope, period: ReportPeriod) -> list[tuple[int, AdviceFigures]]:
    start, end = period.bounds()
    rows = (
        RecommendationFeedback.objects.filter(
            scope.rows("recommendation__customer"), created_at__gte=start, created_at__lt=end
        )
        .order_by()
        .values(manager=Coalesce(F("recommendation__customer__primary_manager_id"), Value(UNASSIGNED)))
        .annotate(
            accepted=Count("pk", filter=Q(decision=RecommendationFeedback.Decision.ACCEPTED)),
            dismissed=Count("pk", filter=Q(decision=RecommendationFeedback.Decision.DISMISSED)),
        )
        .values_list("manager", "accepted", "dismissed")
    )
    return [(manager, AdviceFigures(accepted, dismissed)) for manager, accepted, dismissed in rows]


def _pipeline_rows(user: User) -> list[tuple[int, str, str, int, Decimal, Decimal]]:
    """(stage position, stage name, currency, count, value, value x probability %) of the open
    opportunities the user may see (apps.opportunities.selectors: the customer and lead rules),
    grouped in PostgreSQL: one query, whatever the number of opportunities."""
    weighted = ExpressionWrapper(
        F("amount") * F("probability"), output_field=DecimalField(max_digits=21, decimal_places=2)
    )
    rows = (
        visible_opportunities(user=user)
        .filter(outcome=Opportunity.Outcome.OPEN)
        .order_by()
        .values("stage__position", "stage__name", "currency")
        .annotate(count=Count("pk"), value=Sum("amount"), weighted=Sum(weighted))
        .order_by("stage__position", "currency")
        .values_list("stage__position", "stage__name", "currency", "count", "value", "weighted")
    )
    cent = Decimal("0.01")
    return [(p, name, cur, n, value, (weighted / 100).quantize(cent)) for p, name, cur, n, value, weighted in rows]


def _manager_names(ids: Iterable[int]) -> dict[int, str]:
    wanted = [pk for pk in set(ids) if pk != UNASSIGNED]
    names = {UNASSIGNED: "No relationship manager"}
    for pk, username, first, last in (
        get_user_model().objects.filter(pk__in=wanted).values_list("pk", "username", "first_name", "last_name")
    ):
        names[pk] = f"{first} {last}".strip() or username
    return names


@planned_with_values()  # decision 142: a branch's task figures under a generic plan took 14 s, not 0.2
def book_report(
    *, user: User, currency: str | None = None, period: ReportPeriod | None = None, today: dt.date | None = None
) -> BookReport:
    """The book report for `user` (see the module docstring for who sees what). A fixed number
    of queries: one per figure, plus one for the rates and one for the managers' names."""
    today = today or business_today()
    period = period or ReportPeriod.ending(today)
    currency = currency or reporting_currency()
    scope = customer_scope(user=user)
    per_manager = shows_managers(user)
    parties = _parties(scope)

    positions = holding_positions(parties, fp_category=F("category"))
    maturing = holding_positions(
        parties, Q(maturity_date__range=maturity_ladder_window(today)), fp_week=_week_of_maturity(today)
    )
    manager_key = Coalesce(F("customer__primary_manager_id"), Value(UNASSIGNED))
    by_manager = book_positions(parties, manager=manager_key) if per_manager else []
    maturing_by_manager = book_positions(_maturing(parties, today), manager=manager_key) if per_manager else []
    cadence_rows = _cadence_rows(scope, today)
    task_rows = _task_rows(scope, period)
    advice_rows = _advice_rows(scope, period)
    pipeline_rows = _pipeline_rows(user)

    currencies = {p.currency for p in (*positions, *maturing, *by_manager, *maturing_by_manager)}
    currencies |= {row[2] for row in pipeline_rows}
    conversions = conversions_on(currencies=currencies, to=currency, on=today)

    labels = dict(Holding.Category.choices)
    rows: list[PositionRow] = []
    held, owed = Converted(), Converted()
    for position in positions:
        for side, total in (("held", held), ("owed", owed)):
            money = _money(position, side, conversions)
            if money.amount:
                category = position.group["fp_category"]
                rows.append(PositionRow(category, labels.get(category, category), side, money, position.holdings))
                total.add(money)

    ladder = [LadderWeek(index, *ladder_week_dates(today, index)) for index in range(LADDER_WEEKS)]
    for position in maturing:
        week = ladder[int(position.group["fp_week"])]
        week.holdings += position.holdings
        for side, amounts, total in (("held", week.held, week.held_total), ("owed", week.owed, week.owed_total)):
            money = _money(position, side, conversions)
            if money.amount:
                amounts.append(money)
                total.add(money)

    cadence_days = relationship_cadence_days()
    cadence = {
        segment: CadenceRow(segment, label, cadence_days[segment])
        for segment, label in Segment.choices
        if segment in cadence_days
    }
    tasks, advice = TaskFigures(), AdviceFigures()
    managers: dict[int, ManagerRow] = defaultdict(lambda: ManagerRow(0, ""))
    for segment, manager, customers, overdue in cadence_rows:
        cadence[segment].customers += customers
        cadence[segment].overdue += overdue
        managers[manager].customers += customers
        managers[manager].overdue += overdue
    for manager, figures in task_rows:
        tasks.add(figures)
        managers[manager].tasks.add(figures)
    for manager, decisions in advice_rows:
        advice.add(decisions)
        managers[manager].advice.add(decisions)
    for position in by_manager:
        row = managers[position.group["manager"]]
        row.held.add(_money(position, "held", conversions))
        row.owed.add(_money(position, "owed", conversions))
    for position in maturing_by_manager:
        row = managers[position.group["manager"]]
        row.maturing.add(_money(position, "held", conversions))
        row.maturing.add(_money(position, "owed", conversions))

    pipeline: dict[int, PipelineStage] = {}
    for stage_position, name, code, count, value, weighted_value in pipeline_rows:
        stage = pipeline.setdefault(stage_position, PipelineStage(name, stage_position))
        stage.opportunities += count
        for amounts, total, amount in (
            (stage.value, stage.value_total, value),
            (stage.weighted, stage.weighted_total, weighted_value),
        ):
            money = Money(code, amount, conversions[code].convert(amount))
            amounts.append(money)
            total.add(money)

    manager_rows: list[ManagerRow] = []
    if per_manager:
        names = _manager_names(managers)
        for manager_id, row in managers.items():
            row.manager_id, row.name = manager_id, names.get(manager_id, "")
            manager_rows.append(row)
        manager_rows.sort(key=lambda r: (r.manager_id == UNASSIGNED, r.name.lower()))

    return BookReport(
        today=today,
        period=period,
        reporting_currency=currency,
        per_manager=per_manager,
        conversions=conversions,
        positions=rows,
        held=held,
        owed=owed,
        ladder=ladder,
        cadence=list(cadence.values()),
        tasks=tasks,
        advice=advice,
        managers=manager_rows,
        pipeline=list(pipeline.values()),
    )
