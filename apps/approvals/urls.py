"""Four-eyes pages (mounted at /approvals/)."""

from django.urls import path

from apps.approvals import views

app_name = "approvals"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:change_id>/", views.change_detail, name="detail"),
    path("<int:change_id>/approve/", views.change_approve, name="approve"),
    path("<int:change_id>/reject/", views.change_reject, name="reject"),
]
