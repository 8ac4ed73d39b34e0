"""`{% topbar %}`: the page shell's brand, navigation and bell, kept per process by the viewer's roles.

Every page renders the same top bar for everyone with the same roles: seventeen links and their
translations were about half of what the shell cost a page. The roles are the cached user facts
(apps/identity/user_facts.py); the HTML is kept by them (apps/core/fragments.py render_kept).
"""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AnonymousUser
from django.utils.safestring import SafeString

from apps.core.fragments import render_kept
from apps.identity.models import User
from apps.identity.roles import may_edit_customers

register = template.Library()


def topbar_facts(user: User | AnonymousUser | None) -> dict[str, bool]:
    """What the top bar shows about the viewer: which links their roles open, nothing else."""
    if not isinstance(user, User) or not user.is_authenticated:
        return {"signed_in": False}
    return {
        "signed_in": True,
        "may_edit_customers": may_edit_customers(user),
        "sees_portfolio": user.is_administrator or user.is_branch_manager,
        "is_compliance_officer": user.is_compliance_officer,
        "sees_admin": user.is_staff and user.is_administrator,
    }


@register.simple_tag(takes_context=True)
def topbar(context: template.Context) -> SafeString:
    return render_kept("components/topbar.html", topbar_facts(context.get("user")))
