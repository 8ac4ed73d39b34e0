"""/api/v1/: the router, the OpenAPI schema and the browsable docs.

The project assembles every domain's API here, as finpulse/urls.py assembles their pages:
apps.api is the platform the domain api.py modules build on, so it imports none of them.

Adding a resource is one line in RESOURCES; the permission-matrix test enumerates this
router, so a new resource without a matrix case fails the suite.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from apps.accounts.api import CustomerWithHoldingsViewSet, HoldingViewSet
from apps.api.exceptions import api_not_found
from apps.interactions.api import InteractionViewSet
from apps.leads.api import LeadViewSet
from apps.opportunities.api import OpportunityViewSet
from apps.products.api import ProductViewSet
from apps.recommendations.api import RecommendationViewSet
from apps.tasks.api import TaskViewSet

# (prefix, viewset, basename). Notifications, recommendations and leads register here too.
# /customers/ is the customers app's viewset with the holdings and position actions that
# apps.accounts adds (apps.customers does not import apps.accounts).
RESOURCES = [
    ("customers", CustomerWithHoldingsViewSet, "customer"),
    ("holdings", HoldingViewSet, "holding"),
    ("interactions", InteractionViewSet, "interaction"),
    ("products", ProductViewSet, "product"),
    ("tasks", TaskViewSet, "task"),
    ("recommendations", RecommendationViewSet, "recommendation"),
    ("leads", LeadViewSet, "lead"),
    ("opportunities", OpportunityViewSet, "opportunity"),
]

router = SimpleRouter()
for prefix, viewset, basename in RESOURCES:
    router.register(prefix, viewset, basename=basename)

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html")),
        name="docs",
    ),
    *router.urls,
    # Anything else under /api/v1/ is a problem-JSON 404, not the HTML error page.
    # [\s\S]: a path holding a newline (%0A) must match too ("." does not).
    re_path(r"^[\s\S]*$", api_not_found, name="not_found"),
]
