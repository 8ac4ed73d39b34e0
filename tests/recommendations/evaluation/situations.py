"""Customer situations with the product a banker expects to discuss first.

Written for this evaluation, kept apart from the scoring code: each situation is what a
relationship manager would see on the 360 page (segment, risk profile, income, holdings with
balances and maturity dates, what recent calls were about) and `expect` is the product an
experienced banker would raise first, with `why` in their words. Amounts, currencies, segments
and risk profiles vary on purpose. Days are counted from the business date.

Holding tuples: (category, product code, currency, balance, opened days ago, matures in days or
None, role). Contacts are interaction subjects (the snapshot keeps only their intent labels).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Holding:
    category: str
    product: str
    currency: str
    balance: Decimal
    opened_days_ago: int = 400
    matures_in_days: int | None = None
    role: str = "owner"


@dataclass(frozen=True)
class CustomerSituation:
    id: str
    expect: str
    why: str
    segment: str = "mass"
    risk: int = 3
    income: Decimal | None = Decimal("45000")
    income_currency: str = "GBP"
    kind: str = "individual"
    age: int = 45
    holdings: tuple[Holding, ...] = ()
    contacts: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default=())


def H(category: str, product: str, balance: str, currency: str = "GBP", **kwargs: int | str | None) -> Holding:
    return Holding(category=category, product=product, currency=currency, balance=Decimal(balance), **kwargs)  # type: ignore[arg-type]


CURRENT = "current_account"
SAVINGS = "savings_account"
TERM = "term_deposit"
INVEST = "investment"

SITUATIONS: tuple[CustomerSituation, ...] = (
    # --- maturing deposits: renew or re-place at the rate of the maturity date, in its currency --
    CustomerSituation(
        "private-gbp-253k-7d",
        "TD-GBP",
        "The issue's demo client: GBP 253,500 matures in a week; renew at the best 12-month rate.",
        segment="private",
        risk=3,
        income=Decimal("320000"),
        holdings=(H(CURRENT, "CUR-PLUS", "18400"), H(TERM, "TD-GBP", "253500", opened_days_ago=358, matures_in_days=7)),
        tags=("maturity",),
    ),
    CustomerSituation(
        "mass-gbp-18k-20d",
        "TD-GBP",
        "A modest fixed deposit maturing: offer the renewal before the money drifts to the current account.",
        segment="mass",
        risk=2,
        income=Decimal("31000"),
        holdings=(H(CURRENT, "CUR-STD", "2300"), H(TERM, "TD-GBP", "18000", opened_days_ago=345, matures_in_days=20)),
        tags=("maturity",),
    ),
    CustomerSituation(
        "affluent-gbp-60k-24m-bond",
        "BOND-GBP",
        "A two-year deposit matures; the two-year bond pays 4.55% against 4.30% for the deposit.",
        segment="affluent",
        risk=3,
        income=Decimal("88000"),
        holdings=(H(CURRENT, "CUR-STD", "6100"), H(TERM, "TD-GBP", "60000", opened_days_ago=720, matures_in_days=10)),
        tags=("maturity", "best-rate"),
    ),
    CustomerSituation(
        "premium-gbp-120k-after-rise",
        "TD-GBP",
        "Matures after the scheduled rate rise: the renewal is quoted at the new 4.60%.",
        segment="premium",
        risk=4,
        income=Decimal("140000"),
        holdings=(
            H(CURRENT, "CUR-PLUS", "12000"),
            H(TERM, "TD-GBP", "120000", opened_days_ago=320, matures_in_days=45),
        ),
        tags=("maturity", "rate-on-date"),
    ),
    CustomerSituation(
        "mass-gbp-5k-6m-3d",
        "TD-GBP",
        "A six-month deposit matures in three days: a six-month renewal beats the instant saver.",
        segment="mass",
        risk=1,
        income=Decimal("24000"),
        age=67,
        holdings=(H(CURRENT, "CUR-STD", "900"), H(TERM, "TD-GBP", "5000", opened_days_ago=180, matures_in_days=3)),
        tags=("maturity",),
    ),
    CustomerSituation(
        "affluent-eur-40k-12d",
        "TD-EUR",
        "A euro deposit stays in euros: the euro fixed deposit, not a sterling product.",
        segment="affluent",
        risk=2,
        income=Decimal("70000"),
        holdings=(
            H(CURRENT, "CUR-STD", "4200"),
            H(TERM, "TD-EUR", "40000", currency="EUR", opened_days_ago=353, matures_in_days=12),
        ),
        tags=("maturity", "currency"),
    ),
    CustomerSituation(
        "private-usd-150k-25d",
        "TD-USD",
        "Dollar money maturing: the dollar deposit, in its currency.",
        segment="private",
        risk=3,
        income=Decimal("410000"),
        income_currency="USD",
        holdings=(
            H(CURRENT, "CUR-PLUS", "35000"),
            H(TERM, "TD-USD", "150000", currency="USD", opened_days_ago=340, matures_in_days=25),
        ),
        tags=("maturity", "currency"),
    ),
    CustomerSituation(
        "mass-eur-only-15k",
        "TD-EUR",
        "Euro earner with only euro savings maturing: the euro deposit.",
        segment="mass",
        risk=2,
        income=Decimal("38000"),
        income_currency="EUR",
        holdings=(H(TERM, "TD-EUR", "15000", currency="EUR", opened_days_ago=270, matures_in_days=15),),
        tags=("maturity", "currency"),
    ),
    CustomerSituation(
        "mass-gbp-30k-payout",
        "TD-GBP",
        "Instruction is to pay out, but the banker still offers the renewal first (retention).",
        segment="mass",
        risk=3,
        income=Decimal("36000"),
        holdings=(H(CURRENT, "CUR-STD", "1500"), H(TERM, "TD-GBP", "30000", opened_days_ago=360, matures_in_days=6)),
        tags=("maturity",),
    ),
    CustomerSituation(
        "private-growth-600k-maturing",
        "TD-GBP",
        "Growth client, GBP 600k maturing next week: the renewal first; the portfolio comes next.",
        segment="private",
        risk=4,
        income=Decimal("520000"),
        holdings=(H(CURRENT, "CUR-PLUS", "45000"), H(TERM, "TD-GBP", "600000", opened_days_ago=360, matures_in_days=8)),
        tags=("maturity",),
    ),
    CustomerSituation(
        "joint-gbp-75k-maturing",
        "TD-GBP",
        "Joint holder of a maturing deposit: it is their money too.",
        segment="affluent",
        risk=2,
        income=Decimal("64000"),
        holdings=(
            H(CURRENT, "CUR-STD", "3000"),
            H(TERM, "TD-GBP", "75000", opened_days_ago=365, matures_in_days=14, role="joint"),
        ),
        tags=("maturity",),
    ),
    CustomerSituation(
        "premium-gbp-95k-30d",
        "TD-GBP",
        "Just under the GBP 100k slab: renew at 4.30%.",
        segment="premium",
        risk=2,
        income=Decimal("98000"),
        holdings=(H(CURRENT, "CUR-PLUS", "9000"), H(TERM, "TD-GBP", "95000", opened_days_ago=335, matures_in_days=30)),
        tags=("maturity",),
    ),
    CustomerSituation(
        "affluent-gbp-8k-3m",
        "TD-GBP",
        "A three-month deposit rolls again: a three-month renewal at 3.80% beats 2.50% instant access.",
        segment="affluent",
        risk=3,
        income=Decimal("61000"),
        holdings=(H(CURRENT, "CUR-STD", "2500"), H(TERM, "TD-GBP", "8000", opened_days_ago=92, matures_in_days=5)),
        tags=("maturity",),
    ),
    CustomerSituation(
        "private-eur-500k",
        "TD-EUR",
        "Half a million euros maturing: keep it in euros; a sterling portfolio is not the first call.",
        segment="private",
        risk=5,
        income=Decimal("600000"),
        income_currency="EUR",
        holdings=(H(TERM, "TD-EUR", "500000", currency="EUR", opened_days_ago=180, matures_in_days=15),),
        tags=("maturity", "currency"),
    ),
    CustomerSituation(
        "mass-usd-12k-60d",
        "TD-USD",
        "Dollar deposit maturing in two months: the dollar deposit.",
        segment="mass",
        risk=3,
        income=Decimal("42000"),
        holdings=(
            H(CURRENT, "CUR-STD", "3100"),
            H(TERM, "TD-USD", "12000", currency="USD", opened_days_ago=300, matures_in_days=60),
        ),
        tags=("maturity", "currency"),
    ),
    CustomerSituation(
        "affluent-maturing-and-loan-talk",
        "TD-GBP",
        "A deposit maturing in 80 days outranks a passing question about a loan.",
        segment="affluent",
        risk=3,
        income=Decimal("72000"),
        holdings=(H(CURRENT, "CUR-STD", "5200"), H(TERM, "TD-GBP", "30000", opened_days_ago=285, matures_in_days=80)),
        contacts=("Asked about a loan for a kitchen",),
        tags=("maturity", "intent"),
    ),
    CustomerSituation(
        "premium-gbp-200k-36m-after-rise",
        "TD-GBP",
        "Three-year deposit maturing after the rise: 4.60% for the deposit beats the bond's 4.55%.",
        segment="premium",
        risk=3,
        income=Decimal("130000"),
        holdings=(
            H(CURRENT, "CUR-PLUS", "15000"),
            H(TERM, "TD-GBP", "200000", opened_days_ago=1075, matures_in_days=21),
        ),
        tags=("maturity", "rate-on-date", "best-rate"),
    ),
    CustomerSituation(
        "premium-gbp-200k-36m-before-rise",
        "BOND-GBP",
        "The same deposit maturing before the rise: the bond's 4.55% beats the deposit's 4.45%.",
        segment="premium",
        risk=3,
        income=Decimal("130000"),
        holdings=(
            H(CURRENT, "CUR-PLUS", "15000"),
            H(TERM, "TD-GBP", "200000", opened_days_ago=1085, matures_in_days=10),
        ),
        tags=("maturity", "rate-on-date", "best-rate"),
    ),
    CustomerSituation(
        "sme-biz-td-300k",
        "BIZ-TD",
        "A company's treasury deposit matures: renew it.",
        kind="business",
        segment="sme",
        risk=3,
        income=Decimal("2400000"),
        holdings=(H(CURRENT, "BIZ-CUR", "42000"), H(TERM, "BIZ-TD", "300000", opened_days_ago=180, matures_in_days=9)),
        tags=("maturity", "business"),
    ),
    CustomerSituation(
        "corporate-biz-td-2-5m",
        "BIZ-TD",
        "Large corporate placement maturing: renew in the over-1m slab.",
        kind="business",
        segment="corporate",
        risk=3,
        income=Decimal("48000000"),
        holdings=(
            H(CURRENT, "BIZ-CUR", "800000"),
            H(TERM, "BIZ-TD", "2500000", opened_days_ago=360, matures_in_days=14),
        ),
        tags=("maturity", "business"),
    ),
    # --- cash sitting idle in current accounts ---------------------------------------------
    CustomerSituation(
        "mass-idle-35k-no-savings",
        "SAV-INSTANT",
        "GBP 35k in a current account and no savings: an instant access saver first.",
        segment="mass",
        risk=2,
        income=Decimal("39000"),
        holdings=(H(CURRENT, "CUR-STD", "35000"),),
        tags=("idle-cash",),
    ),
    CustomerSituation(
        "affluent-idle-80k-has-saver",
        "TD-GBP",
        "Already has a saver; GBP 80k idle earns more fixed.",
        segment="affluent",
        risk=3,
        income=Decimal("90000"),
        holdings=(H(CURRENT, "CUR-STD", "80000"), H(SAVINGS, "SAV-INSTANT", "15000")),
        tags=("idle-cash", "duplicate"),
    ),
    CustomerSituation(
        "private-growth-idle-400k",
        "INV-DPM",
        "Private, growth profile, GBP 400k idle: discretionary management.",
        segment="private",
        risk=4,
        income=Decimal("300000"),
        holdings=(H(CURRENT, "CUR-PLUS", "400000"), H(SAVINGS, "SAV-INSTANT", "50000")),
        tags=("idle-cash", "investment"),
    ),
    CustomerSituation(
        "affluent-aggressive-idle-30k-no-savings",
        "SAV-INSTANT",
        "Aggressive profile but no savings at all: the emergency fund comes first.",
        segment="affluent",
        risk=5,
        income=Decimal("68000"),
        age=29,
        holdings=(H(CURRENT, "CUR-STD", "30000"),),
        tags=("idle-cash",),
    ),
    CustomerSituation(
        "sme-idle-150k",
        "BIZ-TD",
        "A company with GBP 150k idle: the business fixed deposit.",
        kind="business",
        segment="sme",
        risk=3,
        income=Decimal("1800000"),
        holdings=(H(CURRENT, "BIZ-CUR", "150000"),),
        tags=("idle-cash", "business"),
    ),
    CustomerSituation(
        "premium-cautious-idle-120k",
        "TD-GBP",
        "Cautious premium client with GBP 120k idle and a saver: fixed deposit, not funds.",
        segment="premium",
        risk=2,
        income=Decimal("160000"),
        holdings=(H(CURRENT, "CUR-PLUS", "120000"), H(SAVINGS, "SAV-INSTANT", "20000")),
        tags=("idle-cash",),
    ),
    # --- what recent calls were about --------------------------------------------------------
    CustomerSituation(
        "mass-car-loan",
        "LOAN-PERS",
        "Asked about a loan for a car.",
        segment="mass",
        risk=3,
        income=Decimal("33000"),
        age=34,
        holdings=(H(CURRENT, "CUR-STD", "2000"),),
        contacts=("Asked about a loan to buy a car",),
        tags=("intent",),
    ),
    CustomerSituation(
        "affluent-first-home",
        "MORT-HOME",
        "Buying a first home: the mortgage.",
        segment="affluent",
        risk=3,
        income=Decimal("82000"),
        age=31,
        holdings=(H(CURRENT, "CUR-STD", "9000"), H(SAVINGS, "SAV-INSTANT", "42000")),
        contacts=("Wants a mortgage for a first home",),
        tags=("intent",),
    ),
    CustomerSituation(
        "mass-credit-card",
        "CARD-STD",
        "Asked for a credit card.",
        segment="mass",
        risk=3,
        income=Decimal("27000"),
        age=26,
        holdings=(H(CURRENT, "CUR-STD", "1200"),),
        contacts=("Asked about getting a credit card",),
        tags=("intent",),
    ),
    CustomerSituation(
        "affluent-travel",
        "CARD-TRAVEL",
        "Travels abroad often: the travel card for the affluent segment.",
        segment="affluent",
        risk=3,
        income=Decimal("76000"),
        holdings=(H(CURRENT, "CUR-STD", "7000"), H(SAVINGS, "SAV-INSTANT", "12000")),
        contacts=("Travelling abroad a lot; fees on card payments abroad",),
        tags=("intent", "segment"),
    ),
    CustomerSituation(
        "premium-balanced-investing",
        "INV-MULTI",
        "Balanced premium client asked about investing savings: the multi-asset fund.",
        segment="premium",
        risk=3,
        income=Decimal("120000"),
        holdings=(H(CURRENT, "CUR-PLUS", "8000"), H(SAVINGS, "SAV-INSTANT", "60000")),
        contacts=("Discussed investing part of the savings",),
        tags=("intent", "investment", "risk"),
    ),
    CustomerSituation(
        "mass-cautious-investing",
        "INV-GILT",
        "Cautious saver curious about investing: the government bond fund.",
        segment="mass",
        risk=2,
        income=Decimal("35000"),
        holdings=(H(CURRENT, "CUR-STD", "1800"), H(SAVINGS, "SAV-INSTANT", "8000")),
        contacts=("Asked whether to invest some savings",),
        tags=("intent", "investment", "risk"),
    ),
    CustomerSituation(
        "mass-growth-investing",
        "INV-ISA",
        "Growth profile, mass segment, asked about investing: the stocks and shares ISA.",
        segment="mass",
        risk=4,
        income=Decimal("41000"),
        age=38,
        holdings=(H(CURRENT, "CUR-STD", "2600"), H(SAVINGS, "SAV-INSTANT", "5000")),
        contacts=("Wants to invest in shares for the long term",),
        tags=("intent", "investment", "risk"),
    ),
    CustomerSituation(
        "mass-savings-question",
        "SAV-INSTANT",
        "Asked where to save a few thousand: instant access.",
        segment="mass",
        risk=2,
        income=Decimal("29000"),
        holdings=(H(CURRENT, "CUR-STD", "3000"),),
        contacts=("Asked about a savings account",),
        tags=("intent",),
    ),
    CustomerSituation(
        "corporate-equipment-loan",
        "BIZ-LOAN",
        "A company financing new equipment.",
        kind="business",
        segment="corporate",
        risk=3,
        income=Decimal("22000000"),
        holdings=(H(CURRENT, "BIZ-CUR", "90000"),),
        contacts=("Financing for new equipment",),
        tags=("intent", "business"),
    ),
    CustomerSituation(
        "eur-earner-savings",
        "SAV-EUR",
        "Paid in euros, holds nothing yet, asked about saving: the euro saver.",
        segment="mass",
        risk=2,
        income=Decimal("44000"),
        income_currency="EUR",
        contacts=("Asked about saving interest on a deposit",),
        tags=("intent", "currency"),
    ),
    # --- profile only: segment, risk and what they hold decide ---------------------------------
    CustomerSituation(
        "mass-starter",
        "SAV-INSTANT",
        "Only a current account with a small balance: start saving, not investing.",
        segment="mass",
        risk=2,
        income=Decimal("28000"),
        age=30,
        holdings=(H(CURRENT, "CUR-STD", "1500"),),
        tags=("profile",),
    ),
    CustomerSituation(
        "affluent-balanced-savings-45k",
        "INV-MULTI",
        "Affluent, balanced, GBP 45k in savings: time for an investment conversation.",
        segment="affluent",
        risk=3,
        income=Decimal("95000"),
        holdings=(H(CURRENT, "CUR-STD", "5000"), H(SAVINGS, "SAV-INSTANT", "45000")),
        tags=("profile", "investment", "segment"),
    ),
    CustomerSituation(
        "mass-balanced-savings-12k",
        "INV-ISA",
        "Mass segment, balanced, GBP 12k saved: the ISA allowance.",
        segment="mass",
        risk=3,
        income=Decimal("37000"),
        holdings=(H(CURRENT, "CUR-STD", "2200"), H(SAVINGS, "SAV-INSTANT", "12000")),
        tags=("profile", "investment"),
    ),
    CustomerSituation(
        "premium-cautious-savings-80k",
        "INV-GILT",
        "Cautious premium client with GBP 80k saved: the low-volatility bond fund, not equities.",
        segment="premium",
        risk=1,
        income=Decimal("110000"),
        age=63,
        holdings=(H(CURRENT, "CUR-PLUS", "6000"), H(SAVINGS, "SAV-INSTANT", "80000")),
        tags=("profile", "investment", "risk"),
    ),
    CustomerSituation(
        "private-aggressive-invested-900k",
        "INV-DPM",
        "Private, aggressive, GBP 900k saved: discretionary management.",
        segment="private",
        risk=5,
        income=Decimal("750000"),
        holdings=(H(CURRENT, "CUR-PLUS", "30000"), H(SAVINGS, "SAV-INSTANT", "900000")),
        tags=("profile", "investment", "segment"),
    ),
    CustomerSituation(
        "sme-surplus-in-notice",
        "BIZ-TD",
        "A company with GBP 400k already in a notice account: fix part of it.",
        kind="business",
        segment="sme",
        risk=3,
        income=Decimal("3100000"),
        holdings=(H(CURRENT, "BIZ-CUR", "60000"), H(SAVINGS, "BIZ-NOTICE", "400000")),
        tags=("profile", "business"),
    ),
)
