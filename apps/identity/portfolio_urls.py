"""Portfolio management (mounted at /portfolio/): administrators and branch managers."""

from django.urls import path

from apps.identity import views

app_name = "portfolio"
urlpatterns = [
    path("", views.portfolio, name="index"),
    path("assign/", views.portfolio_assign, name="assign"),
    path("transfer/", views.portfolio_transfer, name="transfer"),
]
