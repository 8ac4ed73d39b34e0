"""Every "how soon" the bank uses, and which rate applies on a date: one home for date rules.

The alert scans, the dashboard, the customer list's filters, the advice snapshot and the API all
call these functions; none writes its own `timedelta(days=30)`. Each reads the settings when it
is called (never at import), so changing a setting moves every surface at once:

- FINPULSE_MATURITY_THRESHOLDS: days before maturity that raise an alert, per product category.
  "Maturing" on the list and the dashboard is the longest of them, so whatever the alerts will
  warn about is on the list already.
- FINPULSE_DOCUMENT_EXPIRY_DAYS: days before an identity document expires that raise an alert;
  the dashboard shows documents expiring within the longest of them.
- FINPULSE_KYC_REVIEW_NOTICE_DAYS: a KYC review dated within this many days is due (alerts, the
  dashboard, the list filter and the advice snapshot).
- FINPULSE_ADVICE_MATURITY_DAYS: how far ahead the advice snapshot looks for maturities (advice
  prepares a renewal earlier than the alerts chase it).
- FINPULSE_RELATIONSHIP_CADENCE_DAYS: per segment, how long a customer may go without contact
  before the relationship scan (and the demo's planted history) calls it overdue.
- FINPULSE_TASK_ESCALATION_DAYS: an open follow-up this many days past due goes to the branch
  manager.

"Today" itself comes from apps.core.business_date; these take it as an argument.

The rate rule is written once, as a filter on the rate table's columns, so it runs in SQL
whether the date, amount and term are values (a product page) or columns of another table
(the scan reads the rate on each holding's maturity date in the same query as the holdings).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Case, DateField, Expression, F, Func, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

# Identity documents that expired this recently still show on the dashboard (chase the new one).
DOCUMENT_EXPIRED_LOOKBACK_DAYS = 30
# Interactions older than this say little about what the customer wants now (advice snapshot).
ADVICE_INTENT_DAYS = 180


# --- maturities --------------------------------------------------------------------------------


def maturity_thresholds(category: str) -> tuple[int, ...]:
    """Days before maturity that raise an alert for this product category, longest first."""
    return tuple(sorted({int(d) for d in settings.FINPULSE_MATURITY_THRESHOLDS.get(category) or ()}, reverse=True))


def maturity_thresholds_by_category() -> dict[str, tuple[int, ...]]:
    """Every category that has thresholds, with them (longest first)."""
    by_category = {category: maturity_thresholds(category) for category in settings.FINPULSE_MATURITY_THRESHOLDS}
    return {category: days for category, days in by_category.items() if days}


def maturing_days(category: str | None = None) -> int:
    """How many days ahead counts as "maturing": the longest alert threshold (of the category,
    or of every category for the list and the dashboard); 0 when none is configured."""
    if category is not None:
        return max(maturity_thresholds(category), default=0)
    return max((days[0] for days in maturity_thresholds_by_category().values()), default=0)


def maturing_within(*, today: dt.date, category: str | None = None) -> dt.date:
    """The last maturity date a list, a dashboard or a scan calls "maturing"."""
    return today + dt.timedelta(days=maturing_days(category))


def advice_maturity_days() -> int:
    """How far ahead the advice snapshot lists maturities."""
    return int(settings.FINPULSE_ADVICE_MATURITY_DAYS)


# --- identity documents and KYC ----------------------------------------------------------------


def document_expiry_thresholds() -> tuple[int, ...]:
    """Days before an identity document expires that raise an alert, longest first."""
    return tuple(sorted({int(d) for d in settings.FINPULSE_DOCUMENT_EXPIRY_DAYS}, reverse=True))


def document_expiry_days() -> int:
    return max(document_expiry_thresholds(), default=0)


def documents_expiring_within(*, today: dt.date) -> dt.date:
    """The last expiry date the dashboard and the scan call "expiring"."""
    return today + dt.timedelta(days=document_expiry_days())


def kyc_review_days() -> int:
    return int(settings.FINPULSE_KYC_REVIEW_NOTICE_DAYS)


def kyc_review_due_by(*, today: dt.date) -> dt.date:
    """A KYC review dated on or before this is due (or overdue)."""
    return today + dt.timedelta(days=kyc_review_days())


def kyc_review_is_due(review_date: dt.date | None, *, today: dt.date) -> bool:
    """The same rule for one date already loaded (the advice snapshot has no database)."""
    return review_date is not None and review_date <= kyc_review_due_by(today=today)


# --- relationship cadence and task escalation ---------------------------------------------------


def relationship_cadence_days() -> dict[str, int]:
    """Per customer segment, the days without contact after which a relationship is overdue."""
    return {segment: int(days) for segment, days in settings.FINPULSE_RELATIONSHIP_CADENCE_DAYS.items()}


def relationship_contact_cutoff(*, segment: str, today: dt.date) -> dt.date | None:
    """A customer of this segment last contacted before this date is overdue; None: no cadence."""
    days = relationship_cadence_days().get(segment)
    return None if days is None else today - dt.timedelta(days=days)


def relationship_overdue(*, today: dt.date, last_contact: str, since: str, segment: str = "segment") -> Q:
    """Customers whose relationship is overdue, as a filter: no contact (the date in the
    `last_contact` column) since their segment's cutoff, or none at all and a customer since
    before it (`since`). Segments without a cadence are never overdue."""
    segments = sorted(relationship_cadence_days())
    cutoffs = {name: relationship_contact_cutoff(segment=name, today=today) for name in segments}
    if not cutoffs:
        return Q(pk__in=[])
    # The segment's cutoff as one CASE, and the last contact (or, with none, the date they became
    # customers) named once: `last_contact` is usually a correlated subquery, which SQL repeats
    # wherever it is named. Written as one OR branch per segment it was named eight times, and the
    # planner costed the whole-bank cadence count at eight subqueries a customer, enough to turn on
    # PostgreSQL's JIT compiler with inlining and optimisation: most of the book report's time at
    # 100,000 customers (docs/operations.md, "Book report plan").
    cutoff = Case(
        *(When(**{segment: name}, then=Value(day)) for name, day in cutoffs.items()),
        output_field=DateField(),
    )
    return Q(**{f"{segment}__in": list(cutoffs)}) & Q(LessThan(Coalesce(F(last_contact), F(since)), cutoff))


def task_escalation_days() -> int:
    """Days past due after which an open follow-up goes to the branch manager."""
    return int(settings.FINPULSE_TASK_ESCALATION_DAYS)


# --- the rate on a date ------------------------------------------------------------------------

# When several slabs match, the newest effective date wins, then the highest amount floor and
# the longest term floor (the most specific slab).
RATE_PRECEDENCE = ("-effective_from", "-min_amount", "-min_term_months")


def rate_slab_on(*, on: dt.date | Any, amount: Decimal | Any | None = None, term_months: int | Any | None = None) -> Q:
    """The rate slabs (rows of products.ProductRate) that apply on a date to an amount and a term.

    `on`, `amount` and `term_months` are values or query expressions (OuterRef, F): the rule is
    the same SQL either way. Order the matches by RATE_PRECEDENCE and take the first. A rate
    change is a new dated row, so the rate on any past or future date can be answered.
    """
    slab = Q(effective_from__lte=on)
    if amount is not None:
        slab &= Q(min_amount__lte=amount) & (Q(max_amount__isnull=True) | Q(max_amount__gt=amount))
    if term_months is not None:
        slab &= Q(min_term_months__lte=term_months) & (
            Q(max_term_months__isnull=True) | Q(max_term_months__gte=term_months)
        )
    return slab


class WholeMonthsBetween(Func):
    """Whole months from one date column to another (a holding's term: opened to maturity).

    PostgreSQL's age() counts calendar months, so 31 Jan to 29 Feb is 0 months, 31 Jan to
    31 Mar is 2.
    """

    output_field = IntegerField()

    def __init__(self, start: str | Expression, end: str | Expression) -> None:
        super().__init__(F(end) if isinstance(end, str) else end, F(start) if isinstance(start, str) else start)

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, *args: Any, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(Func(*self.source_expressions, function="AGE"))
        months = f"(EXTRACT(YEAR FROM {sql}) * 12 + EXTRACT(MONTH FROM {sql}))::integer"
        return months, (*params, *params)
