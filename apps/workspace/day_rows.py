"""The dashboard's work as HTML, kept by exactly what it shows (apps/core/fragments.py).

The page prints some fifty rows (four work sections of ten and the recent interactions) in five
panels, and rendering them through the template engine was about half of the page's web CPU
(decision 146), the panels' includes another part (decision 181). Each row is a dict of plain
values built from what my_day returned through the visibility selectors, the words and labels
already in the active language and the dates already printed as `time_tag` prints them; each
panel's facts (title, count, links, words) are plain values too. `render_panels` keeps the five
panels and the meetings slot as one entry and renders them only when something they show changed.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.core.signals import setting_changed
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from apps.core.fragments import Panel, render_panels
from apps.core.presentation import choice_labels
from apps.core.templatetags.finpulse import format_money, local_time_parts
from apps.core.urls_fast import fast_reverse, url_former
from apps.interactions.models import Interaction

if TYPE_CHECKING:
    from collections.abc import Callable

    from apps.interactions.selectors import RecentInteraction
    from apps.workspace.selectors import MyDay, Section

WORK_ROW = "workspace/_day_work_row.html"
INTERACTION_ROW = "workspace/_day_interaction_row.html"
WORK_SECTION = "components/work_section.html"
INTERACTIONS = "workspace/_day_interactions.html"
SLOT = "components/htmx_slot.html"


@lru_cache(maxsize=16)
def _words(language: str) -> dict[str, Any]:
    """The panels' fixed words and the channels' labels in `language`, looked up once per process
    and language (decision 181). The panels' words are marked safe, as `{% translate %}` and
    `_("...")` print a fixed message in a template (not escaped); the rows' are plain text."""
    with translation.override(language):
        fixed = {
            "see_all": gettext("See all"),
            "meetings_title": gettext("Today's meetings"),
            "meetings_link": gettext("Your meetings today"),
            "interactions_title": gettext("Recent interactions"),
            "no_interactions": gettext("No interactions recorded lately."),
            "no_tasks": gettext("Nothing due today."),
            "no_maturing": gettext("No holdings mature in the next weeks."),
            "no_documents": gettext("No identity document is about to expire."),
            "no_kyc": gettext("No KYC review is due."),
        }
        # Safe: our own catalogue's fixed messages, as a template prints them.
        words: dict[str, Any] = {name: mark_safe(text) for name, text in fixed.items()}  # noqa: S308  # nosec B308 B703
        words["channels"] = choice_labels(Interaction.Channel.choices)
        words["next"] = gettext("next:")
    return words


def _forget_words(**kwargs: Any) -> None:
    _words.cache_clear()


setting_changed.connect(_forget_words, dispatch_uid="day_rows_forget_words")


def _work_rows(
    section: Section, customer_url: Callable[..., str], when: Callable[[Any], tuple[str, str]]
) -> list[dict[str, Any]]:
    rows = []
    for item in section.items:
        iso, text = when(item.date)
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


def _interaction_rows(
    interactions: list[RecentInteraction],
    customer_url: Callable[..., str],
    when: Callable[[Any], tuple[str, str]],
    words: dict[str, Any],
) -> list[dict[str, Any]]:
    channels, next_word = words["channels"], words["next"]
    rows = []
    for interaction in interactions:
        iso, text = when(interaction.occurred_at)
        rows.append(
            {
                "url": customer_url(interaction.customer_id),
                "customer_name": interaction.customer_name,
                "channel": channels.get(interaction.channel, interaction.channel),
                "subject": interaction.subject,
                "author": interaction.author_name,
                "date_iso": iso,
                "date_text": text,
                "next_step": interaction.next_step,
                "next_word": next_word if interaction.next_step else "",
            }
        )
    return rows


def day_work(day: MyDay) -> dict[str, SafeString]:
    """The meetings slot and the five panels of the page as HTML, by name (one cache read)."""
    customer_url = url_former("customers:detail")
    when = local_time_parts()
    customers = fast_reverse("customers:list")
    words = _words(translation.get_language())
    see_all = words["see_all"]

    def work(section_id: str, section: Section, more_url: str, empty: SafeString) -> Panel:
        facts = {
            "section_id": section_id,
            "title": section.title,
            "count": len(section.items),
            "has_more": section.has_more,
            "more_url": more_url,
            "empty": empty,
            "see_all": see_all,
        }
        return WORK_SECTION, facts, WORK_ROW, _work_rows(section, customer_url, when)

    meetings_url = fast_reverse("calendar:today")
    slot = {
        "slot_id": "meetings",
        "title": words["meetings_title"],
        "url": meetings_url,
        "link_text": words["meetings_link"],
    }
    interactions = {"title": words["interactions_title"], "empty": words["no_interactions"]}
    return render_panels(
        {
            "meetings": (SLOT, slot, None, ()),
            "tasks": work("tasks", day.tasks, "/tasks/", words["no_tasks"]),
            "maturing": work(
                "maturing",
                day.maturing_holdings,
                customers + "?maturing=on&sort=name",
                words["no_maturing"],
            ),
            "documents": work("documents", day.expiring_documents, "", words["no_documents"]),
            "kyc": work("kyc", day.kyc_reviews, customers + "?kyc_due=on&sort=kyc", words["no_kyc"]),
            "interactions": (
                INTERACTIONS,
                interactions,
                INTERACTION_ROW,
                _interaction_rows(day.recent_interactions, customer_url, when, words),
            ),
        }
    )
