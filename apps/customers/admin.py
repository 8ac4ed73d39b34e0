"""Customer admin: every list starts from the customer selector; every write is a service call.

A relationship manager sees exactly their customers, a branch manager their branch,
compliance and administrators everyone (compliance read-only). Lists show masked hints and
never load a ciphertext; the change page of one customer shows the decrypted profile and
records that reveal in the audit trail. Who else holds access to a customer is shown
read-only (guardian's own per-object permission pages do not paginate and would bypass the
assignment service); access changes only through "Reassign to manager…".
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from apps.core.admin import ReadOnlyInline, ServiceAdmin, adopt, without_ciphertext
from apps.core.audit import record_pii_reveal
from apps.core.blind_index import blind_index
from apps.core.errors import DomainError, NotFound
from apps.customers.fields import BANKING_FIELDS, DOCUMENT_FIELDS, HINT_FIELDS, NAME_FIELDS, PROFILE_FIELDS
from apps.customers.forms import CustomerAdminForm, ReassignCustomersForm
from apps.customers.four_eyes import propose_reassignment
from apps.customers.models import (
    PII_FIELDS,
    Customer,
    CustomerAssignment,
    CustomerConsent,
    CustomerRelationship,
    CustomerUserObjectPermission,
    IdentityDocument,
)
from apps.customers.services import (
    add_identity_document,
    assign_customer,
    create_customer,
    link_customers,
    record_consent,
    update_customer,
)
from apps.customers.visibility import (
    can_reveal_pii,
    customer_for_user,
    may_assign_customers,
    may_edit_customers,
    visible_customers,
)
from apps.identity.models import Branch

# How many of the selected customers the reassignment page names (the rest are counted).
REASSIGN_PREVIEW = 20


def pii_search(search_term: str) -> list[tuple[str, str]]:
    """(index column, blind index) pairs an exact search term could match."""
    term = search_term.strip()
    if len(term) < 5:
        return []
    kinds = ["email"] if "@" in term else ["national_id", "phone"]
    pairs = []
    for kind in kinds:
        index = blind_index(kind, term)
        if index:
            pairs.append((f"{kind}_index", index))
    return pairs


class CustomerScopedAdmin(ServiceAdmin):
    """Admin for a model under a customer: rows and choices follow the customer selector."""

    customer_paths: tuple[str, ...] = ("customer",)
    # A record under a customer is found by its customer's name or core-banking id.
    search_fields: tuple[str, ...] = ("customer__display_name", "^customer__external_id")
    autocomplete_fields: tuple[str, ...] = ("customer",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        visible = visible_customers(user=request.user)
        rows = super().get_queryset(request).select_related(*self.customer_paths)
        return without_ciphertext(
            rows.filter(**{f"{self.customer_paths[0]}__in": visible.values("pk")}), *self.customer_paths
        )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is Customer:
            kwargs["queryset"] = without_ciphertext(visible_customers(user=request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return super().has_add_permission(request, *args) and may_edit_customers(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and may_edit_customers(request.user)


# --- Inlines on the customer page (read-only: each has its own service-backed admin) ---


class IdentityDocumentInline(ReadOnlyInline):
    model = IdentityDocument
    fields = DOCUMENT_FIELDS
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[IdentityDocument]:
        return without_ciphertext(super().get_queryset(request))


class CustomerRelationshipInline(ReadOnlyInline):
    model = CustomerRelationship
    fk_name = "from_customer"
    verbose_name = "relationship"
    # The related customer as text (str() is book-aware), never as a link that carries its id.
    fields = ("kind", "related_customer", "created_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[CustomerRelationship]:
        return without_ciphertext(super().get_queryset(request).select_related("to_customer"), "to_customer")

    @admin.display(description="Related customer")
    def related_customer(self, link: CustomerRelationship) -> str:
        return str(link.to_customer)


class CustomerConsentInline(ReadOnlyInline):
    model = CustomerConsent
    fields = ("channel", "purpose", "granted", "recorded_at", "source")
    readonly_fields = fields


class CustomerAssignmentInline(ReadOnlyInline):
    model = CustomerAssignment
    verbose_name = "assignment"
    verbose_name_plural = "assignment history"
    fields = ("manager", "assigned_by", "reason", "started_at", "ended_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[CustomerAssignment]:
        return super().get_queryset(request).select_related("manager", "assigned_by")


class CustomerAccessInline(ReadOnlyInline):
    """Who holds object permissions on this customer; changed only by the assignment service."""

    model = CustomerUserObjectPermission
    fk_name = "content_object"
    verbose_name = "employee with access"
    verbose_name_plural = "employees with access (change through “Reassign to manager…”)"
    fields = ("user", "permission")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[CustomerUserObjectPermission]:
        # Each row's label names the customer and the permission's content type: load them here.
        rows = super().get_queryset(request).select_related("user", "permission__content_type", "content_object")
        return without_ciphertext(rows, "content_object")


# --- Customers ---

IDENTITY_FIELDS = ("kind", "external_id", *NAME_FIELDS)


@admin.register(Customer)
class CustomerAdmin(ServiceAdmin):
    form = CustomerAdminForm
    list_display = (
        "display_name",
        "external_id",
        "segment",
        "kyc_status",
        "email_hint",
        "phone_hint",
        "national_id_hint",
        "branch",
        "primary_manager",
        "status",
    )
    list_select_related = ("branch", "primary_manager")
    list_filter = ("segment", "kyc_status", "status", "branch")
    search_fields = ("display_name", "^external_id")
    search_help_text = "Name or core-banking id; an exact email, phone or national id also matches."
    # Millions of rows for an administrator: skip the unfiltered COUNT(*) on every page.
    show_full_result_count = False
    actions = ["reassign_to_manager"]
    inlines = [
        IdentityDocumentInline,
        CustomerRelationshipInline,
        CustomerConsentInline,
        CustomerAssignmentInline,
        CustomerAccessInline,
    ]

    # -- reads --

    def get_inlines(self, request: HttpRequest, obj: Customer | None) -> Any:
        # Holdings, documents and history exist only once the customer does.
        return self.inlines if obj is not None else []

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        customers = visible_customers(user=request.user).select_related("branch", "primary_manager")
        return without_ciphertext(customers)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Customer:
        if from_field not in (None, "id"):
            return super().get_object(request, object_id, from_field)
        try:
            return customer_for_user(user=request.user, customer_id=object_id)
        except NotFound as error:
            raise Http404(error.message) from error

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Customer], search_term: str
    ) -> tuple[QuerySet[Customer], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        for column, index in pii_search(search_term):
            # Exact match through the keyed blind index: nothing is decrypted to search.
            results = results | queryset.filter(**{column: index})
        return results, may_have_duplicates

    @admin.display(description="Holdings")
    def holdings_link(self, customer: Customer) -> str:
        # The holdings admin (apps.accounts) lists them, filtered to this customer; a link by URL
        # name, as the 360 page's slots, because apps.customers does not import apps.accounts.
        url = reverse("admin:accounts_holding_changelist")
        return format_html(
            '<a href="{}?parties__customer__id__exact={}">Holdings of this customer</a>', url, customer.pk
        )

    # -- permissions --

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A customer created here is assigned at once, which only assigners may do; a
        # relationship manager would create a customer they could then not see.
        return super().has_add_permission(request) and may_assign_customers(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and may_edit_customers(request.user)

    def has_assign_permission(self, request: HttpRequest) -> bool:
        return may_assign_customers(request.user)

    # -- the form --

    def get_fieldsets(self, request: HttpRequest, obj: Customer | None = None) -> Any:
        personal = (*PII_FIELDS, "country")
        if not can_reveal_pii(user=request.user):
            personal = (*HINT_FIELDS, "country")
        relationship: tuple[str, ...] = ("branch", "primary_manager")
        if may_assign_customers(request.user) and (obj is None or self.has_change_permission(request, obj)):
            relationship = (*relationship, "assignment_reason")
        fieldsets = [
            (None, {"fields": IDENTITY_FIELDS}),
            ("Personal data (encrypted; opening this page is recorded)", {"fields": personal}),
            ("Profile", {"fields": BANKING_FIELDS}),
            ("Relationship", {"fields": relationship}),
        ]
        if obj is not None:
            fieldsets.append(("Record", {"fields": ("display_name", "holdings_link", "created_at", "updated_at")}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Customer | None = None) -> Any:
        readonly = ["display_name", "holdings_link", "created_at", "updated_at", *HINT_FIELDS]
        if obj is not None:
            # The core banking id and the booking branch have no change path in the services.
            readonly += ["external_id", "branch"]
        if not may_assign_customers(request.user):
            readonly.append("primary_manager")
        return readonly

    def get_autocomplete_fields(self, request: HttpRequest) -> Any:
        # Autocomplete asks the related admin, which answers only users allowed to view it.
        fields = []
        if request.user.has_perm("identity.view_branch"):
            fields.append("branch")
        if request.user.has_perm("identity.view_user"):
            fields.append("primary_manager")
        return fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        user = request.user
        if db_field.name == "branch" and not user.is_administrator:
            kwargs["queryset"] = Branch.objects.filter(pk=user.branch_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Customer | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk and can_reveal_pii(user=request.user):
            record_pii_reveal(actor=request.user, target=obj, fields=PII_FIELDS, reason="Django admin change form")
        return super().render_change_form(request, context, add, change, form_url, obj)

    # -- writes, all through the customer services --

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        data = form.cleaned_data
        reason = data.get("assignment_reason") or "Assigned in Django admin"
        if not change:
            profile = {name: data[name] for name in PROFILE_FIELDS if name in data}
            customer = create_customer(
                actor=request.user,
                external_id=data["external_id"],
                branch=data["branch"],
                manager=data.get("primary_manager"),
                reason=reason,
                **profile,
            )
            adopt(obj, customer)
            return
        new_manager = data.get("primary_manager")
        manager_changed = "primary_manager" in form.changed_data
        if manager_changed and new_manager is None:
            raise DomainError("A customer keeps a primary manager: choose who takes over.", field="primary_manager")
        customer = Customer.objects.get(pk=obj.pk)
        profile = {name: data[name] for name in PROFILE_FIELDS if name in form.changed_data}
        if profile:
            customer = update_customer(actor=request.user, customer=customer, **profile)
        if manager_changed:
            customer = assign_customer(actor=request.user, customer=customer, manager=new_manager, reason=reason)
        adopt(obj, customer)

    # -- the bulk action --

    @admin.action(description="Reassign to manager…", permissions=["assign"])
    def reassign_to_manager(self, request: HttpRequest, queryset: QuerySet[Customer]) -> HttpResponse | None:
        applying = "apply" in request.POST
        form = ReassignCustomersForm(request.POST if applying else None, actor=request.user)
        if applying and form.is_valid():
            manager = form.cleaned_data["manager"]
            # Four eyes (apps/customers/four_eyes.py): proposed here, applied when a second
            # person who could make the move approves it in Approvals.
            try:
                change = propose_reassignment(
                    actor=request.user,
                    customer_ids=list(queryset.values_list("pk", flat=True)),
                    manager=manager,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
                return None
            self.message_user(
                request,
                f"Proposed (request #{change.pk}): {change.summary}. The customers move when a second "
                "person approves it in Approvals.",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reassign customers to a manager",
            "opts": self.opts,
            "form": form,
            "preview": list(queryset[:REASSIGN_PREVIEW]),
            "total": queryset.count(),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/customers/customer/reassign.html", context)


# --- Records under a customer ---


@admin.register(IdentityDocument)
class IdentityDocumentAdmin(CustomerScopedAdmin):
    list_display = ("customer", *DOCUMENT_FIELDS)
    list_select_related = ("customer",)
    list_filter = ("document_type", "expiry_date", "issuing_country")
    readonly_fields = ("number_hint", "created_at")

    def get_fields(self, request: HttpRequest, obj: IdentityDocument | None = None) -> Any:
        if obj is None:
            return ("customer", "document_type", "number", "issuing_country", "issued_on", "expiry_date")
        # A recorded document is evidence: shown (number masked), never edited in place.
        return ("customer", *DOCUMENT_FIELDS, "created_at")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: IdentityDocument, form: Any, change: bool) -> None:
        data = form.cleaned_data
        document = add_identity_document(
            actor=request.user,
            customer=data["customer"],
            document_type=data["document_type"],
            number=data["number"],
            issuing_country=data["issuing_country"],
            expiry_date=data.get("expiry_date"),
            issued_on=data.get("issued_on"),
        )
        adopt(obj, document)


@admin.register(CustomerRelationship)
class CustomerRelationshipAdmin(CustomerScopedAdmin):
    customer_paths = ("from_customer", "to_customer")
    list_display = ("from_customer", "kind", "to_customer", "created_at")
    list_select_related = ("from_customer", "to_customer")
    list_filter = ("kind",)
    search_fields = ("from_customer__display_name", "^from_customer__external_id")
    autocomplete_fields = ("from_customer", "to_customer")
    fields = ("from_customer", "kind", "to_customer", "created_at")
    readonly_fields = ("created_at",)

    def get_fields(self, request: HttpRequest, obj: CustomerRelationship | None = None) -> Any:
        # A recorded link is shown as text: a read-only foreign key would link to the
        # related customer's change page, which carries their id.
        return self.fields if obj is None else ("from_customer_label", "kind", "to_customer_label", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: CustomerRelationship | None = None) -> Any:
        return self.readonly_fields if obj is None else self.get_fields(request, obj)

    @admin.display(description="From customer")
    def from_customer_label(self, link: CustomerRelationship) -> str:
        return str(link.from_customer)

    @admin.display(description="To customer")
    def to_customer_label(self, link: CustomerRelationship) -> str:
        return str(link.to_customer)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: CustomerRelationship, form: Any, change: bool) -> None:
        data = form.cleaned_data
        relationship = link_customers(
            actor=request.user, from_customer=data["from_customer"], to_customer=data["to_customer"], kind=data["kind"]
        )
        adopt(obj, relationship)


@admin.register(CustomerConsent)
class CustomerConsentAdmin(CustomerScopedAdmin):
    list_display = ("customer", "channel", "purpose", "granted", "recorded_at", "source")
    list_select_related = ("customer",)
    list_filter = ("channel", "purpose", "granted")
    fields = ("customer", "channel", "purpose", "granted", "source", "recorded_at")

    def get_readonly_fields(self, request: HttpRequest, obj: CustomerConsent | None = None) -> Any:
        # A consent is per customer, channel and purpose: changing one records it again.
        return ("recorded_at",) if obj is None else ("customer", "channel", "purpose", "recorded_at")

    def save_model(self, request: HttpRequest, obj: CustomerConsent, form: Any, change: bool) -> None:
        data = form.cleaned_data
        consent = record_consent(
            actor=request.user,
            customer=obj.customer if change else data["customer"],
            channel=obj.channel if change else data["channel"],
            purpose=obj.purpose if change else data["purpose"],
            granted=data["granted"],
            source=data.get("source", ""),
        )
        adopt(obj, consent)


@admin.register(CustomerAssignment)
class CustomerAssignmentAdmin(CustomerScopedAdmin):
    """The history of who looked after whom; written only by the assignment service."""

    list_display = ("customer", "manager", "assigned_by", "reason", "started_at", "ended_at")
    list_select_related = ("customer", "manager", "assigned_by")
    list_filter = (("ended_at", admin.EmptyFieldListFilter),)
    search_fields = ("customer__display_name", "^customer__external_id", "manager__username")
    fields = list_display
    readonly_fields = list_display
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[CustomerAssignment]:
        return super().get_queryset(request).select_related("manager", "assigned_by")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
