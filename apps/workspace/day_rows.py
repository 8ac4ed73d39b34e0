"""The dashboard's rows as HTML, each cached by exactly what it shows (apps/core/fragments.py).

The page prints some fifty rows (four work sections of ten and the recent interactions), and
rendering them through the template engine was about half of the page's web CPU (decision 146).
Each row is now a dict of plain values built from what my_day returned through the visibility
selectors, the words and labels already in the active language and the dates already printed as
`time_tag` prints them; `render_rows` renders only the rows it has not seen before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from apps.core.fragments import render_row_groups
from apps.core.presentation import choice_labels
from apps.core.templatetags.finpulse import EMPTY, format_money, time_parts
from apps.core.urls_fast import url_former
from apps.interactions.models import Interaction

if TYPE_CHECKING:
    from collections.abc import Callable

    from apps.workspace.selectors import MyDay, Section

WORK_ROW = "workspace/_day_work_row.html"
INTERACTION_ROW = "workspace/_day_interaction_row.html"


def _when(value: Any) -> tuple[str, str]:
    """(the time element's datetime attribute, its text) as time_tag prints them."""
    return time_parts(timezone.template_localtime(value)) or ("", "")


def _work_rows(section: Section, customer_url: Callable[..., str]) -> list[dict[str, Any]]:
    rows = []
    for item in section.items:
        iso, text = _when(item.date)
        rows.append(
            {
                "url": customer_url(item.customer_id),
                "customer_name": item.customer_name,
                "title": item.title,
                "amount": format_money(item.amount.amount, item.amount.currency) if item.amount else "",
                "rule": str(item.rule),
                "rule_code": item.rule_code,
                "date_label": str(item.date_label),
                "date_iso": iso,
                "date_text": text,
                "is_overdue": item.is_overdue,
            }
        )
    return rows


def _interaction_rows(interactions: list[Interaction], customer_url: Callable[..., str]) -> list[dict[str, Any]]:
    channels = choice_labels(Interaction.Channel.choices)
    next_word = gettext("next:")
    rows = []
    for interaction in interactions:
        iso, text = _when(interaction.occurred_at)
        author = interaction.author
        rows.append(
            {
                "url": customer_url(interaction.customer_id),
                "customer_name": interaction.customer.display_name,
                "channel": channels.get(interaction.channel, interaction.channel),
                "subject": interaction.subject,
                # As the person_name filter names an employee.
                "author": (author.get_full_name() or author.get_username()) if author else EMPTY,
                "date_iso": iso,
                "date_text": text,
                "next_step": interaction.next_step,
                "next_word": next_word if interaction.next_step else "",
            }
        )
    return rows


def day_rows(day: MyDay) -> dict[str, list[SafeString]]:
    """Each list of the page as its rows' HTML, by the section's id in the template (one cache read)."""
    customer_url = url_former("customers:detail")
    sections = {
        "tasks": day.tasks,
        "maturing": day.maturing_holdings,
        "documents": day.expiring_documents,
        "kyc": day.kyc_reviews,
    }
    groups = [(WORK_ROW, _work_rows(section, customer_url)) for section in sections.values()]
    groups.append((INTERACTION_ROW, _interaction_rows(day.recent_interactions, customer_url)))
    return dict(zip([*sections, "interactions"], render_row_groups(groups), strict=True))
