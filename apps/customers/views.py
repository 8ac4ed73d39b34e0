from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.errors import NotFound
from apps.customers.selectors import customer_for_user, visible_customers


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    customers = (
        visible_customers(user=request.user)
        .select_related("branch", "primary_manager")
        .only(
            "id",
            "display_name",
            "external_id",
            "segment",
            "kyc_status",
            "email_hint",
            "phone_hint",
            "branch__name",
            "branch__code",
            "primary_manager__username",
            "primary_manager__first_name",
            "primary_manager__last_name",
        )
    )
    page = Paginator(customers, 50).get_page(request.GET.get("page"))
    return render(request, "customers/list.html", {"page": page})


@login_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    try:
        customer = customer_for_user(user=request.user, customer_id=customer_id)
    except NotFound as error:
        raise Http404(error.message) from error
    return render(request, "customers/detail.html", {"customer": customer})
