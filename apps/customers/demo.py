"""Demo data: branches, staff in every role, a product catalog and a realistic customer book.

`seed_demo` first builds a plan in memory from a fixed random seed (so every run plans the
same people, products and holdings), then writes what is missing through the real services
with actor=None (the system), so encryption, blind indexes, object permissions and the
audit trail are exactly what production writes. Each customer is written with everything
that hangs off them (documents, consents, holdings, links, tasks) in one transaction, so an
interrupted run resumes where it stopped and a repeated run finds everything and writes
nothing. Demo rows are recognised by their external ids (prefix DEMO-), product codes and
usernames. The data is documented in docs/demo.md.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import Holding, HoldingParty
from apps.accounts.services import open_holding
from apps.core.audit import record_audit_event
from apps.core.business_date import business_today
from apps.core.errors import DomainError, PermissionDenied
from apps.customers.models import Customer, CustomerConsent, CustomerRelationship, IdentityDocument
from apps.customers.services import add_identity_document, create_customer, link_customers, record_consent
from apps.identity import roles
from apps.identity.models import Branch
from apps.products.models import Product, ProductFee, ProductRate
from apps.products.services import add_product_fee, add_product_rate, create_product
from apps.tasks.models import Task
from apps.tasks.services import create_task

SEED = 2026
DEMO_PREFIX = "DEMO-"
CUSTOMER_COUNT = 320
BUSINESS_SHARE = Decimal("0.10")
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

# ---------------------------------------------------------------------------------------------
# Name and address pools (invented; phone numbers from Ofcom's ranges reserved for drama)
# ---------------------------------------------------------------------------------------------

FEMALE_NAMES = (  # noqa: SIM905 - a word list reads better as text
    "Olivia Amelia Isla Ava Mia Grace Sophie Emily Lily Freya Charlotte Evie Poppy Ella Ruby Florence Harriet "
    "Eleanor Hannah Chloe Lucy Jessica Rebecca Katherine Fiona Morag Eilidh Niamh Aisha Priya Zara Fatima Margaret "
    "Susan Helen Patricia Janet Gillian Deborah Joanne Rachel Claire Nicola Laura Kirsty Siobhan"
).split()
MALE_NAMES = (  # noqa: SIM905 - a word list reads better as text
    "Oliver George Harry Jack Noah Charlie Thomas Oscar William James Henry Alexander Edward Samuel Joseph Daniel "
    "Matthew Andrew David Richard Robert Stephen Paul Mark Graham Ian Alistair Callum Ewan Hamish Rory Fraser Arjun "
    "Rohan Imran Omar Tariq Kwame Tobias Patrick Sean Liam Gareth Rhys Owen Neil"
).split()
SURNAMES = (  # noqa: SIM905 - a word list reads better as text
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White Roberts "
    "Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips Mason Mitchell Rose Davis Rodriguez Cox "
    "Alexander Campbell Stewart MacDonald Scott Reid Murray Ross Paterson Fraser Hughes Kennedy Hussain Ahmed Begum "
    "Shah Singh Kaur Chowdhury Nowak Kowalski O'Brien Murphy Kelly Byrne Walsh Ashworth Butterworth Holt Greenwood "
    "Lord Barlow Hargreaves Sutcliffe Pickering Bennett Harrison Fletcher Chapman Kaye Lawson"
).split()

STREETS = {
    "LDN01": (
        ("Albion Road", "N16"),
        ("Amwell Street", "EC1R"),
        ("Lavender Hill", "SW11"),
        ("Bermondsey Street", "SE1"),
        ("Canonbury Park North", "N1"),
        ("Elgin Crescent", "W11"),
        ("Narrow Street", "E14"),
        ("Shooters Hill Road", "SE3"),
        ("Fortess Road", "NW5"),
        ("Clapham Manor Street", "SW4"),
        ("Mare Street", "E8"),
        ("Highbury New Park", "N5"),
    ),
    "MAN01": (
        ("Wilmslow Road", "M20"),
        ("Burton Road", "M20"),
        ("Beech Road", "M21"),
        ("Edge Street", "M4"),
        ("Chorlton Road", "M16"),
        ("Palatine Road", "M22"),
        ("Cheetham Hill Road", "M8"),
        ("Ashton Old Road", "M11"),
        ("Claremont Road", "M14"),
        ("Great Ancoats Street", "M4"),
    ),
    "EDI01": (
        ("Marchmont Road", "EH9"),
        ("Leith Walk", "EH6"),
        ("Comely Bank Avenue", "EH4"),
        ("Morningside Road", "EH10"),
        ("Dundas Street", "EH3"),
        ("Portobello High Street", "EH15"),
        ("Bruntsfield Place", "EH10"),
        ("Easter Road", "EH7"),
        ("Stockbridge Row", "EH3"),
    ),
}
CITY = {"LDN01": "London", "MAN01": "Manchester", "EDI01": "Edinburgh"}
BUSINESS_PHONE = {"LDN01": "+44 20 7946 0{:03d}", "MAN01": "+44 161 496 0{:03d}", "EDI01": "+44 131 496 0{:03d}"}

COMPANY_STEMS = (  # noqa: SIM905 - a word list reads better as text
    "Albion Thistle Pennine Kestrel Mersey Northgate Harbour Cobalt Brightwater Ironbridge Lowther Forth Calder "
    "Redbrick Ashgrove Meridian Caledon Wharfside Holloway Greyfriars Saltire Irwell Lambeth Quayside Beacon "
    "Fenwick Larchfield Blackfriars Corran Oakhurst Stanegate Tamarind"
).split()
COMPANY_TRADES = (
    "Logistics",
    "Engineering",
    "Dental Practice",
    "Software",
    "Bakery",
    "Architects",
    "Construction",
    "Catering",
    "Print & Design",
    "Consulting",
    "Veterinary Clinic",
    "Textiles",
    "Brewing Company",
    "Property Management",
    "Accountants",
    "Renewables",
)
EMAIL_DOMAINS = ("mail.example", "inbox.example", "post.example", "home.example")

TASK_TITLES = (
    "Call to discuss options for the maturing deposit",
    "Annual relationship review meeting",
    "Follow up on mortgage remortgage enquiry",
    "Chase signed KYC refresh form",
    "Introduce the Platinum Rewards Card",
    "Confirm new address with proof of residence",
    "Discuss ISA allowance before the tax year ends",
    "Send updated fee schedule",
    "Review savings rate after the base rate change",
    "Arrange meeting with the investment team",
    "Check overdraft usage and offer a personal loan",
    "Collect updated income evidence",
)
BUSINESS_TASK_TITLES = (
    "Review business loan covenants with the finance director",
    "Discuss treasury deposit for surplus cash",
    "Collect latest filed accounts",
    "Set up additional company cards for staff",
)

# ---------------------------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------------------------


@dataclass
class HoldingPlan:
    external_id: str
    product_code: str
    category: str
    parties: dict[int, str]  # customer index -> role
    currency: str
    opened_on: dt.date
    number: str
    balance: Decimal
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskPlan:
    assignee: str
    title: str
    description: str
    due_at: dt.datetime
    priority: int
    reminder_at: dt.datetime | None


@dataclass
class CustomerPlan:
    index: int
    external_id: str
    manager: str
    branch_code: str
    profile: dict[str, Any]
    documents: list[dict[str, Any]] = field(default_factory=list)
    consents: list[tuple[str, str, bool]] = field(default_factory=list)
    # Written with this customer: holdings and links whose last-written party is this customer.
    holdings: list[HoldingPlan] = field(default_factory=list)
    links: list[tuple[int, int, str]] = field(default_factory=list)
    tasks: list[TaskPlan] = field(default_factory=list)

    @property
    def is_business(self) -> bool:
        return self.profile["kind"] == Customer.Kind.BUSINESS


def add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _money(value: float | Decimal, step: int = 1) -> Decimal:
    """Round to a plausible figure: to `step` pounds, with pence."""
    rounded = Decimal(str(value)) / step
    return (rounded.quantize(Decimal("1"), rounding=ROUND_HALF_UP) * step).quantize(Decimal("0.01"))


class _Planner:
    """Builds the whole demo book from one seeded random stream (same seed, same book)."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        # Reproducible demo data, not secrets: a seeded pseudo-random stream is the point.
        self.rng = random.Random(SEED)  # noqa: S311  # nosec B311
        self.customers: list[CustomerPlan] = []
        self.holding_seq = 0
        self.managers = [u for u in USERS if u.book_weight]
        self.used_company_names: set[str] = set()

    # -- helpers ------------------------------------------------------------------------------

    def _birth_date(self, age: int) -> dt.date:
        return self.today - dt.timedelta(days=age * 365 + self.rng.randint(0, 364))

    def _address(self, branch_code: str) -> str:
        street, district = self.rng.choice(STREETS[branch_code])
        inward = (
            f"{self.rng.randint(1, 9)}{self.rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{self.rng.choice('ABDEHJLNPRSTUWXY')}"
        )
        return f"{self.rng.randint(1, 180)} {street}, {CITY[branch_code]} {district} {inward}"

    def _kyc(self) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.05:  # review overdue
            return {"kyc_status": "review_due", "kyc_review_date": self.today - dt.timedelta(self.rng.randint(1, 60))}
        if roll < 0.15:  # review due within a month
            return {"kyc_status": "verified", "kyc_review_date": self.today + dt.timedelta(self.rng.randint(0, 30))}
        if roll < 0.18:  # onboarding still in progress
            return {"kyc_status": "pending", "kyc_review_date": self.today + dt.timedelta(self.rng.randint(3, 21))}
        return {"kyc_status": "verified", "kyc_review_date": self.today + dt.timedelta(self.rng.randint(31, 1095))}

    def _income(self, segment: str) -> Decimal:
        low, high, step = {
            "mass": (14000, 42000, 500),
            "affluent": (50000, 110000, 1000),
            "premium": (100000, 260000, 5000),
            "private": (250000, 2000000, 10000),
            "sme": (150000, 6000000, 10000),
            "corporate": (12000000, 250000000, 100000),
        }[segment]
        return _money(self.rng.uniform(low, high) if segment != "private" else self.rng.lognormvariate(12.9, 0.6), step)

    def _next_holding_id(self) -> str:
        self.holding_seq += 1
        return f"{DEMO_PREFIX}H{self.holding_seq:05d}"

    def _account_number(self, branch_code: str) -> str:
        sort_code = {"LDN01": "404127", "MAN01": "404433", "EDI01": "404581"}[branch_code]
        return f"GB{self.rng.randint(10, 98)}FINP{sort_code}{self.rng.randint(10000000, 99999999)}"

    # -- customers ----------------------------------------------------------------------------

    def _new_customer(self, manager: UserSpec, profile: dict[str, Any]) -> CustomerPlan:
        index = len(self.customers)
        plan = CustomerPlan(
            index=index,
            external_id=f"{DEMO_PREFIX}C{index + 1:05d}",
            manager=manager.username,
            branch_code=manager.branch_code or "LDN01",
            profile=profile,
        )
        self.customers.append(plan)
        return plan

    def _individual(
        self, manager: UserSpec, *, first: str, last: str, age: int, address: str, segment: str
    ) -> CustomerPlan:
        n = len(self.customers) + 1
        risk = min(5, max(1, round(self.rng.gauss(3 if segment != "mass" else 2.5, 1))))
        profile = {
            "kind": Customer.Kind.INDIVIDUAL,
            "first_name": first,
            "last_name": last,
            "date_of_birth": self._birth_date(age),
            # "QQ" is never issued as a National Insurance prefix: these can never be real.
            "national_id": f"QQ{800000 + n:06d}D",
            "email": f"{first}.{last}{n}@{self.rng.choice(EMAIL_DOMAINS)}".lower().replace("'", ""),
            "phone": f"+44 7700 900{n % 1000:03d}",
            "address": address,
            "segment": segment,
            "risk_profile": risk,
            # Retired mass-market customers live on a pension.
            "annual_income": (
                _money(self.rng.uniform(12000, 40000), 500)
                if age >= 67 and segment == "mass"
                else self._income(segment)
            ),
            "status": "dormant" if self.rng.random() < 0.04 else "active",
            "customer_since": self.today - dt.timedelta(days=self.rng.randint(200, 365 * min(25, age - 17))),
            **self._kyc(),
        }
        plan = self._new_customer(manager, profile)
        self._documents_for_individual(plan, age)
        self._consents(plan)
        return plan

    def _segment(self) -> str:
        return self.rng.choices(INDIVIDUAL_SEGMENTS, weights=[52, 26, 15, 7])[0]

    def _household(self, manager: UserSpec, size: int) -> list[CustomerPlan]:
        branch = manager.branch_code or "LDN01"
        address = self._address(branch)
        surname = self.rng.choice(SURNAMES)
        head_age = self.rng.randint(32, 74)
        segment = self._segment()
        female_first = self.rng.random() < 0.5
        names = [self.rng.choice(FEMALE_NAMES if female_first else MALE_NAMES)]
        names.append(self.rng.choice(MALE_NAMES if female_first else FEMALE_NAMES))
        members = [
            self._individual(manager, first=names[0], last=surname, age=head_age, address=address, segment=segment)
        ]
        partner_surname = surname if self.rng.random() < 0.75 else self.rng.choice(SURNAMES)
        partner_age = max(21, head_age + self.rng.randint(-6, 6))
        members.append(
            self._individual(
                manager, first=names[1], last=partner_surname, age=partner_age, address=address, segment=segment
            )
        )
        for _ in range(size - 2):
            child_age = self.rng.randint(18, max(18, min(30, head_age - 22)))
            first = self.rng.choice(FEMALE_NAMES + MALE_NAMES)
            members.append(
                self._individual(manager, first=first, last=surname, age=child_age, address=address, segment="mass")
            )
        head, partner = members[0], members[1]
        # Stored both ways, so either customer's page shows the household.
        partner.links += [(head.index, partner.index, "spouse"), (partner.index, head.index, "spouse")]
        for child in members[2:]:
            child.links += [(head.index, child.index, "household"), (child.index, head.index, "household")]
        return members

    def _company_name(self, segment: str) -> str:
        while True:
            stem, trade = self.rng.choice(COMPANY_STEMS), self.rng.choice(COMPANY_TRADES)
            suffix = (
                "plc" if segment == "corporate" and self.rng.random() < 0.5 else self.rng.choice(["Ltd", "Ltd", "LLP"])
            )
            name = f"{stem} {trade} {suffix}"
            if name not in self.used_company_names:
                self.used_company_names.add(name)
                return name

    def _business(self, manager: UserSpec) -> CustomerPlan:
        n = len(self.customers) + 1
        branch = manager.branch_code or "LDN01"
        segment = "corporate" if self.rng.random() < 0.2 else "sme"
        name = self._company_name(segment)
        slug = name.split()[0].lower()
        incorporated = self.today - dt.timedelta(days=self.rng.randint(400, 365 * 40))
        # Companies House numbers: Scottish companies start with SC.
        company_number = f"SC{900000 + n:06d}" if branch == "EDI01" else f"{19000000 + n:08d}"
        profile = {
            "kind": Customer.Kind.BUSINESS,
            "company_name": name,
            "national_id": company_number,
            "email": f"finance@{slug}{n}.example",
            "phone": BUSINESS_PHONE[branch].format(n % 1000),
            "address": self._address(branch),
            "segment": segment,
            "risk_profile": self.rng.choice([2, 3, 3, 4]),
            "annual_income": self._income(segment),
            "status": "active",
            "customer_since": max(incorporated, self.today - dt.timedelta(days=self.rng.randint(200, 365 * 15))),
            **self._kyc(),
        }
        plan = self._new_customer(manager, profile)
        plan.documents.append(
            {
                "document_type": IdentityDocument.DocumentType.COMPANY_REGISTRATION,
                "number": company_number,
                "issuing_country": "GB",
                "issued_on": incorporated,
                "expiry_date": None,
            }
        )
        self._consents(plan)
        return plan

    def _document_expiry(self) -> dt.date:
        roll = self.rng.random()
        if roll < 0.05:  # already expired: the manager must chase a new one
            return self.today - dt.timedelta(days=self.rng.randint(1, 120))
        if roll < 0.18:  # expiring within 60 days: raises a task like a maturing deposit
            return self.today + dt.timedelta(days=self.rng.randint(1, 60))
        return self.today + dt.timedelta(days=self.rng.randint(61, 3400))

    def _issued(self, expiry: dt.date, *, years: int) -> dt.date:
        """Issued `years` before expiry, but never in the future (a replacement issued early)."""
        return min(add_months(expiry, -12 * years), self.today - dt.timedelta(days=self.rng.randint(20, 400)))

    def _documents_for_individual(self, plan: CustomerPlan, age: int) -> None:
        country = self.rng.choices(["GB", "IE", "PL", "IN", "FR"], weights=[85, 4, 4, 4, 3])[0]
        expiry = self._document_expiry()
        plan.documents.append(
            {
                "document_type": IdentityDocument.DocumentType.PASSPORT,
                "number": f"{self.rng.randint(100000000, 999999999)}",
                "issuing_country": country,
                "issued_on": self._issued(expiry, years=10),
                "expiry_date": expiry,
            }
        )
        if country != "GB" and country != "IE":
            expiry = self._document_expiry()
            plan.documents.append(
                {
                    "document_type": IdentityDocument.DocumentType.RESIDENCE_PERMIT,
                    "number": f"ZU{self.rng.randint(1000000, 9999999)}",
                    "issuing_country": "GB",
                    "issued_on": self._issued(expiry, years=5),
                    "expiry_date": expiry,
                }
            )
        elif self.rng.random() < 0.4 and age >= 17:
            expiry = self._document_expiry()
            last = plan.profile["last_name"].upper().replace("'", "")
            plan.documents.append(
                {
                    "document_type": IdentityDocument.DocumentType.DRIVING_LICENCE,
                    "number": f"{(last + '99999')[:5]}{self.rng.randint(100000, 999999)}{self.rng.choice('AEJ')}9DM",
                    "issuing_country": "GB",
                    "issued_on": self._issued(expiry, years=10),
                    "expiry_date": expiry,
                }
            )

    def _consents(self, plan: CustomerPlan) -> None:
        plan.consents = [
            ("email", "service", True),
            ("email", "marketing", self.rng.random() < 0.55),
            ("sms", "marketing", self.rng.random() < 0.35),
            ("phone", "profiling", self.rng.random() < 0.6),
        ]

    # -- holdings -----------------------------------------------------------------------------

    def _holding(self, owner: CustomerPlan, product_code: str, **kwargs: Any) -> HoldingPlan:
        spec = PRODUCTS_BY_CODE[product_code]
        category = kwargs.pop("category")
        holding = HoldingPlan(
            external_id=self._next_holding_id(),
            product_code=product_code,
            category=category,
            parties={owner.index: HoldingParty.Role.OWNER},
            currency=spec.fields.get("currency", "GBP"),
            **kwargs,
        )
        owner.holdings.append(holding)
        return holding

    def _opened(self, plan: CustomerPlan, earliest_days: int = 30) -> dt.date:
        since = plan.profile["customer_since"]
        span = max(earliest_days, (self.today - since).days)
        return self.today - dt.timedelta(days=self.rng.randint(earliest_days, span))

    def _rate(self, code: str, opened_on: dt.date, amount: Decimal, term: int | None = None) -> Decimal:
        return PRODUCTS_BY_CODE[code].rate_on((self.today - opened_on).days, abs(amount), term)

    def _current_account(self, plan: CustomerPlan) -> None:
        income = plan.profile["annual_income"] or Decimal("20000")
        code = "DEP-CUR-PREMIER" if plan.profile["segment"] in ("premium", "private") else "DEP-CUR-EVERYDAY"
        if plan.is_business:
            code = "DEP-BUS-CUR"
        opened = self._opened(plan)
        balance = _money(self.rng.uniform(50, float(income) / 5 if not plan.is_business else float(income) / 8))
        if not plan.is_business and plan.profile["segment"] == "mass" and self.rng.random() < 0.08:
            balance = -_money(self.rng.uniform(20, 1500))  # in arranged overdraft
        self._holding(
            plan,
            code,
            category=Holding.Category.CURRENT_ACCOUNT,
            opened_on=opened,
            number=self._account_number(plan.branch_code),
            balance=balance,
            details={"rate": self._rate(code, opened, balance), "status": "active"},
        )

    def _savings(self, plan: CustomerPlan) -> None:
        income = float(plan.profile["annual_income"] or 20000)
        opened = self._opened(plan)
        balance = _money(min(900000, self.rng.uniform(500, income * 0.8)))
        self._holding(
            plan,
            "DEP-SAV-EASY",
            category=Holding.Category.SAVINGS_ACCOUNT,
            opened_on=opened,
            number=self._account_number(plan.branch_code),
            balance=balance,
            details={"rate": self._rate("DEP-SAV-EASY", opened, balance)},
        )

    def _term_deposit(self, plan: CustomerPlan) -> HoldingPlan:
        income = float(plan.profile["annual_income"] or 20000)
        segment = plan.profile["segment"]
        if plan.is_business:
            code, term = "DEP-BUS-TD", self.rng.choice([1, 3, 6, 12])
            amount = _money(self.rng.uniform(50000, max(60000, income * 0.3)), 1000)
        elif segment in WEALTH_SEGMENTS and plan.branch_code in ("LDN01", "EDI01") and self.rng.random() < 0.15:
            code, term = "DEP-TD-EUR", self.rng.choice([3, 6, 12])
            amount = _money(self.rng.uniform(10000, max(15000, income * 0.6)), 500)
        else:
            code, term = "DEP-TD-FIXED", self.rng.choice([3, 6, 6, 12, 12, 24])
            amount = _money(self.rng.uniform(1000, max(5000, income * 0.7)), 500)
        # Maturity is filled in once all deposits are known (see _spread_maturities).
        return self._holding(
            plan,
            code,
            category=Holding.Category.TERM_DEPOSIT,
            opened_on=self.today,
            number=self._account_number(plan.branch_code),
            balance=amount,
            details={
                "term": term,
                "maturity_instruction": self.rng.choice(["renew", "renew", "pay_out", "transfer"]),
            },
        )

    def _loan(self, plan: CustomerPlan) -> None:
        income = float(plan.profile["annual_income"] or 20000)
        age = (self.today - plan.profile["date_of_birth"]).days // 365 if not plan.is_business else 40
        if plan.is_business:
            code, term = "LN-BUS-TERM", self.rng.choice([24, 36, 60, 84, 120])
            principal = _money(self.rng.uniform(25000, min(5000000, max(30000, income * 0.4))), 1000)
        elif income >= 30000 and 21 <= age <= 60 and self.rng.random() < 0.6:
            code, term = "LN-MORTGAGE", self.rng.choice([180, 240, 300, 360])
            principal = _money(min(2000000, income * self.rng.uniform(2.5, 4.5)), 1000)
        else:
            code, term = "LN-PERSONAL", self.rng.choice([12, 24, 36, 48, 60, 84])
            principal = _money(self.rng.uniform(1000, min(35000, max(2000, income * 0.5))), 100)
        elapsed = self.rng.randint(1, term - 1)
        opened = add_months(self.today, -elapsed) - dt.timedelta(days=self.rng.randint(0, 27))
        outstanding = _money(float(principal) * (1 - elapsed / term) + 1)
        self._holding(
            plan,
            code,
            category=Holding.Category.LOAN,
            opened_on=opened,
            number=f"LN{self.rng.randint(1000000000, 9999999999)}",
            balance=-outstanding,  # money owed to the bank is negative
            details={"rate": self._rate(code, opened, principal, term), "maturity_date": add_months(opened, term)},
        )

    def _card(self, plan: CustomerPlan) -> None:
        income = float(plan.profile["annual_income"] or 20000)
        if plan.is_business:
            code, limit = "CARD-BUS", _money(self.rng.uniform(2000, 50000), 500)
        elif income >= 60000 and plan.profile["segment"] in WEALTH_SEGMENTS:
            code, limit = "CARD-PLATINUM", _money(self.rng.uniform(5000, 30000), 500)
        else:
            code, limit = "CARD-CLASSIC", _money(self.rng.uniform(500, min(10000, max(600, income / 4))), 100)
        opened = self._opened(plan)
        # A card number is never stored: set_number keeps only the last four digits.
        pan = f"4{self.rng.randint(10**14, 10**15 - 1)}"
        self._holding(
            plan,
            code,
            category=Holding.Category.CREDIT_CARD,
            opened_on=opened,
            number=pan,
            balance=-_money(self.rng.uniform(0, float(limit) * 0.6)),
            details={"credit_limit": limit, "rate": self._rate(code, opened, limit)},
        )

    def _investment(self, plan: CustomerPlan) -> None:
        risk = plan.profile["risk_profile"]
        income = float(plan.profile["annual_income"] or 20000)
        segment = plan.profile["segment"]
        if segment in ("premium", "private") and income >= 150000 and risk >= 3:
            code, amount = "INV-DISCRETIONARY", _money(self.rng.uniform(250000, max(300000, income * 3)), 1000)
        elif segment in WEALTH_SEGMENTS and risk in (3, 4):
            code, amount = "INV-BALANCED", _money(self.rng.uniform(10000, max(15000, income)), 100)
        elif risk <= 2:
            code, amount = "INV-GILT", _money(self.rng.uniform(1000, max(2000, income * 0.5)), 100)
        else:
            code, amount = "INV-ISA", _money(self.rng.uniform(500, 80000), 50)
        opened = self._opened(plan, earliest_days=90)
        self._holding(
            plan,
            code,
            category=Holding.Category.INVESTMENT,
            opened_on=opened,
            number=f"INV{self.rng.randint(10000000, 99999999)}",
            balance=amount,
            details={"rate": self._rate(code, opened, amount)},
        )

    def _holdings_for(self, plan: CustomerPlan) -> None:
        segment = plan.profile["segment"]
        wealthy = segment in WEALTH_SEGMENTS
        if plan.is_business:
            wanted = [
                self._term_deposit if self.rng.random() < 0.55 else None,
                self._loan if self.rng.random() < 0.4 else None,
                self._card if self.rng.random() < 0.5 else None,
            ]
            first = self._current_account
        else:
            age = (self.today - plan.profile["date_of_birth"]).days // 365
            wanted = [
                self._savings if self.rng.random() < 0.45 else None,
                self._term_deposit if self.rng.random() < (0.5 if wealthy else 0.3) else None,
                self._loan if self.rng.random() < (0.3 if age < 65 else 0.05) else None,
                self._card if self.rng.random() < 0.4 else None,
                self._investment if self.rng.random() < (0.55 if wealthy else 0.15) else None,
            ]
            first = self._current_account if self.rng.random() < 0.93 else self._savings
        first(plan)
        extras = [make for make in wanted if make is not None and make is not first]
        self.rng.shuffle(extras)
        for make in extras[:3]:
            make(plan)

    def _share_holdings(self, households: list[list[CustomerPlan]]) -> None:
        """Some couples hold their current account or a deposit jointly."""
        for members in households:
            head, partner = members[0], members[1]
            if self.rng.random() > 0.45 or len(self._parties_of(partner)) >= 4:
                continue
            candidates = [
                h
                for h in head.holdings
                if h.category in (Holding.Category.CURRENT_ACCOUNT, Holding.Category.TERM_DEPOSIT)
            ]
            if not candidates:
                continue
            joint = self.rng.choice(candidates)
            joint.parties[partner.index] = HoldingParty.Role.JOINT
            # Written with the partner, who comes after the head, so both customers exist.
            head.holdings.remove(joint)
            partner.holdings.append(joint)
            if joint.category == Holding.Category.CURRENT_ACCOUNT:
                own = [h for h in partner.holdings if h.category == "current_account" and len(h.parties) == 1]
                for holding in own[:1]:
                    partner.holdings.remove(holding)

    def _parties_of(self, plan: CustomerPlan) -> list[HoldingPlan]:
        return [h for c in self.customers for h in c.holdings if plan.index in h.parties]

    def _spread_maturities(self) -> None:
        """Most deposits mature in the next 45 days (so the demo has a busy maturity list),
        including some at exactly +1, +7 and +30 days, the alert windows; the rest later."""
        deposits = [h for c in self.customers for h in c.holdings if h.category == Holding.Category.TERM_DEPOSIT]
        offsets = {}
        pinned = [1, 1, 1, 1, 7, 7, 7, 7, 30, 30, 30, 30, 0, 0, 14, 14, 45]
        for holding, offset in zip(self.rng.sample(deposits, len(pinned)), pinned, strict=True):
            offsets[holding.external_id] = offset
        for holding in deposits:
            term = holding.details.pop("term")
            offset = offsets.get(holding.external_id)
            if offset is None:
                offset = self.rng.randint(1, 45) if self.rng.random() < 0.65 else self.rng.randint(46, 700)
            maturity = self.today + dt.timedelta(days=offset)
            opened = add_months(maturity, -term)
            if opened > self.today:  # a long deposit maturing late in the window: opened today at the latest
                opened = self.today
            holding.opened_on = opened
            holding.details["maturity_date"] = maturity
            holding.details["rate"] = self._rate(holding.product_code, opened, holding.balance, term)

    # -- tasks --------------------------------------------------------------------------------

    def _tasks(self) -> None:
        zone = timezone.get_default_timezone()
        for manager in self.managers:
            book = [c for c in self.customers if c.manager == manager.username]
            count = min(len(book), 16 if manager.role == roles.RELATIONSHIP_MANAGER else 6)
            for number, customer in enumerate(self.rng.sample(book, count)):
                if number % 4 == 0:
                    offset = -self.rng.randint(1, 10)  # overdue
                elif number % 4 == 1:
                    offset = 0  # due today
                else:
                    offset = self.rng.randint(1, 21)
                due_day = self.today + dt.timedelta(days=offset)
                due_at = dt.datetime.combine(due_day, dt.time(self.rng.choice([9, 10, 11, 14, 15, 16]), 0), zone)
                titles = BUSINESS_TASK_TITLES if customer.is_business else TASK_TITLES
                customer.tasks.append(
                    TaskPlan(
                        assignee=manager.username,
                        title=self.rng.choice(titles),
                        description="Demo follow-up created by the seed.",
                        due_at=due_at,
                        priority=self.rng.choice([1, 2, 2, 2, 3, 3, 4]),
                        reminder_at=due_at - dt.timedelta(hours=2) if self.rng.random() < 0.5 else None,
                    )
                )

    # -- the whole book -----------------------------------------------------------------------

    def build(self) -> list[CustomerPlan]:
        businesses = int(CUSTOMER_COUNT * BUSINESS_SHARE)
        weights = [m.book_weight for m in self.managers]
        households: list[list[CustomerPlan]] = []
        business_slots = set(self.rng.sample(range(CUSTOMER_COUNT), businesses))
        while len(self.customers) < CUSTOMER_COUNT:
            manager = self.rng.choices(self.managers, weights=weights)[0]
            position = len(self.customers)
            if position in business_slots:
                self._business(manager)
                continue
            room = CUSTOMER_COUNT - position - len([s for s in business_slots if s > position])
            if room >= 2 and self.rng.random() < 0.4:
                size = min(room, self.rng.choices([2, 3, 4], weights=[60, 25, 15])[0])
                # A household is written as consecutive customers: keep business slots out of it.
                if not any(position < s < position + size for s in business_slots):
                    households.append(self._household(manager, size))
                    continue
            branch = manager.branch_code or "LDN01"
            segment = self._segment()
            first = self.rng.choice(FEMALE_NAMES + MALE_NAMES)
            self._individual(
                manager,
                first=first,
                last=self.rng.choice(SURNAMES),
                age=self.rng.randint(19, 88),
                address=self._address(branch),
                segment=segment,
            )
        for plan in self.customers:
            self._holdings_for(plan)
        self._share_holdings(households)
        self._spread_maturities()
        self._directors()
        self._tasks()
        return self.customers

    def _directors(self) -> None:
        """Each business has one or two directors among its manager's individual customers."""
        for company in (c for c in self.customers if c.is_business):
            people = [
                c
                for c in self.customers
                if not c.is_business and c.manager == company.manager and c.profile["segment"] != "mass"
            ] or [c for c in self.customers if not c.is_business and c.manager == company.manager]
            for director in self.rng.sample(people, min(len(people), self.rng.choice([1, 1, 2]))):
                later = company if company.index > director.index else director
                later.links.append((director.index, company.index, "director"))


def build_plan(today: dt.date) -> list[CustomerPlan]:
    """The demo book for this business date: same seed, same people, products and holdings."""
    return _Planner(today).build()


# ---------------------------------------------------------------------------------------------
# Writing it
# ---------------------------------------------------------------------------------------------


@dataclass
class SeedReport:
    created: Counter[str] = field(default_factory=Counter)
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.created.values())


def demo_password() -> str:
    return getattr(settings, "FINPULSE_DEMO_PASSWORD", "") or DEFAULT_DEMO_PASSWORD


def ensure_demo_allowed() -> None:
    if settings.IS_PRODUCTION:
        raise PermissionDenied("Refusing to load demo data in production: it creates users with published passwords.")


@transaction.atomic
def create_demo_branch(*, actor: Any, spec: BranchSpec) -> Branch:
    """Open a demo branch (audited like every write)."""
    branch = Branch.objects.create(code=spec.code, name=spec.name, city=spec.city)
    record_audit_event(actor=actor, action="branch.created", target=branch, changes={"code": [None, spec.code]})
    return branch


@transaction.atomic
def create_demo_user(*, actor: Any, spec: UserSpec, branch: Branch | None, password: str) -> Any:
    """Create a demo employee in their role group; the password is never audited or logged."""
    group = Group.objects.filter(name=spec.role).first()
    if group is None:
        raise DomainError(f"The role group {spec.role!r} is missing: run `manage.py migrate` first.")
    user = get_user_model()(
        username=spec.username,
        first_name=spec.first_name,
        last_name=spec.last_name,
        email=f"{spec.username}@finpulse.example",
        branch=branch,
        is_staff=True,
        is_superuser=spec.is_superuser,
    )
    user.set_password(password)
    user.save()
    user.groups.set([group])
    record_audit_event(
        actor=actor,
        action="user.created",
        target=user,
        changes={"username": [None, spec.username]},
        metadata={"roles": [spec.role], "branch": spec.branch_code, "superuser": spec.is_superuser, "demo": True},
    )
    return user


def _ensure_branches(report: SeedReport) -> dict[str, Branch]:
    branches = {b.code: b for b in Branch.objects.filter(code__in=[s.code for s in BRANCHES])}
    for spec in BRANCHES:
        if spec.code not in branches:
            branches[spec.code] = create_demo_branch(actor=None, spec=spec)
            report.created["branches"] += 1
    return branches


def _ensure_users(branches: dict[str, Branch], report: SeedReport) -> dict[str, Any]:
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[s.username for s in USERS])}
    password = demo_password()
    for spec in USERS:
        if spec.username not in users:
            branch = branches[spec.branch_code] if spec.branch_code else None
            users[spec.username] = create_demo_user(actor=None, spec=spec, branch=branch, password=password)
            report.created["users"] += 1
    return users


def _ensure_catalog(today: dt.date, branches: dict[str, Branch], report: SeedReport) -> dict[str, Product]:
    products = {p.code: p for p in Product.objects.filter(code__in=list(PRODUCTS_BY_CODE))}
    for spec in PRODUCTS:
        if spec.code in products:
            continue
        # A product and its rate history are written together, so a product never exists without rates.
        with transaction.atomic():
            product = create_product(
                actor=None,
                code=spec.code,
                name=spec.name,
                category=spec.category,
                description=spec.description,
                branches=[branches[code] for code in spec.branch_codes],
                **spec.fields,
            )
            for rate in spec.rates:
                add_product_rate(
                    actor=None,
                    product=product,
                    effective_from=today - dt.timedelta(days=rate.days_ago),
                    rate=Decimal(rate.rate),
                    min_amount=Decimal(rate.min_amount),
                    max_amount=Decimal(rate.max_amount) if rate.max_amount else None,
                    min_term_months=rate.min_term,
                    max_term_months=rate.max_term,
                )
                report.created["product rates"] += 1
            for fee in spec.fees:
                add_product_fee(
                    actor=None,
                    product=product,
                    name=fee.name,
                    amount=Decimal(fee.amount),
                    percentage=Decimal(fee.percentage) if fee.percentage else None,
                    frequency=fee.frequency,
                )
        products[spec.code] = product
        report.created["products"] += 1
    return products


class _Book:
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


def _write_customer(
    plan: CustomerPlan,
    book: _Book,
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
    report.created["customers"] += 1
    report.created["identity documents"] += len(plan.documents)
    report.created["consents"] += len(plan.consents)
    report.created["relationships"] += len(plan.links)
    report.created["holdings"] += len(holdings)
    report.created["tasks"] += len(plan.tasks)


def _totals() -> dict[str, int]:
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
    }


def seed_demo(*, today: dt.date | None = None, progress: Callable[[int, int], None] | None = None) -> SeedReport:
    """Write whatever part of the demo data is missing; a complete set is left untouched."""
    ensure_demo_allowed()
    today = today or business_today()
    report = SeedReport()
    branches = _ensure_branches(report)
    users = _ensure_users(branches, report)
    products = _ensure_catalog(today, branches, report)
    existing = set(Customer.objects.filter(external_id__startswith=DEMO_PREFIX).values_list("external_id", flat=True))
    if len(existing) < CUSTOMER_COUNT:
        plans = build_plan(today)
        book = _Book(plans)
        missing = [plan for plan in plans if plan.external_id not in existing]
        # Only when resuming: holdings may survive a demo customer deleted by hand.
        holdings = Holding.objects.filter(external_id__startswith=DEMO_PREFIX) if existing else Holding.objects.none()
        existing_holdings = set(holdings.values_list("external_id", flat=True))
        for done, plan in enumerate(missing, start=1):
            _write_customer(plan, book, users, branches, products, existing_holdings, report)
            if progress is not None:
                progress(done, len(missing))
    report.totals = _totals()
    return report
