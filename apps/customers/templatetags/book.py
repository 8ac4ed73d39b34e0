"""`{% customer_name customer %}` and `{% customer_link customer %}`: a related customer, or
"a customer outside your book" when the viewer may not see them (apps/customers/book.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import template
from django.utils.html import format_html

from apps.customers.book import OUTSIDE_BOOK, book_for
from apps.customers.visibility import may_edit_customers as may_edit_rule

if TYPE_CHECKING:
    from apps.identity.models import User

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_name(context: template.Context, customer: Any) -> str:
    return book_for(context["request"]).name(customer)


@register.simple_tag(takes_context=True)
def customer_link(context: template.Context, customer: Any) -> str:
    """A link to the customer's page, or the plain phrase (no id, no link) outside the book."""
    if customer is None:
        return ""
    if not book_for(context["request"]).sees(customer.pk):
        return format_html('<span class="muted">{}</span>', OUTSIDE_BOOK)
    return format_html('<a href="{}">{}</a>', customer.get_absolute_url(), customer.display_name)


@register.filter
def may_edit_customers(user: User) -> bool:
    """`{% if user|may_edit_customers %}`: show write buttons only to roles that may use them."""
    return may_edit_rule(user)
