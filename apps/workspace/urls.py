from django.urls import path

from apps.workspace import views

app_name = "workspace"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
