"""The demo book planned in memory from one seeded random stream: same seed, same book."""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from apps.accounts.models import Holding, HoldingParty
from apps.core.windows import relationship_cadence_days
from apps.customers.models import Customer, IdentityDocument
from apps.demo.catalog import INDIVIDUAL_SEGMENTS, PRODUCTS_BY_CODE, USERS, WEALTH_SEGMENTS, UserSpec
from apps.demo.names import (
    BUSINESS_PHONE,
    BUSINESS_TASK_TITLES,
    CITY,
    COMPANY_STEMS,
    COMPANY_TRADES,
    EMAIL_DOMAINS,
    FEMALE_NAMES,
    MALE_NAMES,
    STREETS,
    SURNAMES,
    TASK_TITLES,
)
from apps.identity import roles

SEED = 2026
DEMO_PREFIX = "DEMO-"
CUSTOMER_COUNT = 320
BUSINESS_SHARE = Decimal("0.10")


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
class InteractionPlan:
    channel: str
    subject: str
    outcome: str
    occurred_at: dt.datetime


# Past conversations: (channel, subject, outcome).
CONTACTS = (
    ("phone", "Annual review call", "Circumstances unchanged; next review booked."),
    ("meeting", "Portfolio review meeting", "Went through holdings and upcoming maturities."),
    ("email", "Rates update sent", "Customer acknowledged the new savings rates."),
    ("branch_visit", "Visited the branch", "Updated contact details and discussed savings."),
    ("phone", "Courtesy call", "No change needed; happy with the service."),
)
# Share of customers whose last contact is older than their segment's cadence (the rule fires).
OVERDUE_CONTACT_SHARE = 0.08


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
    interactions: list[InteractionPlan] = field(default_factory=list)

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
        self._interactions()
        return self.customers

    def _interactions(self) -> None:
        """Past conversations, so the contact-cadence rule finds a few overdue relationships on the
        first morning, not the whole book (drawn last: the rest of the plan is unchanged)."""
        zone = timezone.get_default_timezone()
        cadence = relationship_cadence_days()
        for customer in self.customers:
            interval = int(cadence.get(customer.profile["segment"], 180))
            known = (self.today - customer.profile["customer_since"]).days
            if self.rng.random() < OVERDUE_CONTACT_SHARE:
                last = self.rng.randint(interval + 3, interval + 60)
            else:
                last = self.rng.randint(2, max(3, interval - 7))
            days = {min(last, known)}
            for _ in range(self.rng.randint(0, 2)):
                days.add(min(last + self.rng.randint(20, 200), known))
            for ago in sorted(days, reverse=True):
                channel, subject, outcome = self.rng.choice(CONTACTS)
                when = dt.time(self.rng.choice([9, 10, 11, 14, 15, 16]), self.rng.choice([0, 15, 30, 45]))
                customer.interactions.append(
                    InteractionPlan(
                        channel=channel,
                        subject=subject,
                        outcome=outcome,
                        occurred_at=dt.datetime.combine(self.today - dt.timedelta(days=ago), when, zone),
                    )
                )

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
