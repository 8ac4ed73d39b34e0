"""Saved views of the customer list and bulk actions on its rows: thin, services do the writes.

The customer list's tools (save this view, the saved views, the bulk-action bar) load as an htmx
fragment after the list, so the list page itself runs no extra query.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import DomainError, NotFound
from apps.core.http import domain_errors_on
from apps.customers.visibility import assignable_managers, may_assign_customers, may_edit_customers
from apps.workspace.forms import CustomerSearchForm
from apps.workspace.selectors import view_for_user, visible_views
from apps.workspace.services import (
    create_tasks_for,
    delete_view,
    open_opportunities_for,
    pin_view,
    propose_selected_assignment,
    save_view,
)
from apps.workspace.view_forms import BulkActionForm, PinForm, SaveViewForm


def _list_url(params: dict[str, object]) -> str:
    return reverse("customers:list") + ("?" + urlencode(params) if params else "")


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = default
    return redirect(target or default)


def _tools_context(request: HttpRequest, save_form: SaveViewForm | None = None) -> dict[str, object]:
    user = request.user
    can_assign = may_assign_customers(user)
    return {
        "views": list(visible_views(user=user).select_related("owner").order_by("name", "pk")),
        "save_form": save_form or SaveViewForm(),
        "may_edit": may_edit_customers(user),
        "colleagues": list(assignable_managers(actor=user)) if can_assign else [],
        "bulk_form": BulkActionForm(auto_id="bulk-%s"),
    }


@login_required
@require_GET
def list_tools(request: HttpRequest) -> HttpResponse:
    """The customer list's tools: save the current filters, open a saved view, act on ticked rows."""
    return render(request, "workspace/_list_tools.html", _tools_context(request))


@login_required
@require_POST
def save_current_view(request: HttpRequest) -> HttpResponse:
    """Save the list's current filters (the search form's fields, sent along) as a named view."""
    save_form = SaveViewForm(request.POST)
    search = CustomerSearchForm(request.POST, user=request.user)
    if save_form.is_valid():
        if not search.is_valid():
            save_form.add_error(None, "Fix the search above before saving it.")
        else:
            with domain_errors_on(save_form):
                view = save_view(
                    actor=request.user,
                    name=save_form.cleaned_data["name"],
                    params=search.filter_params(),
                    sharing=save_form.cleaned_data["sharing"],
                )
                context = _tools_context(request)
                context["saved_view"] = view
                return render(request, "workspace/_list_tools.html", context)
    context = _tools_context(request, save_form)
    return render(request, "workspace/_list_tools.html", context)


@login_required
@require_GET
def open_view(request: HttpRequest, view_id: int) -> HttpResponse:
    view = view_for_user(user=request.user, view_id=view_id)
    return redirect(_list_url(view.params))


@login_required
@require_GET
def saved_views(request: HttpRequest) -> HttpResponse:
    views = visible_views(user=request.user).select_related("owner").order_by("name", "pk")
    pinned = set(request.user.pinned_views.values_list("pk", flat=True))
    return render(request, "workspace/saved_views.html", {"views": views, "pinned": pinned})


@login_required
@require_POST
def pin(request: HttpRequest, view_id: int) -> HttpResponse:
    view = view_for_user(user=request.user, view_id=view_id)
    form = PinForm(request.POST)
    form.is_valid()  # one optional checkbox: always valid
    pinned = bool(form.cleaned_data.get("pinned"))
    pin_view(actor=request.user, view=view, pinned=pinned)
    messages.success(request, (_("Pinned “%(name)s”.") if pinned else _("Unpinned “%(name)s”.")) % {"name": view.name})
    return _back(request, reverse("workspace:saved_views"))


@login_required
@require_POST
def delete(request: HttpRequest, view_id: int) -> HttpResponse:
    view = view_for_user(user=request.user, view_id=view_id)
    try:
        delete_view(actor=request.user, view=view)
        messages.success(request, _("Deleted the view “%(name)s”.") % {"name": view.name})
    except DomainError as error:
        messages.error(request, error.message)
    return _back(request, reverse("workspace:saved_views"))


@login_required
@require_POST
def bulk_action(request: HttpRequest) -> HttpResponse:
    """Act on the ticked rows of the customer list: tasks, a colleague, opportunities, or the export."""
    form = BulkActionForm(request.POST)
    back = reverse("customers:list")
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return _back(request, back)
    data = form.cleaned_data
    ids = data["customer"]
    if data["action"] == "export":
        params: list[tuple[str, object]] = [("customer", pk) for pk in ids]
        if data.get("include_pii"):
            params += [("include_pii", "1"), ("reason", data.get("reason") or "")]
        return redirect(reverse("customers:export") + "?" + urlencode(params))
    try:
        if data["action"] == "task":
            tasks = create_tasks_for(actor=request.user, customer_ids=ids, title=data["title"], due_at=form.due_at())
            messages.success(
                request,
                ngettext("Created %(count)d task.", "Created %(count)d tasks.", len(tasks)) % {"count": len(tasks)},
            )
        elif data["action"] == "opportunity":
            opened = open_opportunities_for(
                actor=request.user,
                customer_ids=ids,
                product=data["product"],
                amount=data["amount"],
                currency=data["currency"],
                expected_close=data["expected_close"],
            )
            messages.success(
                request,
                ngettext("Opened %(count)d opportunity.", "Opened %(count)d opportunities.", len(opened))
                % {"count": len(opened)},
            )
        else:
            manager = get_user_model().objects.filter(pk=data["manager"]).first()
            if manager is None:
                raise NotFound("No such colleague.")
            change = propose_selected_assignment(actor=request.user, customer_ids=ids, manager=manager)
            messages.success(
                request,
                f"Proposed (request #{change.pk}): {change.summary}. "
                "The customers move when a second person approves it.",
            )
    except NotFound:
        messages.error(request, _("One of the selected customers is not in your book any more; nothing was changed."))
    except DomainError as error:
        messages.error(request, error.message)
    return _back(request, back)
