"""Customer pages of the manager workspace: list and search, CSV export, the 360 page, PII reveal.

Thin: forms shape the input, selectors read (always through visible_customers), the audit
trail is written by services. An htmx request gets the fragment the full page includes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf
from django.utils import timezone, translation
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from apps.core.audit import record_pii_reveal
from apps.core.errors import Conflict
from apps.core.fragments import joined_rows, render_form, render_kept, render_rows
from apps.core.http import domain_errors_on
from apps.core.machine_format import in_machine_language
from apps.core.urls_fast import fast_reverse, url_former
from apps.customers.book_facts import book_branches_keys
from apps.customers.fields import PII_LABELS
from apps.customers.four_eyes import (
    approved_export_for,
    export_needs_approval,
    exports_keys,
    exports_of,
    propose_pii_export,
    release_approved_export,
)
from apps.customers.models import Customer
from apps.customers.pii import revealed_pii
from apps.customers.services import record_customer_view
from apps.customers.visibility import can_reveal_pii, may_edit_customers
from apps.identity.step_up import step_up_refusal
from apps.workspace.customer_360 import Customer360, customer_360
from apps.workspace.customer_export import audit_filters, export_rows, prepare_export
from apps.workspace.customer_list import (
    SORT_LABELS,
    CustomerPage,
    CustomerQuery,
    CustomerRow,
    InvalidCursor,
    customer_list_page,
    is_pii_search,
)
from apps.workspace.customer_panels import customer_panels
from apps.workspace.forms import CustomerExportForm, CustomerSearchForm, RevealPiiForm

if TYPE_CHECKING:
    from apps.identity.models import User


def _is_htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    # A history restore needs the whole page, not the fragment.
    return bool(htmx) and not htmx.history_restore_request


FILTERS_CACHE_PREFIX = "customer-list-filters:"
FILTERS_SESSION_KEY = "customer_list_filters"  # without Redis (a database cache read is a query too)


def _filters_key(request: HttpRequest) -> str | None:
    """Where this session's last list filters are kept with Redis: under a digest of the session key
    (decision 133). None for a session not saved yet (nothing is remembered for it)."""
    session_key = request.session.session_key
    if not session_key:
        return None
    return FILTERS_CACHE_PREFIX + hashlib.blake2b(session_key.encode(), digest_size=20).hexdigest()


def remember_filters(
    request: HttpRequest, kept: dict[str, str] | None, *, found: Mapping[str, Any] | None = None
) -> None:
    """Keep these cleaned filters for this session (None: forget them), in Redis for as long as the
    session's idle timeout, so that a new search never writes the session row (decision 133).

    `found`: what `_read_ahead` read for this request. No filters where none were kept is not
    written: a missing entry, an empty one and an expired one read the same (decision 187)."""
    if not settings.REDIS_URL:
        if kept is None:
            request.session.pop(FILTERS_SESSION_KEY, None)
        elif request.session.get(FILTERS_SESSION_KEY) != kept:  # unchanged: no session write
            request.session[FILTERS_SESSION_KEY] = kept
    elif (key := _filters_key(request)) is not None:
        if kept is None:
            cache.delete(key)
        elif kept or found is None or found.get(key):
            cache.set(key, kept, settings.SESSION_COOKIE_AGE)


def remembered_filters(request: HttpRequest, *, found: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The filters this session last listed customers with ({} if none, or forgotten); `found`:
    what `_read_ahead` read for this request."""
    if not settings.REDIS_URL:
        return request.session.get(FILTERS_SESSION_KEY) or {}
    key = _filters_key(request)
    if key is None:
        return {}
    return (cache.get(key) if found is None else found.get(key)) or {}


def _read_ahead(request: HttpRequest, *, filters_bar: bool, exports: bool) -> dict[str, Any] | None:
    """With Redis, every entry a list or search request reads before its rows, in one round trip:
    the session's remembered filters, the viewer's branch options when the filter bar is shown,
    whether they have exports with personal data when they may export them (decision 187).
    None without Redis (the database's cache: each reads its own, or the session)."""
    if not settings.REDIS_URL:
        return None
    keys = [key] if (key := _filters_key(request)) is not None else []
    if filters_bar:
        keys += book_branches_keys(request.user)
    if exports:
        keys += exports_keys(request.user)
    return cache.get_many(keys) if keys else {}


def _remembered_filters(
    request: HttpRequest, *, found: Mapping[str, Any] | None = None
) -> tuple[QueryDict | dict[str, object], bool]:
    """The manager's last search and filters come back when they open the list again; "Reset"
    (?reset=1) forgets them. Only the cleaned filter parameters are kept, never a page cursor.

    With Redis they are kept beside the session, not in it: a new search would otherwise write the
    session row (a transaction) on every search and every return to the list (decision 133)."""
    if "reset" in request.GET:
        remember_filters(request, None)
        return {}, False
    if request.GET:
        return request.GET, False
    remembered = remembered_filters(request, found=found)
    return remembered, bool(remembered)


def _row(
    customer: CustomerRow,
    *,
    labels: dict[str, dict[str, str]],
    words: dict[str, str],
    maturing: bool,
    customer_url: Callable[..., str],
) -> dict[str, object]:
    """What one row of the list shows, as plain values: the cache key of its HTML (apps/core/fragments.py).

    The branch's and manager's names come with the row (customer_list.page_names)."""
    # The manager as User.get_full_name() or get_username() names them.
    names = customer.manager_names or {}
    manager = f"{names.get('first_name') or ''} {names.get('last_name') or ''}".strip() or names.get("username") or ""
    return {
        "pk": customer.id,
        "words": words,
        "url": customer_url(customer.id),
        "display_name": customer.display_name,
        "external_id": customer.external_id,
        "segment": labels["segment"].get(customer.segment, customer.segment),
        "kyc_status": labels["kyc_status"].get(customer.kyc_status, customer.kyc_status),
        "kyc_review_date": customer.kyc_review_date,
        # Lists show the masked hints only, never a decrypted value (docs/security.md).
        "email_hint": customer.email_hint,
        "phone_hint": customer.phone_hint,
        "branch_name": customer.branch_name,
        "manager_name": manager if customer.primary_manager_id else "—",
        "maturing": maturing,
        "next_maturity": customer.next_maturity if maturing else None,
    }


def _rows(page: CustomerPage | None, *, maturing: bool) -> SafeString:
    """The page's rows as one text, with the whitespace _customer_results.html's loop wrote around
    each (decision 182)."""
    if page is None:
        return SafeString("")
    # Choice labels in the active language, once per page rather than once per row.
    labels = {
        name: {str(value): _(str(label)) for value, label in Customer._meta.get_field(name).flatchoices}
        for name in ("segment", "kyc_status")
    }
    # The row template's own words (it may load no tags, so no {% trans %}).
    words = {"select": _("Select"), "review": pgettext("a KYC review on a date", "review")}
    # The 360 page's link form, looked up once for the page (Customer.get_absolute_url's route).
    customer_url = url_former("customers:detail")
    rows = (
        _row(customer, labels=labels, words=words, maturing=maturing, customer_url=customer_url)
        for customer in page.customers
    )
    return joined_rows(render_rows("workspace/_customer_row.html", rows), before="\n      ", after="\n    ")


@login_required
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    results_only = _is_htmx(request) and request.htmx.target == "customer-results"
    may_export = can_reveal_pii(user=request.user)
    ahead = _read_ahead(request, filters_bar=not results_only, exports=may_export)
    data, restored = _remembered_filters(request, found=ahead)
    form = CustomerSearchForm(data, user=request.user)
    page: CustomerPage | None = None
    cursor_error = ""
    params: dict[str, object] = {}
    if form.is_valid():
        query = form.to_query()
        params = form.filter_params()
        # An email, phone or id search is personal data: the session keeps the filters, not it.
        kept = {k: str(v) for k, v in params.items() if not (k == "q" and is_pii_search(str(v)))}
        remember_filters(request, kept, found=ahead)
        try:
            page = customer_list_page(user=request.user, query=query, cursor=form.cleaned_data["cursor"])
        except InvalidCursor as error:
            cursor_error = error.message
            page = customer_list_page(user=request.user, query=query)
    context = {
        "form": form,
        "page": page,
        "cursor_error": cursor_error,
        "sort_label": SORT_LABELS.get(page.sort, "") if page else "",
        "first_page_query": urlencode(params),
        "next_page_query": urlencode({**params, "sort": page.sort, "cursor": page.next_cursor})
        if page and page.next_cursor
        else "",
        # The previous page keeps the filters and the sort, like the next one.
        "previous_page_query": urlencode({**params, "sort": page.sort, "cursor": page.previous_cursor})
        if page and page.previous_cursor
        else "",
        "export_params": params,
        "filters_restored": restored,
        "has_filters": bool(params),
        # Column headers sort the list (same filters, first page).
        "sort_links": {key: urlencode({**params, "sort": key}) for key in ("name", "kyc", "updated")},
        "can_export_pii": may_export,
        # Four eyes: the person's exports with personal data, waiting or ready (once) to download.
        "pii_exports": exports_of(user=request.user, found=ahead) if may_export else None,
        "rows": _rows(page, maturing=bool(form.is_valid() and form.cleaned_data.get("maturing"))),
    }
    if results_only:
        # The search box's message travels out of band, so typing never loses focus.
        return render(request, "workspace/_customer_results.html", {**context, "oob": True})
    # The filter bar, from this process's memory when these inputs and this viewer's branches were
    # shown before (decision 112).
    context["filters_html"] = render_form(
        "workspace/_customer_filters.html", form, facts=form.branch_options(found=ahead), typed_field="q"
    )
    return render(request, "workspace/customer_list.html", context)


@login_required
@require_GET
def customer_export(request: HttpRequest) -> HttpResponse:
    form = CustomerExportForm(request.GET)
    if not form.is_valid():
        # Same page, same message in place, nothing exported and nothing audited.
        context = {"form": form, "page": None, "export_params": {}}
        return render(request, "workspace/customer_list.html", context, status=400)
    include_pii = form.cleaned_data["include_pii"]
    if include_pii and not can_reveal_pii(user=request.user):
        raise PermissionDenied("Your role may not export personal data.")
    # Exporting personal data is a privileged action: a recent second factor (docs/compliance.md).
    # Asked once the request is otherwise complete (a missing reason is said first, on the form);
    # the step-up page returns to this very export.
    if include_pii and form.cleaned_data["reason"].strip() and (refusal := step_up_refusal(request)):
        return refusal
    query = form.to_query()
    lines = None
    with domain_errors_on(form):  # personal data leaves only with a reason
        if include_pii:
            customer_ids = list(export_rows(user=request.user, query=query).values_list("pk", flat=True))
            if export_needs_approval(include_pii=True, rows=len(customer_ids)):
                # Four eyes: personal data of many customers leaves on a second person's word.
                change = propose_pii_export(
                    actor=request.user,
                    customer_ids=customer_ids,
                    filters=audit_filters(query),
                    reason=form.cleaned_data["reason"],
                    via="customer list",
                )
                messages.success(
                    request,
                    f"This export holds personal data of {len(customer_ids)} customers, more than "
                    f"{settings.FINPULSE_FOUR_EYES_EXPORT_THRESHOLD}: it was sent for approval (request "
                    f"#{change.pk}). Once a second person approves it, download it here, once.",
                )
                return redirect("customers:list")
        lines = prepare_export(
            user=request.user, query=query, include_pii=include_pii, reason=form.cleaned_data["reason"]
        )
    if lines is None:
        context = {"form": form, "page": None, "export_params": {}, "export_form": form}
        return render(request, "workspace/customer_list.html", context, status=400)
    return _csv_response(lines)


def _csv_response(lines: Iterator[str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(in_machine_language(lines), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def approved_export(request: HttpRequest, change_id: int) -> HttpResponse:
    """Download an export with personal data that a second person approved: its maker only,
    once, within FINPULSE_FOUR_EYES_EXPORT_DOWNLOAD_HOURS, with a recent second factor, and only
    while it holds exactly the customers approved. Anyone else gets 404."""
    change = approved_export_for(user=request.user, change_id=change_id)
    if refusal := step_up_refusal(request):
        return refusal
    query = CustomerQuery(customer_ids=tuple(change.payload["customer_ids"]))
    try:
        current = export_rows(user=request.user, query=query).values_list("pk", flat=True)
        release_approved_export(actor=request.user, change_id=change.pk, customer_ids=current)
        lines = prepare_export(
            user=request.user, query=query, include_pii=True, reason=change.reason, approval=change.pk
        )
    except Conflict as error:
        messages.error(request, error.message)
        return redirect("customers:list")
    return _csv_response(lines)


def _customer_view(request: HttpRequest, customer_id: int) -> Customer360:
    return customer_360(user=request.user, customer_id=customer_id)


# What the page shows alike for every customer in one language (and time zone, URL prefix and
# URL conf, as render_kept keys its parts): the PII rows' labels, the three htmx slots with the
# link's placeholder, and the unbound reveal form's reason field. Each is rendered by the same
# code as before (render_kept, render_form, gettext) the first time a process shows the page in
# that setting, then read from here: computing the parts' keys and labels on every request was
# about a tenth of the view's CPU outside the template (decision 183). A bound form (a POST to
# reveal) is rendered as before. Emptied when the language settings change, as kept_i18n is.
@dataclass(frozen=True)
class _FixedParts:
    pii_labels: tuple[tuple[str, str, str], ...]  # (field, label, the reveal button's name)
    slots: dict[str, str]  # slot key -> kept HTML, _SLOT_URL where the link goes
    reveal_reason_html: SafeString  # the unbound reveal form's reason field
    # The PII rows with nothing revealed, by whether the viewer may reveal: the HTML before each
    # field's hint (with the field), and the HTML after the last (decision 185).
    pii_rows: dict[bool, tuple[tuple[tuple[str, str], ...], str]]


_fixed_parts: dict[tuple[object, ...], _FixedParts] = {}


def _fixed_setting() -> tuple[object, ...]:
    return (
        translation.get_language(),
        timezone.get_current_timezone_name(),
        get_script_prefix(),
        get_urlconf(),
    )


def _fixed() -> _FixedParts:
    setting = _fixed_setting()
    parts = _fixed_parts.get(setting)
    if parts is None:
        labels = []
        for name, label in PII_LABELS.items():
            shown = _(str(label))
            labels.append((name, shown, _("Reveal %(label)s") % {"label": shown.lower()}))
        parts = _FixedParts(
            pii_labels=tuple(labels),
            pii_rows={can_reveal: _kept_pii_rows(tuple(labels), can_reveal=can_reveal) for can_reveal in (False, True)},
            slots={
                "tasks": _kept_slot("customer-tasks", _("Open tasks"), _("Open tasks for this customer")),
                "eligibility": _kept_slot(
                    "customer-eligibility",
                    _("Eligible products"),
                    _("Which products this customer can have, and why not"),
                ),
                "timeline": _kept_slot(
                    "customer-timeline", _("Timeline"), _("Interactions and events for this customer")
                ),
            },
            reveal_reason_html=_reveal_reason_html(RevealPiiForm()),
        )
        _fixed_parts[setting] = parts
    return parts


def forget_fixed_parts(**kwargs: Any) -> None:
    """Empty the kept fixed parts (the catalogues are reloaded when these settings change)."""
    if kwargs.get("setting") in (None, "LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "ROOT_URLCONF", "TIME_ZONE"):
        _fixed_parts.clear()


setting_changed.connect(forget_fixed_parts, dispatch_uid="customer_360_fixed_parts_forget")


def _pii_rows(view: Customer360, parts: _FixedParts) -> list[dict[str, object]]:
    """One row per PII field: its hint (what lists show) and, once revealed, the clear value.

    The label and the reveal button's name in the reader's language, made once per language
    (_FixedParts) rather than by filters and a {% blocktranslate %} per row."""
    customer, revealed = view.customer, view.revealed
    return [
        {
            "name": name,
            "label": label,
            "reveal_label": reveal_label,
            "hint": getattr(customer, f"{name}_hint", ""),
            "revealed": name in revealed,
            "value": revealed.get(name),
        }
        for name, label, reveal_label in parts.pii_labels
    ]


PII_ROWS = "workspace/_customer_pii_rows.html"
# Stands for a field's hint in the kept PII rows (followed by the field's name); never a hint.
_PII_HINT = "pii-hint-of-the-customer:"


def _kept_pii_rows(
    labels: tuple[tuple[str, str, str], ...], *, can_reveal: bool
) -> tuple[tuple[tuple[str, str], ...], str]:
    """The PII rows with nothing revealed, rendered by their template with a placeholder for
    each hint, cut at the placeholders: all but the hints is the same for every customer in one
    language (decision 185)."""
    rows = [
        {"name": name, "label": label, "reveal_label": reveal, "hint": _PII_HINT + name, "revealed": False}
        for name, label, reveal in labels
    ]
    html = get_template(PII_ROWS).render({"pii_rows": rows, "can_reveal": can_reveal})
    pieces = []
    for name, _label, _reveal in labels:
        if html.count(_PII_HINT + name) != 1:
            raise ImproperlyConfigured(f"{PII_ROWS} must show the hint of {name} exactly once.")
        before, html = html.split(_PII_HINT + name)
        pieces.append((before, name))
    return tuple(pieces), html


def _pii_rows_html(view: Customer360, parts: _FixedParts) -> SafeString:
    """The PII rows: with nothing revealed, the kept rows with the customer's hints put in, escaped
    as the template escapes them (no hint: "••••", as its `default`); else rendered."""
    if view.revealed:
        rows = _pii_rows(view, parts)
        return get_template(PII_ROWS).render({"pii_rows": rows, "can_reveal": view.can_reveal_pii})
    pieces, tail = parts.pii_rows[view.can_reveal_pii]
    customer = view.customer
    hints = [(before, getattr(customer, f"{name}_hint", "")) for before, name in pieces]
    shown = [before + (conditional_escape(hint) if hint else "••••") for before, hint in hints]
    # Safe: the template's own output, each hint escaped as the template escapes it.
    return mark_safe("".join(shown) + tail)  # noqa: S308  # nosec B308 B703


# Parts of the 360 page served by other apps' views (interactions, tasks, products), loaded by htmx.
SLOTS = {
    "timeline": "interactions:timeline",
    "new_interaction": "interactions:create",
    "tasks": "tasks:customer_tasks",
    "eligibility": "recommendations:customer_eligibility",
}


def _slot_urls(customer_id: int) -> dict[str, str]:
    return {key: fast_reverse(name, customer_id) for key, name in SLOTS.items()}


# The page's htmx slots (components/htmx_slot.html): the same bytes for every customer but the
# link, so each is kept in this process per language (render_kept) with a placeholder where the
# link goes, put in after the lookup, as the CSRF token in kept rows (decision 167).
_SLOT_URL = "slot-url-of-the-page"


def _kept_slot(slot_id: str, title: str, link_text: str) -> str:
    facts = {"slot_id": slot_id, "title": title, "url": _SLOT_URL, "link_text": link_text}
    return str(render_kept("components/htmx_slot.html", facts))


def _with_link(html: str, url: str) -> SafeString:
    # Safe: a kept autoescaping template's output, the link escaped as the template escapes it.
    return mark_safe(html.replace(_SLOT_URL, escape(url)))  # noqa: S308  # nosec B308 B703


def _slot(slot_id: str, title: str, link_text: str, url: str) -> SafeString:
    return _with_link(_kept_slot(slot_id, title, link_text), url)


def _slots(urls: dict[str, str], parts: _FixedParts) -> dict[str, SafeString]:
    return {key: _with_link(html, urls[key]) for key, html in parts.slots.items()}


@dataclass(frozen=True)
class _UnboundForm:
    """What the page reads of a reveal form nobody has posted: only that it is not bound."""

    is_bound: bool = False


_UNBOUND_REVEAL = _UnboundForm()


def _reveal_reason_html(reveal_form: RevealPiiForm) -> SafeString:
    # The reason field, from this process's memory when the same field (value aside, put in
    # after the lookup) and errors were shown before (decision 112's render_form).
    return render_form("workspace/_reveal_reason.html", reveal_form, facts=(), typed_field="reason")


def _detail_context(
    view: Customer360, user: User, reveal_form: RevealPiiForm | None = None, *, panels: bool = True
) -> dict[str, object]:
    parts = _fixed()
    slot_urls = _slot_urls(view.customer.pk)
    if not view.can_reveal_pii:
        reason_html: SafeString | str = ""
    elif reveal_form is None:
        reason_html = parts.reveal_reason_html
    else:
        reason_html = _reveal_reason_html(reveal_form)
    return {
        "view": view,
        "customer": view.customer,
        "slot_urls": slot_urls,
        "slots": _slots(slot_urls, parts),
        "pii_rows_html": _pii_rows_html(view, parts),
        # The page reads only whether it is bound: an unbound form is made only to post to.
        "reveal_form": reveal_form or _UNBOUND_REVEAL,
        "reveal_reason_html": reason_html,
        # Four eyes: changes about this customer waiting for a second person (break-glass, erasure).
        "pending": view.pending_changes,
        # Holdings, household, open opportunities and documents, kept by what they show (decision 189).
        "panels": customer_panels(view, may_edit=may_edit_customers(user)) if panels else {},
    }


@login_required
@require_GET
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The 360 page; opening it is audited (`customer.viewed`, with `?purpose=` when given)."""
    view = _customer_view(request, customer_id)
    record_customer_view(actor=request.user, customer=view.customer, purpose=request.GET.get("purpose", ""))
    return render(request, "workspace/customer_detail.html", _detail_context(view, request.user))


@login_required
@require_POST
def customer_reveal(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Show a customer's PII in clear: only with customers.reveal_pii, and audited first."""
    view = _customer_view(request, customer_id)
    if not view.can_reveal_pii:
        raise PermissionDenied("Your role may not reveal personal data.")
    form = RevealPiiForm(request.POST)
    if form.is_valid():
        fields = form.fields_to_reveal()
        with domain_errors_on(form):  # no reason, no reveal: the message sits on the reason field
            record_pii_reveal(
                actor=request.user, target=view.customer, fields=fields, reason=form.cleaned_data["reason"]
            )
            view.revealed = revealed_pii(customer=view.customer, fields=fields)
    htmx = _is_htmx(request)
    template = "workspace/_customer_pii.html" if htmx else "workspace/customer_detail.html"
    # htmx swaps only 2xx answers: the fragment with its field errors comes back as 200.
    status = 200 if form.is_valid() or htmx else 400
    response = render(request, template, _detail_context(view, request.user, form, panels=not htmx), status=status)
    response["Cache-Control"] = "no-store"  # clear PII must not sit in a shared or browser cache
    return response
