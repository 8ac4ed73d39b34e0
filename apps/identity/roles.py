"""FinPulse roles are Django groups; at SSO login they are filled from the token's claims.

Which model permissions each role carries is declared here and synced after every
`migrate` (see IdentityConfig.ready), so a new app's models are covered without a new data
migration. Object visibility is decided by apps.customers.visibility, not by these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apps.identity.models import User

RELATIONSHIP_MANAGER = "Relationship manager"
BRANCH_MANAGER = "Branch manager"
COMPLIANCE_OFFICER = "Compliance officer"
ADMINISTRATOR = "Administrator"

ALL_ROLES = (RELATIONSHIP_MANAGER, BRANCH_MANAGER, COMPLIANCE_OFFICER, ADMINISTRATOR)

# Who is in Django admin (decisions.md 37): administrators only. Relationship managers,
# branch managers and compliance officers work on FinPulse's own pages, which render other
# books through the visibility selector; the admin is a tool for running the system.
ADMIN_SITE_ROLES = frozenset({ADMINISTRATOR})


def is_staff_for(role_names: frozenset[str] | set[str] | list[str] | tuple[str, ...], *, is_superuser: bool) -> bool:
    """Django's is_staff for someone with these roles: the one rule SSO sync and migrations apply."""
    return bool(is_superuser or ADMIN_SITE_ROLES & set(role_names))


def may_edit_customers(user: User) -> bool:
    """Who may change customers and anything under them (holdings, tasks, notes, leads, advice).

    Administrators, branch managers and relationship managers. A compliance officer never
    edits, even when they also hold a manager role: they review what managers did, so they
    must not be able to do it themselves (an administrator's role wins: administrators run
    the bank's configuration and hold every permission anyway).
    """
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    if user.is_administrator:
        return True
    if user.is_compliance_officer:
        return False
    return user.is_branch_manager or user.is_relationship_manager


MANAGER_PERMISSIONS = (
    "customers.view_customer",
    "customers.change_customer",
    "customers.add_customer",
    "customers.view_identitydocument",
    "customers.add_identitydocument",
    "customers.view_customerrelationship",
    "customers.view_customerconsent",
    "customers.view_customerassignment",
    "customers.reveal_pii",
    "accounts.view_holding",
    "accounts.view_holdingparty",
    "products.view_product",
    "products.view_productrate",
    "products.view_productfee",
    "tasks.view_task",
    "tasks.add_task",
    "tasks.change_task",
    "interactions.view_interaction",
    "interactions.add_interaction",
    "interactions.view_attachment",
    "recommendations.view_recommendation",
    "recommendations.add_recommendation",
    "recommendations.view_recommendationfeedback",
    "recommendations.add_recommendationfeedback",
    "leads.view_lead",
    "leads.add_lead",
    "leads.change_lead",
    "opportunities.view_opportunity",
    "opportunities.add_opportunity",
    "opportunities.change_opportunity",
    "opportunities.view_stage",
)
BRANCH_MANAGER_PERMISSIONS = (*MANAGER_PERMISSIONS, "identity.view_user", "identity.view_branch")
COMPLIANCE_PERMISSIONS = (
    "customers.view_all_customers",
    "customers.reveal_pii",
    "core.view_auditevent",
    "core.view_audit_trail",
    "identity.view_user",
    "identity.view_branch",
)
# Compliance also reads every model of these apps (view_* only).
COMPLIANCE_READ_APPS = (
    "customers",
    "accounts",
    "products",
    "tasks",
    "interactions",
    "recommendations",
    "leads",
    "opportunities",
)


def sync_role_permissions(**kwargs: object) -> None:
    """Create the role groups and set their permissions (idempotent; runs after migrate)."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    def named(perms: tuple[str, ...]) -> Q:
        query = Q(pk__in=[])
        for perm in perms:
            app_label, codename = perm.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
        return query

    spec = {
        RELATIONSHIP_MANAGER: Permission.objects.filter(named(MANAGER_PERMISSIONS)),
        BRANCH_MANAGER: Permission.objects.filter(named(BRANCH_MANAGER_PERMISSIONS)),
        COMPLIANCE_OFFICER: Permission.objects.filter(
            named(COMPLIANCE_PERMISSIONS)
            | Q(content_type__app_label__in=COMPLIANCE_READ_APPS, codename__startswith="view_")
        ),
        ADMINISTRATOR: Permission.objects.all(),
    }
    for name, permissions in spec.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)
