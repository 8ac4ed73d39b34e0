"""Interaction pages and fragments: thin, through selectors and services.

Each view answers an htmx request with the fragment the customer page embeds and a plain
request with a whole page, so every screen also works without JavaScript.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import DomainError, NotFound
from apps.core.http import domain_errors_on, refuse_read_only
from apps.customers.models import Customer
from apps.customers.visibility import customer_for_user, may_edit_customers
from apps.interactions import files
from apps.interactions.email_capture import (
    capture_addresses,
    discard_captured_email,
    file_captured_email,
    waiting_for_review,
)
from apps.interactions.forms import FileCapturedEmailForm, InteractionForm, NewInteractionForm
from apps.interactions.models import Attachment, Interaction
from apps.interactions.selectors import (
    attachment_for_user,
    corrections_of,
    customer_timeline,
    interaction_for_user,
)
from apps.interactions.services import (
    EDITABLE_FIELDS,
    add_correction,
    edit_interaction,
    editable_until,
    is_editable_by,
    log_interaction,
    record_attachment_download,
)

logger = logging.getLogger(__name__)


def _customer(request: HttpRequest, customer_id: int) -> Customer:
    return customer_for_user(user=request.user, customer_id=customer_id)


def _interaction(request: HttpRequest, interaction_id: int) -> Interaction:
    return interaction_for_user(user=request.user, interaction_id=interaction_id)


@login_required
@require_GET
def timeline(request: HttpRequest, customer_id: int) -> HttpResponse:
    before = request.GET.get("before", "")
    try:
        page = customer_timeline(user=request.user, customer_id=customer_id, before=before)
    except NotFound:
        raise  # another manager's customer: the 404 page, like any missing object
    except DomainError as error:  # a malformed "before" cursor
        return HttpResponseBadRequest(error.message)
    context = {"page": page, "customer": page.customer}
    if request.htmx:
        # "Older entries" appends rows to the open list; the first load gets the whole block.
        template = "interactions/_timeline_entries.html" if before else "interactions/_timeline.html"
        return render(request, template, context)
    return render(request, "interactions/timeline.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def interaction_create(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer(request, customer_id)
    refuse_read_only(may_edit=may_edit_customers(request.user))
    form = NewInteractionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        with domain_errors_on(form):
            log_interaction(actor=request.user, customer=customer, **form.cleaned_data)
            if request.htmx:
                context = {"form": NewInteractionForm(), "customer": customer, "saved": True}
                context["page"] = customer_timeline(user=request.user, customer_id=customer.pk)
                response = render(request, "interactions/_create_success.html", context)
                response["HX-Trigger"] = "interaction-logged"
                return response
            messages.success(request, _("Interaction logged."))
            return redirect(customer.get_absolute_url())
    context = {"form": form, "customer": customer}
    template = "interactions/_form.html" if request.htmx else "interactions/create.html"
    return render(request, template, context)


def _detail_context(request: HttpRequest, interaction: Interaction) -> dict[str, Any]:
    return {
        "interaction": interaction,
        "customer": interaction.customer,
        "corrections": list(corrections_of(user=request.user, interaction=interaction)),
        "can_edit": is_editable_by(interaction, request.user),
        "editable_until": editable_until(interaction),
        "can_correct": may_edit_customers(request.user),
    }


@login_required
@require_GET
def interaction_detail(request: HttpRequest, interaction_id: int) -> HttpResponse:
    interaction = _interaction(request, interaction_id)
    return render(request, "interactions/detail.html", _detail_context(request, interaction))


@login_required
@require_http_methods(["GET", "POST"])
def interaction_edit(request: HttpRequest, interaction_id: int) -> HttpResponse:
    interaction = _interaction(request, interaction_id)
    if interaction.author_id != request.user.pk:
        # Someone else's entry: there is nothing to edit here, and we do not say why.
        raise Http404("No such interaction.")
    if not is_editable_by(interaction, request.user):
        return render(request, "interactions/edit_closed.html", _detail_context(request, interaction), status=409)
    initial = {name: getattr(interaction, name) for name in EDITABLE_FIELDS}
    form = InteractionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with domain_errors_on(form):
            edit_interaction(actor=request.user, interaction=interaction, **form.cleaned_data)
            messages.success(request, _("Interaction updated."))
            return redirect(interaction.get_absolute_url())
        if form.non_field_errors() and not is_editable_by(interaction, request.user):
            return render(request, "interactions/edit_closed.html", _detail_context(request, interaction), status=409)
    return render(request, "interactions/edit.html", {"form": form, "interaction": interaction})


@login_required
@require_http_methods(["GET", "POST"])
def interaction_correct(request: HttpRequest, interaction_id: int) -> HttpResponse:
    original = _interaction(request, interaction_id)
    refuse_read_only(may_edit=may_edit_customers(request.user))
    initial = {"channel": original.channel, "subject": f"Correction: {original.subject}"[:200]}
    form = NewInteractionForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with domain_errors_on(form):
            correction = add_correction(actor=request.user, original=original, **form.cleaned_data)
            messages.success(request, _("Correction added."))
            return redirect(correction.get_absolute_url())
    return render(request, "interactions/correct.html", {"form": form, "original": original})


@login_required
@require_GET
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponse:
    attachment: Attachment = attachment_for_user(user=request.user, attachment_id=attachment_id)
    try:
        # Streamed through this view after the permission check (docs/decisions.md): the bucket
        # stays private and no URL that works without this check ever leaves the bank.
        handle = files.open_stored(attachment.storage_path)
    except (OSError, ValueError):
        logger.error("Attachment %s has no file in the storage.", attachment.pk)
        raise Http404("No such attachment.") from None
    record_attachment_download(actor=request.user, attachment=attachment)
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# -- captured email: the manager's review list ---------------------------------------------------


def _captured_form(captured_id: int, data: Any = None) -> FileCapturedEmailForm:
    return FileCapturedEmailForm(data, prefix=f"captured-{captured_id}")


def _review_page(request: HttpRequest, failed: FileCapturedEmailForm | None = None, failed_id: int = 0) -> HttpResponse:
    waiting = waiting_for_review(user=request.user)
    if failed is not None and not any(item.pk == failed_id for item in waiting):
        raise Http404("No such email is waiting for you.")
    rows = [(item, failed if item.pk == failed_id else _captured_form(item.pk)) for item in waiting]
    context = {"rows": rows, "capture_addresses": sorted(capture_addresses())}
    return render(request, "interactions/captured.html", context, status=400 if failed is not None else 200)


@login_required
@require_GET
def captured_emails(request: HttpRequest) -> HttpResponse:
    """Emails sent to the capture address that matched none of the manager's customers."""
    return _review_page(request)


@login_required
@require_POST
def captured_email_file(request: HttpRequest, captured_id: int) -> HttpResponse:
    refuse_read_only(may_edit=may_edit_customers(request.user))
    form = _captured_form(captured_id, request.POST)
    if form.is_valid():
        with domain_errors_on(form):
            customer = file_captured_email(
                actor=request.user, captured_id=captured_id, customer_number=form.cleaned_data["customer"]
            )
            messages.success(request, _("Filed on %(name)s's timeline.") % {"name": customer.display_name})
            return redirect("interactions:captured")
    return _review_page(request, form, captured_id)


@login_required
@require_POST
def captured_email_discard(request: HttpRequest, captured_id: int) -> HttpResponse:
    discard_captured_email(actor=request.user, captured_id=captured_id)
    messages.success(request, _("Email discarded."))
    return redirect("interactions:captured")
