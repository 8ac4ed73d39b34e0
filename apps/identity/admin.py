"""Admin for branches, employees and groups.

Roles (groups) are refilled from the SSO token's claims at every login, so a group changed
here holds only until the person's next sign-in; the identity provider is the source of
truth. The SSO identity (issuer, subject) is shown but never edited: it is how a login is
matched to this account.

Access given here is four-eyes (apps/identity/access_grants.py): adding a group, a permission
or the staff or superuser flag to a person, or a permission to a group, is proposed and applies
when a second administrator approves; removing access applies at once. Either way through the
services (`grant_access`, `revoke_access`), audited. A group's name is fixed once it exists:
roles are matched by group name, so a rename would move a role.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from apps.identity import roles
from apps.identity.access_grants import AccessGrant, pending_grants, propose_access_grant
from apps.identity.models import Branch, User
from apps.identity.services import revoke_access

ACCESS_FLAGS = ("is_staff", "is_superuser")


def _ids(values: Any) -> set[int]:
    return {item.pk for item in values or ()}


def _show_pending(request: HttpRequest, target_type: str, object_id: str) -> None:
    # "A pending change is visible where it will apply": on the person's or group's own page.
    if not str(object_id).isdigit():
        return
    for change in pending_grants(target_type=target_type, target_id=int(object_id)):
        messages.warning(
            request,
            f"Waiting for a second administrator (request #{change.pk}, proposed by {change.maker}, "
            f"until {change.expires_at:%d %b %Y %H:%M}): {change.summary}",
        )


def _proposed(request: HttpRequest, change: Any) -> None:
    messages.info(
        request,
        f"Proposed (request #{change.pk}): {change.summary}. It applies when a second administrator "
        "approves it in Approvals.",
    )


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

    # -- access: grants are proposed (four eyes), revocations apply now --

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if request.method == "GET":
            _show_pending(request, "identity.user", object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        current = User.objects.select_for_update().get(pk=obj.pk)
        data = form.cleaned_data
        groups_before, groups_after = set(current.groups.values_list("pk", flat=True)), _ids(data.get("groups"))
        perms_before = set(current.user_permissions.values_list("pk", flat=True))
        perms_after = _ids(data.get("user_permissions"))
        if "groups" not in data:
            groups_after = groups_before
        if "user_permissions" not in data:
            perms_after = perms_before
        wanted = {flag: bool(data.get(flag, getattr(current, flag))) for flag in ACCESS_FLAGS}
        # The plain save keeps the access as it is; the services below change it.
        for flag in ACCESS_FLAGS:
            setattr(obj, flag, getattr(current, flag))
        super().save_model(request, obj, form, change)
        lost_flags = {flag: getattr(current, flag) and not wanted[flag] for flag in ACCESS_FLAGS}
        if groups_before - groups_after or perms_before - perms_after or any(lost_flags.values()):
            revoke_access(
                actor=request.user,
                user=obj,
                group_ids=sorted(groups_before - groups_after),
                permission_ids=sorted(perms_before - perms_after),
                **lost_flags,
            )
        grant = AccessGrant(
            user=obj,
            group_ids=sorted(groups_after - groups_before),
            permission_ids=sorted(perms_after - perms_before),
            is_staff=wanted["is_staff"] and not current.is_staff,
            is_superuser=wanted["is_superuser"] and not current.is_superuser,
        )
        if not grant.is_empty:
            _proposed(request, propose_access_grant(actor=request.user, grant=grant, reason="Django admin"))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if not change:
            super().save_related(request, form, formsets, change)
            return
        # Groups and permissions (the user's only many-to-many fields) were handled in
        # save_model; form.save_m2m() would write them on one person's word.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

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


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    """Groups are roles: a permission added to one is four-eyes, a permission removed applies now."""

    def get_readonly_fields(self, request: HttpRequest, obj: Group | None = None) -> Any:
        return ("name",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A role's group stays: its members would silently lose the role (or gain it back by
        # name at their next sign-in). Remove its permissions instead.
        return False

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if request.method == "GET":
            _show_pending(request, "auth.group", object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Group, form: Any, change: bool) -> None:
        before = set(obj.permissions.values_list("pk", flat=True)) if change else set()
        after = _ids(form.cleaned_data.get("permissions"))
        super().save_model(request, obj, form, change)
        if before - after:
            revoke_access(actor=request.user, group=obj, permission_ids=sorted(before - after))
        if after - before:
            grant = AccessGrant(group=obj, permission_ids=sorted(after - before))
            _proposed(request, propose_access_grant(actor=request.user, grant=grant, reason="Django admin"))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Permissions (the group's only many-to-many field) were handled in save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
