"""The customer 360 page's holdings, household, open opportunities and identity documents as HTML,
kept by exactly what they show (apps/core/fragments.py render_panels, decision 189).

The page is the most frequent of the capacity mix, and these four sections were about half of its
template rendering (decision 189's measures). Here each is a panel: a template framing plain values
the view builds in Python from what customer_360 read through the visibility selectors: money as
`money` prints it, dates as `date` prints them in the active language, choice labels and fixed
words already translated, every URL. What depends on the viewer is in the values too: a relative
outside the viewer's book is only the phrase OUTSIDE_BOOK (never their name or link), and the
"Add an opportunity" button is there only for a viewer who may edit customers. The four are read
with one cache get a page and rendered only when something they show changed. No panel holds a
form (render_panels refuses one).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.core.signals import setting_changed
from django.utils import translation
from django.utils.html import conditional_escape, json_script
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from apps.core.fragments import Panel, render_panels
from apps.core.templatetags.finpulse import EMPTY, format_money, format_rate, local_time_parts, person_name, translated
from apps.core.templatetags.kept_i18n import choice_label
from apps.core.urls_fast import fast_reverse, url_former

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from apps.accounts.positions import CurrencyPosition
    from apps.workspace.customer_360 import Customer360

HOLDINGS = "workspace/_360_holdings.html"
HOUSEHOLD = "workspace/_360_household.html"
OPPORTUNITIES = "workspace/_360_opportunities.html"
DOCUMENTS = "workspace/_360_documents.html"
POSITIONS = "workspace/_360_positions.html"  # the row of the holdings and household panels

# `{% translate %}` prints a fixed message unescaped: the panels' words are marked safe as such.
_FIXED = {
    "holdings_title": "Holdings",
    "household_title": "Household",
    "opportunities_title": "Open opportunities",
    "documents_title": "Identity documents",
    "owed_to_bank": "(owed to the bank)",
    "product": "Product",
    "number": "Number",
    "role": "Role",
    "balance": "Balance",
    "rate": "Rate",
    "opened": "Opened",
    "matures": "Matures",
    "status": "Status",
    "no_holdings": "No holdings.",
    "held_for_others": "Held for others",
    "not_counted": "(beneficiary or power of attorney: not counted in the totals)",
    "currency": "Currency",
    "held": "Held",
    "owed": "Owed",
    "net": "Net",
    "holdings_caption": "Portfolio by currency (active holdings the customer owns; joint holdings in full)",
    "household_caption": "Household totals (owned and joint holdings; a joint holding counted once, in full)",
    "household_outside_caption": (
        "Household totals of the members you may see (owned and joint holdings; a joint holding counted "
        "once, in full); customers outside your book are not counted"
    ),
    "no_household": "No household members.",
    "no_documents": "No identity documents on file.",
    "no_expiry": "no expiry date",
    "stage": "Stage",
    "amount": "Amount",
    "expected_close": "Expected close",
    "owner": "Owner",
    "on_the_board": "On the board",
    "pipeline": "Pipeline",
    "no_opportunities": "No open opportunities.",
    "add_opportunity": "Add an opportunity",
}


@lru_cache(maxsize=16)
def _words(language: str) -> dict[str, SafeString]:
    """The panels' fixed words in `language`, looked up once per process and language."""
    with translation.override(language):
        # Safe: our own catalogue's fixed messages, as `{% translate %}` prints them.
        return {name: mark_safe(gettext(text)) for name, text in _FIXED.items()}  # noqa: S308  # nosec B308 B703


def _forget_words(**kwargs: Any) -> None:
    _words.cache_clear()


setting_changed.connect(_forget_words, dispatch_uid="customer_panels_forget_words")


def _with_value(message: str, **values: str) -> SafeString:
    """What `{% blocktranslate with name=value %}` prints: the message translated, unescaped, with
    each value escaped as the template escapes a variable."""
    # Safe: a fixed message of our catalogue with escaped values, as blocktranslate prints it.
    return mark_safe(gettext(message) % {k: conditional_escape(v) for k, v in values.items()})  # noqa: S308  # nosec B308 B703


def _positions_row(
    positions: Iterable[CurrencyPosition], caption: SafeString, words: dict[str, SafeString]
) -> dict[str, Any]:
    """What the positions table (_360_positions.html) shows of some positions, as plain values."""
    return {
        "words": words,
        "caption": caption,
        "positions": [
            {
                "currency": p.currency,
                "held": format_money(p.held, p.currency),
                "owed": format_money(p.owed, p.currency),
                "net": format_money(p.net, p.currency),
            }
            for p in positions
        ],
    }


def _holdings(view: Customer360, words: dict[str, SafeString], day: Callable[[Any], str]) -> Panel:
    def holding_row(holding: Any) -> dict[str, Any]:
        instruction = choice_label(holding, "maturity_instruction").lower() if holding.maturity_instruction else ""
        return {
            "product": holding.product.name,
            "number": holding.number_hint or EMPTY,
            "role": translated(holding.role),
            "balance": format_money(holding.balance, holding.currency),
            "rate": format_rate(holding.rate),
            "opened": day(holding.opened_on),
            "matures": day(holding.maturity_date) or EMPTY,
            "instruction": instruction,
            "status": choice_label(holding, "status"),
        }

    groups = [
        {
            "label": translated(group.label),
            "is_liability": group.is_liability,
            "holdings": [holding_row(holding) for holding in group.holdings],
            "totals": [
                {
                    "label": _with_value("Total %(currency)s", currency=t.currency),
                    "amount": format_money(t.amount, t.currency),
                }
                for t in group.totals
            ],
        }
        for group in view.holding_groups
    ]
    others = [holding_row(holding) for holding in view.other_holdings]
    charts = [
        {
            "label": _with_value(
                "Balances by category in %(currency)s; the tables above give the figures.", currency=series["currency"]
            ),
            "caption": _with_value("Balances by category, %(currency)s", currency=series["currency"]),
        }
        for series in view.chart
    ]
    facts = {
        "words": words,
        "groups": groups,
        "others": others,
        # Exactly what `{{ view.chart|json_script:"portfolio-chart-data" }}` printed.
        "chart_data": json_script(view.chart, "portfolio-chart-data") if view.chart else "",
        "charts": charts,
    }
    return HOLDINGS, facts, POSITIONS, [_positions_row(view.positions, words["holdings_caption"], words)]


def _household(view: Customer360, words: dict[str, SafeString], customer_url: Callable[..., str]) -> Panel:
    members = []
    for member in view.household:
        relationships = ", ".join(str(kind) for kind in member.relationships)
        if member.customer is None:
            # Outside the viewer's book: the phrase alone, never the relative's name, link or segment.
            members.append({"outside": str(member.outside_book_label), "relationships": relationships})
        else:
            members.append(
                {
                    "outside": "",
                    "relationships": relationships,
                    "url": customer_url(member.customer.pk),
                    "name": member.customer.display_name,
                    "segment": choice_label(member.customer, "segment"),
                }
            )
    caption = words["household_outside_caption"] if view.household_outside_book else words["household_caption"]
    facts = {"words": words, "members": members, "outside_book": view.household_outside_book}
    rows = [_positions_row(view.household_positions, caption, words)] if members else []
    return HOUSEHOLD, facts, POSITIONS, rows


def _opportunities(
    view: Customer360, words: dict[str, SafeString], day: Callable[[Any], str], *, may_edit: bool
) -> Panel:
    board = fast_reverse("opportunities:board")
    opportunities = [
        {
            "url": opportunity.get_absolute_url(),
            "product": opportunity.product.name,
            "stage": opportunity.stage.name,
            "amount": format_money(opportunity.amount, opportunity.currency),
            "expected_close": day(opportunity.expected_close),
            "owner": person_name(opportunity.owner),
            "pk": opportunity.pk,
        }
        for opportunity in view.opportunities
    ]
    facts = {
        "words": words,
        "opportunities": opportunities,
        "board_url": board,
        "more": (
            _with_value("The %(shown)s closing soonest; the others are on the board.", shown=str(len(opportunities)))
            if view.more_opportunities and opportunities
            else ""
        ),
        # The viewer's right, a fact of the panel: the button is shown only to who may edit.
        "new_url": fast_reverse("opportunities:customer_new", view.customer.pk) if may_edit else "",
    }
    return OPPORTUNITIES, facts, None, []


def _documents(view: Customer360, words: dict[str, SafeString], day: Callable[[Any], str]) -> Panel:
    documents = [
        {
            "type": choice_label(document, "document_type"),
            "number": document.number_hint,
            "country": document.issuing_country,
            "expires": _with_value("expires %(date)s", date=day(document.expiry_date)) if document.expiry_date else "",
        }
        for document in view.documents
    ]
    return DOCUMENTS, {"words": words, "documents": documents}, None, []


def customer_panels(view: Customer360, *, may_edit: bool) -> dict[str, SafeString]:
    """The four panels' HTML by name (holdings, household, opportunities, documents): one cache read."""
    words = _words(translation.get_language())
    parts = local_time_parts()

    def day(value: Any) -> str:  # what `{{ value|date }}` prints: "" for no date
        return parts(value)[1]

    return render_panels(
        {
            "holdings": _holdings(view, words, day),
            "household": _household(view, words, url_former("customers:detail")),
            "opportunities": _opportunities(view, words, day, may_edit=may_edit),
            "documents": _documents(view, words, day),
        }
    )
