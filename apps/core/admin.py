"""Django admin: the shared base every FinPulse admin builds on, and the core models' admins.

The base makes three rules hold on every admin page:
- writes go through services; a DomainError from a service re-renders the form with its
  message (the failed attempt's transaction is rolled back, so nothing is half-written);
- a missing or hidden object is a real 404 (Django's default redirects with "does not
  exist", which lets ids be probed);
- nothing is deleted: banks keep records (customers and holdings are closed, products
  deactivated, tasks cancelled).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from apps.core.errors import DomainError, NotFound
from apps.core.fields import encrypted_fields
from apps.core.models import AuditEvent, BusinessCalendar, FxRate
from apps.core.services import save_fx_rate, set_business_date

_REJECTION = "_finpulse_service_rejection"


def without_ciphertext(queryset: QuerySet[Any], *relations: str) -> QuerySet[Any]:
    """Defer every encrypted column of the model (and of the select_related `relations`).

    Encrypted values are decrypted as rows load, so a list that loaded them would decrypt
    every row it shows; lists show the *_hint columns instead.
    """
    names = [field.name for field in encrypted_fields(queryset.model)]
    for relation in relations:
        model: type[models.Model] = queryset.model
        for part in relation.split("__"):
            model = model._meta.get_field(part).related_model
        names += [f"{relation}__{field.name}" for field in encrypted_fields(model)]
    return queryset.defer(*names) if names else queryset


def adopt(target: models.Model, saved: models.Model) -> models.Model:
    """Copy what a service saved onto the admin's in-memory instance (for logging and redirects)."""
    for field in saved._meta.concrete_fields:
        if field.attname in saved.__dict__:
            setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db
    return target


def _with_rejection(form_class: type, error: DomainError) -> type:
    class RejectedByService(form_class):  # type: ignore[misc, valid-type]
        def clean(self) -> dict[str, Any]:
            cleaned = super().clean()
            field = error.field if error.field in self.fields else None
            self.add_error(field, error.message)
            return cleaned

    RejectedByService.__name__ = form_class.__name__
    return RejectedByService


class ServiceAdmin(admin.ModelAdmin):
    """Base admin: service writes, DomainError as form errors, 404 for hidden objects, no deletes."""

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        # Missing, hidden by the selector, or of a model the user may not read: all look alike
        # (404), so ids cannot be probed through the admin.
        if not self.has_view_or_change_permission(request):
            raise Http404("No such record.")
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such record.")
        return obj

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            # The service said no after the form validated. The first attempt's transaction
            # has rolled back; render the same POST again with the message on the form.
            if request.method != "POST" or hasattr(request, _REJECTION):
                raise
            setattr(request, _REJECTION, error)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change, **kwargs)
        error = getattr(request, _REJECTION, None)
        return _with_rejection(form_class, error) if error is not None else form_class

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # A subclass that forgets to route a write through its service must fail loudly.
        raise NotImplementedError(f"{type(self).__name__} saves through a service.")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # m2m fields and inline rows are written by the services; Django's own save is not used.
        if any(formset.has_changed() for formset in formsets):
            raise NotImplementedError(f"{type(self).__name__} saves inline rows through a service.")

    def construct_change_message(self, request: HttpRequest, form: Any, formsets: Any, add: bool) -> Any:
        # Django's message reads what formset.save() recorded; service-written rows were not
        # saved through the formsets, so the history entry names the form's fields only.
        for formset in formsets:
            for name in ("new_objects", "changed_objects", "deleted_objects"):
                if not hasattr(formset, name):
                    setattr(formset, name, [])
        return super().construct_change_message(request, form, formsets, add)


class ReadOnlyAdmin(ServiceAdmin):
    """Rows that only services and jobs write (alerts, the outbox, advice, leads): read here, never
    added, changed or deleted; admin actions still call their services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """An inline that only shows rows; they change through their services elsewhere."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, read-only for everyone (the database refuses UPDATE and DELETE anyway).

    Django admin is for administrators (docs/decisions.md 37); compliance officers read the
    trail on their own page (/audit/, apps.workspace.audit_trail). Managers see none of it: the
    trail holds events of every customer and of the bank's own configuration, and filtering
    it by the customer selector would still show events about colleagues; a manager reads
    their customers' history on the customer's timeline instead.
    """

    list_display = ("occurred_at", "actor_label", "action", "object_type", "object_id", "customer_id", "request_id")
    list_filter = ("action", "object_type")
    search_fields = ("action", "actor_label", "=object_id")
    list_select_related = False
    # The trail grows without end: skip the second, unfiltered COUNT(*) on every page.
    show_full_result_count = False
    fields = (
        "occurred_at",
        "actor_label",
        "actor",
        "action",
        "object_type",
        "object_id",
        "customer_id",
        "changes",
        "metadata",
        "request_id",
        "prev_hash",
        "hash",
    )
    readonly_fields = fields

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        return (
            user.is_active
            and (user.is_administrator or user.is_compliance_officer)
            and super().has_view_permission(request, obj)
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such audit event.")
        return obj


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(ServiceAdmin):
    """One row (pk=1): pin the business date, e.g. to replay a maturity scan for a given day."""

    list_display = ("__str__", "pinned_date", "updated_at")
    list_select_related = False
    fields = ("pinned_date", "updated_at")
    readonly_fields = ("updated_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not BusinessCalendar.objects.filter(pk=1).exists()

    def save_model(self, request: HttpRequest, obj: BusinessCalendar, form: Any, change: bool) -> None:
        calendar = set_business_date(actor=request.user, pinned_date=form.cleaned_data.get("pinned_date"))
        adopt(obj, calendar)
        if settings.FINPULSE_BUSINESS_DATE:
            self.message_user(
                request,
                f"FINPULSE_BUSINESS_DATE={settings.FINPULSE_BUSINESS_DATE} is set on this server and takes "
                "precedence over the date pinned here.",
                messages.WARNING,
            )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None


@admin.register(FxRate)
class FxRateAdmin(ServiceAdmin):
    """The bank's FX rates (bulk: `import_fx_rates`); a correction here is audited with the old rate."""

    list_display = ("rate_date", "base_currency", "quote_currency", "rate", "source", "updated_at")
    list_filter = ("quote_currency", "base_currency")
    date_hierarchy = "rate_date"
    search_fields = ("base_currency", "quote_currency")
    fields = ("rate_date", "base_currency", "quote_currency", "rate", "source", "updated_at")
    readonly_fields = ("updated_at",)

    def save_model(self, request: HttpRequest, obj: FxRate, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = save_fx_rate(
            actor=request.user,
            rate_date=data["rate_date"],
            base_currency=data["base_currency"],
            quote_currency=data["quote_currency"],
            rate=data["rate"],
            source=data.get("source") or "",
            fx_rate=obj if change else None,
        )
        adopt(obj, saved)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None
