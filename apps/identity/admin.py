"""Admin for branches and employees.

Roles (groups) are refilled from the SSO token's claims at every login, so a group changed
here holds only until the person's next sign-in; the identity provider is the source of
truth. The SSO identity (issuer, subject) is shown but never edited: it is how a login is
matched to this account.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from apps.identity import roles
from apps.identity.models import Branch, User


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "city", "is_active")
    list_filter = ("is_active", "city")
    search_fields = ("code", "name", "city")
    list_select_related = False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Customers and staff keep their branch for the record: deactivate instead.
        return False

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such branch.")
        return obj


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "branch", "is_staff", "is_active")
    list_select_related = ("branch",)
    list_filter = ("is_active", "is_staff", "is_superuser", "groups", "branch")
    search_fields = ("username", "first_name", "last_name", "email")
    autocomplete_fields = ("branch",)
    readonly_fields = ("oidc_issuer", "oidc_subject", "last_login", "date_joined")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Bank", {"fields": ("branch", "phone", "oidc_issuer", "oidc_subject")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Bank", {"classes": ("wide",), "fields": ("first_name", "last_name", "email", "branch")}),
    )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An employee's name stays on assignments, tasks and the audit trail: deactivate instead.
        return False

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such employee.")
        return obj

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # Autocomplete for a customer's primary manager offers only active managers (the
        # assignment service refuses anyone else anyway); other pickers offer active staff.
        if request.path.endswith("/autocomplete/"):
            results = results.filter(is_active=True)
            if request.GET.get("field_name") == "primary_manager":
                results = results.filter(groups__name__in=[roles.RELATIONSHIP_MANAGER, roles.BRANCH_MANAGER])
                may_have_duplicates = True
        return results, may_have_duplicates
