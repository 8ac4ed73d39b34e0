from django.contrib import admin
from django.urls import include, path

from apps.core import views as core_views

urlpatterns = [
    path("", include("apps.workspace.urls")),
    # Probes: answered first by apps.core.middleware.ProbeMiddleware (any Host, no session); the
    # routes keep them reversible and documented. /metrics needs FINPULSE_METRICS_TOKEN.
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    # Sign-in: SSO (mozilla-django-oidc under /oidc/), break-glass, logout (apps.identity).
    path("accounts/", include("apps.identity.urls")),
    # Django's set_language (POST with the CSRF token): the language switcher in the top bar.
    path("i18n/", include("django.conf.urls.i18n")),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("portfolio/", include("apps.workspace.portfolio_urls")),
    path("approvals/", include("apps.approvals.urls")),
    path("break-glass/", include("apps.break_glass.urls")),
    path("customers/", include("apps.workspace.customer_urls")),
    # Interactions, tasks and products own their full paths (customers/<id>/timeline/, tasks/, …),
    # distinct from the customers app's own, so they are included at the root.
    path("", include("apps.interactions.urls")),
    path("", include("apps.tasks.urls")),
    path("", include("apps.agenda.urls")),
    path("", include("apps.products.urls")),
    path("", include("apps.recommendations.urls")),
    path("alerts/", include("apps.alerts.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("leads/", include("apps.leads.urls")),
    path("", include("apps.opportunities.urls")),
    path("audit/", include("apps.workspace.audit_urls")),
    path("privacy/", include("apps.privacy.urls")),
    path("api/v1/", include("finpulse.api_urls")),
    path("admin/", admin.site.urls),
]

handler403 = "apps.core.views.forbidden"
handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"
