"""Included at the site root: the customer-scoped path sits beside the customers app's own."""

from django.urls import path

from apps.products import views

app_name = "products"
urlpatterns = [
    path("products/", views.product_list, name="list"),
    path("products/<int:product_id>/", views.product_detail_view, name="detail"),
    path("customers/<int:customer_id>/eligibility/", views.customer_eligibility_view, name="customer_eligibility"),
]
