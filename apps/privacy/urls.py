from django.urls import path

from apps.privacy import views

app_name = "privacy"
urlpatterns = [
    path("", views.request_list, name="requests"),
    path("customers/<int:customer_id>/", views.subject, name="subject"),
    path("customers/<int:customer_id>/export.json", views.subject_export, {"fmt": "json"}, name="export_json"),
    path("customers/<int:customer_id>/export.html", views.subject_export, {"fmt": "html"}, name="export_html"),
]
