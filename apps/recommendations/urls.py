"""Included at the site root: the customer-scoped paths sit beside the customers app's own."""

from django.urls import path

from apps.recommendations import views

app_name = "recommendations"
urlpatterns = [
    path("customers/<int:customer_id>/eligibility/", views.customer_eligibility_view, name="customer_eligibility"),
    path("customers/<int:customer_id>/recommendations/", views.panel, name="panel"),
    path("customers/<int:customer_id>/recommendations/refresh/", views.refresh, name="refresh"),
    path("products/<int:product_id>/rate-impact/", views.rate_impact_view, name="rate_impact"),
    path(
        "customers/<int:customer_id>/recommendations/<int:recommendation_id>/feedback/",
        views.feedback,
        name="feedback",
    ),
]
