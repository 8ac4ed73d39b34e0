from django.urls import path

from apps.workspace import audit_views as views

app_name = "audit"
urlpatterns = [
    path("", views.audit_trail, name="trail"),
    path("export.csv", views.audit_trail_export, name="export"),
]
