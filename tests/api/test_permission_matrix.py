"""Permission matrix of the API: another manager's object is a 404 everywhere.

The resources are enumerated from the router (and the URL patterns of /api/v1/), so a new
viewset or route without a case here fails `test_every_api_route_has_a_matrix_case`.
Adding a resource (notifications, recommendations, leads) means one entry in CASES.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, reverse

from finpulse import api_urls
from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory
from tests.interactions.factories import InteractionFactory
from tests.tasks.factories import TaskFactory


def _customer(owner: Any) -> int:
    return CustomerFactory(assigned_to=owner).pk


def _holding(owner: Any) -> int:
    return HoldingFactory(customer=CustomerFactory(assigned_to=owner)).pk


def _task(owner: Any) -> int:
    return TaskFactory(customer=CustomerFactory(assigned_to=owner)).pk


def _interaction(owner: Any) -> int:
    return InteractionFactory(customer=CustomerFactory(assigned_to=owner)).pk


def _recommendation(owner: Any) -> int:
    from tests.recommendations.factories import advice_for

    return advice_for(owner).pk


# basename -> builds an object that belongs to `owner`'s customer and returns its id.
def _lead(owner: Any) -> int:
    # A lead assigned to the owner; the other manager works in the same branch, so this also
    # proves that a colleague's lead is not part of the branch's unassigned pool.
    from apps.leads.models import Lead
    from tests.leads.factories import lead_in_state

    return lead_in_state(Lead.State.ASSIGNED, branch=owner.branch, assignee=owner).pk


def _opportunity(owner: Any) -> int:
    from tests.opportunities.factories import opportunity

    return opportunity(owner=owner).pk


CASES: dict[str, Callable[[Any], int]] = {
    "customer": _customer,
    "holding": _holding,
    "task": _task,
    "interaction": _interaction,
    "recommendation": _recommendation,
    "lead": _lead,
    "opportunity": _opportunity,
}
# basename -> why it is not scoped per manager.
SHARED = {"product": "The product catalog is the bank's, not a customer's: every employee reads all of it."}
# Routes under /api/v1/ that are not resources (name -> why).
NON_RESOURCE_ROUTES = {
    "schema": "The OpenAPI document (authenticated, no customer data).",
    "docs": "Swagger UI page (staff session).",
    "not_found": "Problem-JSON 404 for unknown addresses.",
}


def _viewsets() -> dict[str, type]:
    return {basename: viewset for _, viewset, basename in api_urls.router.registry}


def _route_names(patterns: list[Any]) -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= _route_names(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(pattern.name)
    return names


def test_every_api_route_has_a_matrix_case():
    viewsets = _viewsets()
    assert set(viewsets) == set(CASES) | set(SHARED), "add the new resource to CASES (or SHARED, with a reason)"
    router_names = {url.name for url in api_urls.router.urls}
    others = _route_names(api_urls.urlpatterns) - router_names
    assert others == set(NON_RESOURCE_ROUTES), "a route was added under /api/v1/ outside the router"
    assert all(name.split("-")[0] in viewsets for name in router_names)


def _detail_actions(viewset: type) -> list[tuple[str, str]]:
    """(url name suffix, method) of every extra action on one object."""
    return [
        (action.url_name, method)
        for action in viewset.get_extra_actions()
        if action.detail
        for method in action.mapping
    ]


@pytest.mark.parametrize("basename", sorted(CASES))
def test_another_managers_object_is_a_404_and_never_listed(basename, manager, other_manager, api_client_for):
    object_id = CASES[basename](other_manager)
    viewset = _viewsets()[basename]
    mine = api_client_for(manager)
    owner = api_client_for(other_manager)
    list_url = reverse(f"api:{basename}-list")
    detail_url = reverse(f"api:{basename}-detail", args=[object_id])

    # The owner does see it, so the 404s below are about who asks.
    assert owner.get(detail_url).status_code == 200
    assert object_id in [row["id"] for row in owner.get(list_url).json()["results"]]

    assert mine.get(detail_url).status_code == 404
    assert object_id not in [row["id"] for row in mine.get(list_url).json()["results"]]
    if "patch" in viewset.http_method_names and hasattr(viewset, "partial_update"):
        response = mine.patch(detail_url, {}, format="json", HTTP_IF_MATCH="*")
        assert response.status_code == 404, response.content
    for url_name, method in _detail_actions(viewset):
        url = reverse(f"api:{basename}-{url_name}", args=[object_id])
        response = mine.generic(
            method.upper(), url, "{}", content_type="application/json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
        )
        assert response.status_code == 404, f"{method.upper()} {url} answered {response.status_code}"


@pytest.mark.parametrize("basename", sorted(SHARED))
def test_shared_resources_are_readable_by_every_manager(basename, manager, api_client_for):
    assert api_client_for(manager).get(reverse(f"api:{basename}-list")).status_code == 200
