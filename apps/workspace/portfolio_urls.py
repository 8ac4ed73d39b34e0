"""Portfolio management (mounted at /portfolio/): administrators and branch managers."""

from django.urls import path

from apps.workspace import portfolio_views

app_name = "portfolio"
urlpatterns = [
    path("", portfolio_views.portfolio, name="index"),
    path("assign/", portfolio_views.portfolio_assign, name="assign"),
    path("transfer/", portfolio_views.portfolio_transfer, name="transfer"),
]
