"""Included at the site root: the catalog's pages."""

from django.urls import path

from apps.products import views

app_name = "products"
urlpatterns = [
    path("products/", views.product_list, name="list"),
    path("products/<int:product_id>/", views.product_detail_view, name="detail"),
]
