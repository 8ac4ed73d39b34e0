"""The fixed part of the demo: branches, staff in every role and the product catalog."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from apps.identity import roles
from apps.products.models import ProductFee

# The documented demo login (docs/demo.md); the seed refuses to run in production.
DEFAULT_DEMO_PASSWORD = "finpulse-demo-2026"  # noqa: S105  # nosec B105

# ---------------------------------------------------------------------------------------------
# Branches and staff
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BranchSpec:
    code: str
    name: str
    city: str


@dataclass(frozen=True)
class UserSpec:
    username: str
    first_name: str
    last_name: str
    role: str
    branch_code: str | None
    is_superuser: bool = False
    book_weight: int = 0  # share of the customer book this person looks after


BRANCHES = (
    BranchSpec("LDN01", "London City", "London"),
    BranchSpec("MAN01", "Manchester", "Manchester"),
    BranchSpec("EDI01", "Edinburgh", "Edinburgh"),
)

USERS = (
    UserSpec("rm.alice", "Alice", "Morgan", roles.RELATIONSHIP_MANAGER, "LDN01", book_weight=28),
    UserSpec("rm.bob", "Bob", "Okafor", roles.RELATIONSHIP_MANAGER, "LDN01", book_weight=24),
    UserSpec("rm.carol", "Carol", "Whitworth", roles.RELATIONSHIP_MANAGER, "MAN01", book_weight=22),
    UserSpec("rm.dan", "Dan", "McAllister", roles.RELATIONSHIP_MANAGER, "EDI01", book_weight=20),
    UserSpec("bm.london", "Priya", "Raman", roles.BRANCH_MANAGER, "LDN01", book_weight=4),
    UserSpec("bm.manchester", "Tom", "Ashworth", roles.BRANCH_MANAGER, "MAN01", book_weight=4),
    UserSpec("compliance.olivia", "Olivia", "Grant", roles.COMPLIANCE_OFFICER, None),
    UserSpec("admin", "Ada", "Administrator", roles.ADMINISTRATOR, None, is_superuser=True),
)

# ---------------------------------------------------------------------------------------------
# Catalog
# ---------------------------------------------------------------------------------------------

# Effective dates of the rate history, in days before the business date.
PREVIOUS, OLDER, CURRENT = 790, 420, 75


@dataclass(frozen=True)
class RateSpec:
    days_ago: int
    rate: str
    min_amount: str = "0"
    max_amount: str | None = None
    min_term: int = 0
    max_term: int | None = None


@dataclass(frozen=True)
class FeeSpec:
    name: str
    amount: str = "0"
    percentage: str | None = None
    frequency: str = ProductFee.Frequency.ONE_OFF


@dataclass(frozen=True)
class ProductSpec:
    code: str
    name: str
    category: str
    description: str
    rates: tuple[RateSpec, ...]
    fees: tuple[FeeSpec, ...] = ()
    branch_codes: tuple[str, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The product's minimum and its slabs agree (add_product_rate refuses otherwise): the
        # slabs written from 0 start at the product's minimum amount instead.
        minimum = self.fields.get("min_amount") or Decimal("0")
        rates = tuple(replace(r, min_amount=str(minimum)) if Decimal(r.min_amount) < minimum else r for r in self.rates)
        object.__setattr__(self, "rates", rates)

    def rate_on(self, on_days_ago: int, amount: Decimal, term: int | None = None) -> Decimal:
        """The slab valid `on_days_ago` days before the business date (mirrors selectors.rate_on)."""
        dated = [r for r in self.rates if r.days_ago >= on_days_ago] or [max(self.rates, key=lambda r: r.days_ago)]
        newest = min(r.days_ago for r in dated)
        for slab in sorted(
            (r for r in dated if r.days_ago == newest), key=lambda r: (Decimal(r.min_amount), r.min_term), reverse=True
        ):
            if amount < Decimal(slab.min_amount) or (slab.max_amount and amount >= Decimal(slab.max_amount)):
                continue
            if term is not None and (term < slab.min_term or (slab.max_term is not None and term > slab.max_term)):
                continue
            return Decimal(slab.rate)
        return Decimal(dated[0].rate)


SLAB_DEFAULTS = ("0", "0", None, 0, None)  # rate, min_amount, max_amount, min_term, max_term


def _history(days: tuple[int, ...], *slab_sets: list[tuple[str, ...]]) -> tuple[RateSpec, ...]:
    """Rate rows for each effective date: slab tuples are (rate, min_amount, max_amount, min_term, max_term)."""
    rows = []
    for days_ago, slabs in zip(days, slab_sets, strict=True):
        for slab in slabs:
            rate, min_amount, max_amount, min_term, max_term = (*slab, *SLAB_DEFAULTS[len(slab) :])
            rows.append(RateSpec(days_ago, rate, min_amount, max_amount, int(min_term), max_term and int(max_term)))
    return tuple(rows)


INDIVIDUAL_SEGMENTS = ["mass", "affluent", "premium", "private"]
WEALTH_SEGMENTS = ["affluent", "premium", "private"]
BUSINESS_SEGMENTS = ["sme", "corporate"]
BUSINESS_ONLY = {"for_individuals": False, "for_businesses": True, "eligible_segments": BUSINESS_SEGMENTS}

PRODUCTS = (
    # Deposits (current accounts, savings, fixed-term deposits)
    ProductSpec(
        "DEP-CUR-EVERYDAY",
        "Everyday Current Account",
        "deposit",
        "Day-to-day account with contactless debit card, mobile banking and an arranged overdraft on request.",
        _history((OLDER, CURRENT), [("0.00",)], [("0.10",)]),
        (FeeSpec("Replacement debit card", "5.00"), FeeSpec("Unarranged overdraft", "0", "39.900", "monthly")),
        fields={"min_age": 16, "eligible_segments": INDIVIDUAL_SEGMENTS, "min_amount": Decimal("0")},
    ),
    ProductSpec(
        "DEP-CUR-PREMIER",
        "Premier Current Account",
        "deposit",
        "Packaged account with travel insurance, airport lounge access and a dedicated relationship manager.",
        _history((OLDER, CURRENT), [("0.25",)], [("0.50",)]),
        (FeeSpec("Monthly account fee", "15.00", frequency="monthly"),),
        fields={"min_age": 18, "min_annual_income": Decimal("75000"), "eligible_segments": ["premium", "private"]},
    ),
    ProductSpec(
        "DEP-SAV-EASY",
        "Easy Access Saver",
        "deposit",
        "Variable-rate savings with unlimited withdrawals; higher balances earn a higher tier.",
        _history(
            (OLDER, CURRENT),
            [("2.10", "0", "10000"), ("2.40", "10000")],
            [("2.60", "0", "10000"), ("3.00", "10000", "100000"), ("3.15", "100000")],
        ),
        fields={"min_amount": Decimal("1"), "max_amount": Decimal("1000000"), "eligible_segments": INDIVIDUAL_SEGMENTS},
    ),
    ProductSpec(
        "DEP-TD-FIXED",
        "Fixed Term Deposit",
        "deposit",
        "Fixed rate for 3 to 60 months; at maturity the deposit renews, pays out or moves to an account.",
        _history(
            (PREVIOUS, OLDER, CURRENT),
            [("3.40", "0", None, 3, 5), ("3.70", "0", None, 6, 11), ("3.90", "0", None, 12, 60)],
            [("4.05", "0", None, 3, 5), ("4.30", "0", None, 6, 11), ("4.50", "0", None, 12, 60)],
            [
                ("3.85", "0", "100000", 3, 5),
                ("4.10", "0", "100000", 6, 11),
                ("4.35", "0", "100000", 12, 60),
                ("4.00", "100000", None, 3, 5),
                ("4.25", "100000", None, 6, 11),
                ("4.50", "100000", None, 12, 60),
            ],
        ),
        fields={
            "min_amount": Decimal("1000"),
            "max_amount": Decimal("2000000"),
            "min_term_months": 3,
            "max_term_months": 60,
            "min_age": 18,
            "eligible_segments": INDIVIDUAL_SEGMENTS,
        },
    ),
    ProductSpec(
        "DEP-TD-EUR",
        "Euro Fixed Term Deposit",
        "deposit",
        "Fixed-term deposit in euros for clients with euro income or property abroad.",
        _history((OLDER, CURRENT), [("2.40", "0", None, 3, 12)], [("2.10", "0", None, 3, 12)]),
        branch_codes=("LDN01", "EDI01"),
        fields={
            "currency": "EUR",
            "min_amount": Decimal("10000"),
            "max_amount": Decimal("5000000"),
            "min_term_months": 3,
            "max_term_months": 12,
            "eligible_segments": WEALTH_SEGMENTS,
        },
    ),
    ProductSpec(
        "DEP-BUS-CUR",
        "Business Current Account",
        "deposit",
        "Business account with online banking, card payments and bulk payments.",
        _history((OLDER, CURRENT), [("0.00",)], [("0.05",)]),
        (
            FeeSpec("Monthly account fee", "8.50", frequency="monthly"),
            FeeSpec("Electronic payment", "0.30", frequency="per_transaction"),
        ),
        fields=dict(BUSINESS_ONLY),
    ),
    ProductSpec(
        "DEP-BUS-TD",
        "Business Treasury Deposit",
        "deposit",
        "Fixed-term placement of surplus business cash from one to twelve months.",
        _history(
            (OLDER, CURRENT),
            [("4.00", "0", None, 1, 5), ("4.20", "0", None, 6, 12)],
            [
                ("3.80", "0", "1000000", 1, 5),
                ("4.00", "0", "1000000", 6, 12),
                ("4.00", "1000000", None, 1, 5),
                ("4.20", "1000000", None, 6, 12),
            ],
        ),
        fields={
            **BUSINESS_ONLY,
            "min_amount": Decimal("50000"),
            "max_amount": Decimal("25000000"),
            "min_term_months": 1,
            "max_term_months": 12,
        },
    ),
    # Loans
    ProductSpec(
        "LN-PERSONAL",
        "Personal Loan",
        "loan",
        "Unsecured fixed-rate loan from £1,000 to £35,000 over one to seven years.",
        _history(
            (OLDER, CURRENT),
            [("11.90", "1000", "7500"), ("6.90", "7500", "25000"), ("8.90", "25000")],
            [("9.90", "1000", "7500"), ("6.40", "7500", "25000"), ("7.90", "25000")],
        ),
        (FeeSpec("Early repayment charge", "0", "1.000"),),
        fields={
            "min_amount": Decimal("1000"),
            "max_amount": Decimal("35000"),
            "min_term_months": 12,
            "max_term_months": 84,
            "min_age": 18,
            "max_age": 75,
            "min_annual_income": Decimal("15000"),
            "eligible_segments": INDIVIDUAL_SEGMENTS,
        },
    ),
    ProductSpec(
        "LN-MORTGAGE",
        "Residential Mortgage",
        "loan",
        "Repayment mortgage on a UK home, up to 90% loan to value, over 5 to 35 years.",
        _history((OLDER, CURRENT), [("5.24",)], [("4.49", "0", "500000"), ("4.29", "500000")]),
        (FeeSpec("Arrangement fee", "999.00"), FeeSpec("Valuation fee", "350.00")),
        fields={
            "min_amount": Decimal("25000"),
            "max_amount": Decimal("2000000"),
            "min_term_months": 60,
            "max_term_months": 420,
            "min_age": 21,
            "max_age": 70,
            "min_annual_income": Decimal("30000"),
            "eligible_segments": INDIVIDUAL_SEGMENTS,
        },
    ),
    ProductSpec(
        "LN-BUS-TERM",
        "Business Term Loan",
        "loan",
        "Secured or unsecured lending for equipment, premises and growth, one to ten years.",
        _history((OLDER, CURRENT), [("8.50",)], [("7.75", "0", "500000"), ("7.25", "500000")]),
        (FeeSpec("Arrangement fee", "0", "1.500"),),
        fields={
            **BUSINESS_ONLY,
            "min_amount": Decimal("25000"),
            "max_amount": Decimal("5000000"),
            "min_term_months": 12,
            "max_term_months": 120,
            "min_annual_income": Decimal("250000"),
        },
    ),
    # Cards
    ProductSpec(
        "CARD-CLASSIC",
        "Classic Credit Card",
        "card",
        "Everyday credit card with up to 56 days interest-free on purchases.",
        _history((OLDER, CURRENT), [("23.90",)], [("24.90",)]),
        (FeeSpec("Cash withdrawal", "3.00", "3.000", "per_transaction"),),
        fields={
            "min_amount": Decimal("500"),
            "max_amount": Decimal("10000"),
            "min_age": 18,
            "min_annual_income": Decimal("12000"),
            "eligible_segments": INDIVIDUAL_SEGMENTS,
        },
    ),
    ProductSpec(
        "CARD-PLATINUM",
        "Platinum Rewards Card",
        "card",
        "Metal card with 1% cashback, travel insurance and no foreign transaction fees.",
        _history((OLDER, CURRENT), [("22.90",)], [("21.90",)]),
        (FeeSpec("Annual card fee", "195.00", frequency="annual"),),
        fields={
            "min_amount": Decimal("5000"),
            "max_amount": Decimal("50000"),
            "min_age": 21,
            "min_annual_income": Decimal("60000"),
            "eligible_segments": WEALTH_SEGMENTS,
        },
    ),
    ProductSpec(
        "CARD-BUS",
        "Business Credit Card",
        "card",
        "Company card with per-employee limits and monthly statements for the finance team.",
        _history((OLDER, CURRENT), [("19.90",)], [("20.90",)]),
        (FeeSpec("Annual fee per card", "32.00", frequency="annual"),),
        fields={**BUSINESS_ONLY, "min_amount": Decimal("1000"), "max_amount": Decimal("100000")},
    ),
    # Investments: the rate is the indicative annual return used in illustrations; charges are fees.
    ProductSpec(
        "INV-ISA",
        "Stocks and Shares ISA",
        "investment",
        "Tax-free wrapper investing in a choice of ready-made funds; up to £20,000 a tax year.",
        _history((OLDER, CURRENT), [("5.00",)], [("5.50",)]),
        (FeeSpec("Platform fee", "0", "0.250", "annual"),),
        fields={
            "min_amount": Decimal("100"),
            "max_amount": Decimal("20000"),
            "min_age": 18,
            "min_risk_profile": 2,
            "max_risk_profile": 5,
            "eligible_segments": INDIVIDUAL_SEGMENTS,
        },
    ),
    ProductSpec(
        "INV-GILT",
        "UK Gilt Income Fund",
        "investment",
        "Low-volatility fund of UK government bonds paying quarterly income.",
        _history((OLDER, CURRENT), [("3.90",)], [("4.30",)]),
        (FeeSpec("Ongoing charge", "0", "0.350", "annual"),),
        fields={"min_amount": Decimal("1000"), "min_risk_profile": 1, "max_risk_profile": 3},
    ),
    ProductSpec(
        "INV-BALANCED",
        "Balanced Managed Portfolio",
        "investment",
        "Multi-asset portfolio of around 60% equities, rebalanced quarterly by our investment team.",
        _history((OLDER, CURRENT), [("5.80",)], [("6.10",)]),
        (FeeSpec("Annual management charge", "0", "0.750", "annual"),),
        fields={
            "min_amount": Decimal("10000"),
            "min_risk_profile": 3,
            "max_risk_profile": 4,
            "eligible_segments": WEALTH_SEGMENTS,
        },
    ),
    ProductSpec(
        "INV-DISCRETIONARY",
        "Discretionary Portfolio Service",
        "investment",
        "Bespoke portfolio managed by a named investment manager, for private banking clients.",
        _history((OLDER, CURRENT), [("6.50",)], [("6.80", "250000", "1000000"), ("7.00", "1000000")]),
        (FeeSpec("Management fee", "0", "1.000", "annual"),),
        fields={
            "min_amount": Decimal("250000"),
            "min_annual_income": Decimal("150000"),
            "min_risk_profile": 3,
            "max_risk_profile": 5,
            "eligible_segments": ["premium", "private"],
        },
    ),
)
PRODUCTS_BY_CODE = {spec.code: spec for spec in PRODUCTS}
