"""Break-glass access to a customer outside one's book (mounted at /break-glass/)."""

from django.urls import path

from apps.break_glass import views

app_name = "break_glass"
urlpatterns = [
    path("", views.break_glass_request, name="request"),
]
