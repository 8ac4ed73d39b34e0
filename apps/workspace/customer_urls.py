from django.urls import path

from apps.workspace import customer_views as views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("export.csv", views.customer_export, name="export"),
    # An export with personal data of many customers, once a second person approved it (four eyes).
    path("exports/<int:change_id>.csv", views.approved_export, name="approved_export"),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("<int:customer_id>/reveal/", views.customer_reveal, name="reveal"),
]
