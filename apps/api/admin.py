"""API keys in Django admin: an administrator creates one, sees its secret once, revokes it.

The secret is rendered in the response to the creating POST only (no redirect, no message
in the session), with `Cache-Control: no-store`; afterwards only its prefix is ever shown.
A new key works only once a second administrator approves it in Approvals (four eyes,
apps.api.four_eyes). On a live key only the scopes can be edited: removed scopes go at once,
added ones wait for a second administrator. The owner, name and expiry never change (issue a
new key and revoke the old one), and keys are never deleted, so past uses stay attributable.
What waits for approval is shown on the key's page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.api.four_eyes import pending_key_changes
from apps.api.models import ApiKey, Scope
from apps.api.services import change_api_key_scopes, create_api_key, revoke_api_key
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


class ApiKeyScopesForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Removed scopes apply at once; added scopes apply when a second administrator approves."
        ),
    )

    class Meta:
        model = ApiKey
        fields = ("scopes",)


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceAdmin):
    list_display = ("name", "key_prefix", "owner", "scope_list", "status", "expires_at", "last_used_at")
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
        "approved_at",
        "approved_by",
        "last_used_at",
    )
    actions = ["revoke_selected"]

    @admin.display(description="key")
    def key_prefix(self, obj: ApiKey) -> str:
        return f"fp_{obj.prefix}_…"

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description=gettext_lazy("status"))
    def status(self, obj: ApiKey) -> str:
        if obj.revoked_at is not None:
            return _("revoked")
        if obj.expires_at <= timezone.now():
            return _("expired")
        if obj.approved_at is None:
            return _("not approved")
        return _("active")

    @staticmethod
    def _scopes_editable(obj: ApiKey | None) -> bool:
        return obj is not None and obj.is_usable

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        elif self._scopes_editable(obj):
            kwargs["form"] = ApiKeyScopesForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        if self._scopes_editable(obj):
            return tuple(field for field in self.readonly_fields if field != "scopes")
        return self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ApiKeyCreateForm.Meta.fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only a live, approved key's scopes are ever edited (removed at once, added by four eyes).
        return obj is not None and self._scopes_editable(obj) and super().has_change_permission(request, obj)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # "A pending change is visible where it will apply": on the key's own page.
        api_key = ApiKey.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        if api_key is not None and request.method == "GET" and self.has_view_permission(request):
            for change in pending_key_changes(api_key):
                messages.warning(
                    request,
                    _(
                        "Waiting for a second administrator (request #%(id)s, proposed by %(maker)s, "
                        "until %(until)s): %(summary)s"
                    )
                    % {
                        "id": change.pk,
                        "maker": change.maker,
                        "until": f"{timezone.localtime(change.expires_at):%d %b %Y %H:%M}",
                        "summary": change.summary,
                    },
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            proposed = change_api_key_scopes(actor=request.user, api_key=obj, scopes=form.cleaned_data["scopes"])
            if proposed is not None:
                messages.info(
                    request,
                    _(
                        "Proposed (request #%(id)s): %(summary)s. It applies when a second administrator "
                        "approves it in Approvals."
                    )
                    % {"id": proposed.pk, "summary": proposed.summary},
                )
            obj.refresh_from_db()
            return
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
