"""API keys in Django admin: an administrator creates one, sees its secret once, revokes it.

The secret is rendered in the response to the creating POST only (no redirect, no message
in the session), with `Cache-Control: no-store`; afterwards only its prefix is ever shown.
Keys are never edited or deleted: scopes or owner change by issuing a new key and revoking
the old one, so past uses stay attributable.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from apps.api.models import ApiKey, Scope
from apps.api.services import create_api_key, revoke_api_key
from apps.core.admin import ServiceAdmin, adopt
from apps.core.errors import DomainError
from apps.identity.models import User

_NEW_KEY_ATTRIBUTE = "_finpulse_new_api_key"


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple)
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        help_text="Requests made with the key run as this person: their role and customers bound it.",
    )

    class Meta:
        model = ApiKey
        fields = ("name", "owner", "scopes", "expires_at")


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceAdmin):
    list_display = ("name", "key_prefix", "owner", "scope_list", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "owner__username")
    list_select_related = ("owner",)
    readonly_fields = (
        "name",
        "key_prefix",
        "owner",
        "scopes",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "revoked_by",
        "last_used_at",
    )
    actions = ["revoke_selected"]

    @admin.display(description="key")
    def key_prefix(self, obj: ApiKey) -> str:
        return f"fp_{obj.prefix}_…"

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ApiKeyCreateForm.Meta.fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a key is never edited: issue a new one and revoke the old

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            raise NotImplementedError("API keys are never edited.")
        data = form.cleaned_data
        api_key, secret = create_api_key(
            actor=request.user,
            owner=data["owner"],
            name=data["name"],
            scopes=data["scopes"],
            expires_at=data["expires_at"],
        )
        adopt(obj, api_key)
        setattr(request, _NEW_KEY_ATTRIBUTE, secret)

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue: str | None = None) -> HttpResponse:
        secret = getattr(request, _NEW_KEY_ATTRIBUTE, None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        response = TemplateResponse(
            request,
            "admin/api/apikey/secret.html",
            {**self.admin_site.each_context(request), "opts": self.opts, "api_key": obj, "secret": secret},
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected API keys")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            try:
                revoke_api_key(actor=request.user, api_key=api_key, reason="Revoked in admin")
            except DomainError as error:
                self.message_user(request, f"{api_key}: {error.message}", messages.ERROR)
            else:
                revoked += 1
        self.message_user(request, f"Revoked {revoked} API key(s).", messages.SUCCESS)
