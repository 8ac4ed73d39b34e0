"""Holdings are opened through the real service, so encryption, validation, parties and
audit are exactly what production writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from apps.accounts.models import LIABILITY_CATEGORIES, Holding, HoldingParty
from apps.accounts.services import open_holding
from apps.products.models import Product
from tests.customers.factories import CustomerFactory
from tests.products.factories import ProductFactory

_PRODUCT_CATEGORY = {
    Holding.Category.CURRENT_ACCOUNT: Product.Category.DEPOSIT,
    Holding.Category.SAVINGS_ACCOUNT: Product.Category.DEPOSIT,
    Holding.Category.TERM_DEPOSIT: Product.Category.DEPOSIT,
    Holding.Category.LOAN: Product.Category.LOAN,
    Holding.Category.CREDIT_CARD: Product.Category.CARD,
    Holding.Category.INVESTMENT: Product.Category.INVESTMENT,
}


class HoldingFactory(factory.django.DjangoModelFactory):
    """A holding of `customer` (role `role`, owner by default).

    Pass `parties={customer: role, ...}` for joint holdings. A term deposit gets a maturity
    date a year after opening and a renew instruction unless given.
    """

    class Meta:
        model = Holding

    class Params:
        customer = factory.SubFactory(CustomerFactory)
        role = HoldingParty.Role.OWNER

    external_id = factory.Sequence(lambda n: f"HLD{n:08d}")
    category = Holding.Category.CURRENT_ACCOUNT
    product = factory.LazyAttribute(lambda h: ProductFactory(category=_PRODUCT_CATEGORY[h.category]))
    parties = factory.LazyAttribute(lambda h: {h.customer: h.role})
    currency = "GBP"
    opened_on = dt.date(2025, 1, 15)
    number = factory.Sequence(lambda n: f"GB29NWBK6016{n:010d}")
    # Signed from the customer's side (docs/decisions.md): a loan or card balance is owed, so negative.
    balance = factory.LazyAttribute(
        lambda h: Decimal("-1500.00") if h.category in LIABILITY_CATEGORIES else Decimal("1500.00")
    )

    @classmethod
    def _create(cls, model_class: type[Holding], *args: object, **kwargs: object) -> Holding:
        if kwargs["category"] == Holding.Category.TERM_DEPOSIT:
            opened_on = kwargs["opened_on"]
            assert isinstance(opened_on, dt.date)
            kwargs.setdefault("maturity_date", opened_on + dt.timedelta(days=365))
            kwargs.setdefault("maturity_instruction", Holding.MaturityInstruction.RENEW)
        actor = kwargs.pop("actor", None)
        return open_holding(actor=actor, **kwargs)
