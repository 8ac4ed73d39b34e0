"""A daily budget per LLM use (advice, leads): past it the rule engine serves.

Each use keeps its own accounting (advice: `Recommendation.cost`; leads: `Lead.llm_cost`) and
passes what it spent today; this module only compares it with the setting
`FINPULSE_LLM_DAILY_BUDGET[use]` (a decimal in the price's currency; empty means no cap).
Telling the administrators is `apps.notifications.llm_budget.budget_exhausted` (core imports
no other app).
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

USES = ("advice", "leads")
BUDGET_EXHAUSTED = "budget_exhausted"  # the reason recorded when the rules served because of the cap


def daily_budget(use: str) -> Decimal | None:
    """The configured cap for one use, or None (no cap, or a setting that is not a number)."""
    raw = str(getattr(settings, "FINPULSE_LLM_DAILY_BUDGET", {}).get(use, "") or "").strip()
    if not raw:
        return None
    try:
        budget = Decimal(raw)
    except InvalidOperation:
        logger.error("FINPULSE_LLM_DAILY_BUDGET[%s] is not a number: no cap applies.", use)
        return None
    return budget if budget >= 0 else None


def start_of_today() -> dt.datetime:
    """Midnight in the bank's time zone: the day a budget counts."""
    now = timezone.localtime()
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def exhausted_budget(*, use: str, spent_today: Decimal) -> Decimal | None:
    """The cap when today's spend for this use has reached it, else None (no cap, or room left)."""
    budget = daily_budget(use)
    if budget is None or spent_today < budget:
        return None
    return budget
