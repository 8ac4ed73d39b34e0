from django.urls import path

from apps.alerts import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list, name="list"),
    path("<int:alert_id>/acknowledge/", views.alert_acknowledge, name="acknowledge"),
    path("<int:alert_id>/snooze/", views.alert_snooze, name="snooze"),
    path("<int:alert_id>/dismiss/", views.alert_dismiss, name="dismiss"),
]
