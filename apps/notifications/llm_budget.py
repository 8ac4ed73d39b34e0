"""Administrators hear once a day when an LLM use reached its daily budget (apps.core.llm_budget).

The notice goes through the outbox; its dedupe key (kind, use, budget, date, channel,
recipient) makes it once per day and administrator, however many workers hit the cap at the
same time.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.llm_budget import exhausted_budget
from apps.identity import roles
from apps.identity.models import User
from apps.notifications.models import Kind
from apps.notifications.selectors import chosen_channels
from apps.notifications.services import build_user_notifications, enqueue_notifications

logger = logging.getLogger(__name__)


def budget_exhausted(*, use: str, spent_today: Decimal) -> bool:
    """True when today's spend for this use has reached its cap; the admins are then told (once)."""
    budget = exhausted_budget(use=use, spent_today=spent_today)
    if budget is None:
        return False
    notify_admins(use=use, spent=spent_today, budget=budget)
    return True


def notify_admins(*, use: str, spent: Decimal, budget: Decimal) -> int:
    """One outbox row per administrator and chosen channel, at most once a day per use."""
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
