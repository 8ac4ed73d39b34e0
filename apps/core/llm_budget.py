"""A daily budget per LLM use (advice, leads): past it the rule engine serves, admins hear once a day.

Each use keeps its own accounting (advice: `Recommendation.cost`; leads: `Lead.llm_cost`) and
passes what it spent today; this module only compares it with the setting
`FINPULSE_LLM_DAILY_BUDGET[use]` (a decimal in the price's currency; empty means no cap) and
tells the administrators through the notifications outbox. The outbox's dedupe key (kind,
use, budget, date, channel, recipient) makes that notice once per day and administrator,
however many workers hit the cap at the same time.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
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


def budget_exhausted(*, use: str, spent_today: Decimal) -> bool:
    """True when today's spend for this use has reached its cap (then the admins are told, once)."""
    budget = daily_budget(use)
    if budget is None or spent_today < budget:
        return False
    notify_admins(use=use, spent=spent_today, budget=budget)
    return True


def notify_admins(*, use: str, spent: Decimal, budget: Decimal) -> int:
    """One outbox row per administrator and chosen channel, at most once a day per use."""
    from django.db.models import Q

    from apps.identity import roles
    from apps.identity.models import User
    from apps.notifications.models import Kind
    from apps.notifications.selectors import chosen_channels
    from apps.notifications.services import build_user_notifications, enqueue_notifications

    admins = list(
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name=roles.ADMINISTRATOR))
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )
    if not admins:
        return 0
    kind = Kind.LLM_BUDGET
    channels = chosen_channels(user_ids=admins, kinds=[kind])
    day = timezone.localdate()
    rows = []
    for user_id in admins:
        rows += build_user_notifications(
            user_id=user_id,
            channels_on=channels[(user_id, kind)],
            kind=kind,
            obj=f"llm:{use}",
            threshold=str(budget),
            on=day,
            subject=f"LLM daily budget reached for {use}",
            body=(
                f"Today's LLM spend for {use} is {spent} against a budget of {budget}. "
                "The rule engine answers until midnight."
            ),
            url="/admin/",
        )
    with transaction.atomic():
        created = enqueue_notifications(rows)
    if created:
        logger.warning("LLM daily budget reached for %s (%s of %s): administrators notified.", use, spent, budget)
    return len(created)
