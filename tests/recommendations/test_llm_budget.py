"""The daily LLM budget for advice (issue #20, item 9), against the local OpenAI-protocol server."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.accounts.models import Holding
from apps.core.llm import estimate_cost
from apps.notifications.models import Notification
from apps.recommendations.models import Recommendation
from apps.recommendations.services import advice_spent_today, recommend_for_customer
from tests.accounts.factories import HoldingFactory
from tests.recommendations.factories import advisable_customer, small_catalog

pytestmark = pytest.mark.django_db


def test_past_the_advice_budget_the_rules_answer_and_admins_are_told_once(
    fake_openai, manager, administrator, settings
):
    small_catalog()
    settings.FINPULSE_LLM_DAILY_BUDGET = {"advice": str(estimate_cost(420, 80)), "leads": ""}
    first = recommend_for_customer(actor=manager, customer=advisable_customer(manager))
    assert first.source == Recommendation.Source.LLM
    assert advice_spent_today() == first.cost > 0

    later = []
    for balance in ("1000", "2000"):
        customer = advisable_customer(manager)
        HoldingFactory(customer=customer, category=Holding.Category.SAVINGS_ACCOUNT, balance=Decimal(balance))
        later.append(recommend_for_customer(actor=manager, customer=customer))

    assert fake_openai.calls == 1
    assert {(advice.source, advice.fallback_reason) for advice in later} == {
        (Recommendation.Source.RULES, "budget_exhausted")
    }
    assert all(advice.items for advice in later)
    notices = Notification.objects.filter(kind="llm_budget", recipient_user=administrator)
    assert notices.count() == len({n.channel for n in notices}) >= 1
    assert "advice" in notices.first().subject
