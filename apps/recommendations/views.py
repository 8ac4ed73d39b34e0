"""The advice panel of the customer 360 page: show, refresh (asynchronous), accept or dismiss.

Thin: the panel's state comes from services.advice_panel, writes go through the services.
htmx requests get the fragment; without JavaScript the same view renders a page. htmx only
swaps 2xx answers, so a refused action comes back as the panel with the message in it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from apps.core import llm
from apps.core.errors import DomainError
from apps.recommendations.forms import FeedbackForm
from apps.recommendations.selectors import advice_customer, customer_eligibility, rate_impact, recommendation_for_user
from apps.recommendations.services import (
    NO_VALID_ITEMS,
    AdvicePanel,
    advice_panel,
    record_feedback,
    request_refresh,
)

SOURCE_NOTES = {
    "": "",
    llm.NOT_CONFIGURED: "No LLM is configured: the rule engine's top products.",
    llm.CIRCUIT_OPEN: "The LLM is failing, so the rule engine answered (it is tried again in a few minutes).",
    llm.RATE_LIMITED: "The LLM's rate limit was reached, so the rule engine answered.",
    llm.FAILED: "The LLM did not answer, so the rule engine answered.",
    llm.REJECTED: "The LLM refused the request, so the rule engine answered.",
    llm.MALFORMED: "The LLM's answer was unusable, so the rule engine answered.",
    NO_VALID_ITEMS: "The LLM proposed no eligible product, so the rule engine answered.",
}


def _render(request: HttpRequest, panel: AdvicePanel, *, status: int = 200) -> HttpResponse:
    advice = panel.advice
    items = []
    if advice is not None:
        for item in advice.items or []:
            items.append({**item, "feedback": panel.feedback.get(item.get("product_id"))})
    context: dict[str, Any] = {
        "panel": panel,
        "customer": panel.customer,
        "advice": advice,
        "items": items,
        "source_note": SOURCE_NOTES.get(advice.fallback_reason, "") if advice else "",
        "feedback_form": FeedbackForm(),
    }
    if request.htmx:
        # htmx swaps only 2xx: the message travels inside the panel.
        return render(request, "recommendations/_panel.html", context)
    return render(request, "recommendations/panel.html", context, status=status)


def _panel(request: HttpRequest, customer_id: int) -> AdvicePanel:
    return advice_panel(user=request.user, customer_id=customer_id)


@login_required
@require_GET
def panel(request: HttpRequest, customer_id: int) -> HttpResponse:
    return _render(request, _panel(request, customer_id))


@login_required
@require_POST
def refresh(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = advice_customer(user=request.user, customer_id=customer_id)
    error_message, status = "", 200
    try:
        request_refresh(actor=request.user, customer=customer)
    except DomainError as error:
        error_message, status = error.message, error.status
    state = _panel(request, customer_id)
    state.error = error_message
    return _render(request, state, status=status)


@login_required
@require_POST
def feedback(request: HttpRequest, customer_id: int, recommendation_id: int) -> HttpResponse:
    recommendation = recommendation_for_user(user=request.user, recommendation_id=recommendation_id)
    if recommendation.customer_id != customer_id:
        raise Http404("No such recommendation.")
    form = FeedbackForm(request.POST)
    error_message, status = "", 200
    if form.is_valid():
        try:
            record_feedback(
                actor=request.user,
                recommendation=recommendation,
                product_id=form.cleaned_data["product"],
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            error_message, status = error.message, error.status
    else:
        error_message = " ".join(message for messages in form.errors.values() for message in messages)
        status = 400
    state = _panel(request, customer_id)
    state.error = error_message
    return _render(request, state, status=status)


@login_required
@require_GET
def customer_eligibility_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    eligibility = customer_eligibility(user=request.user, customer_id=customer_id)
    context = {"eligibility": eligibility, "customer": eligibility.customer}
    htmx = bool(request.htmx)
    template = "recommendations/_customer_eligibility.html" if htmx else "recommendations/customer_eligibility.html"
    return render(request, template, context)


@login_required
@require_GET
def rate_impact_view(request: HttpRequest, product_id: int) -> HttpResponse:
    """The customers (of the viewer's book) a rate change of this product affects."""
    impact = rate_impact(user=request.user, product_id=product_id)
    template = "recommendations/_rate_impact.html" if request.htmx else "recommendations/rate_impact.html"
    return render(request, template, {"impact": impact, "product": impact.product})
