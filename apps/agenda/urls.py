"""Included at the site root: the calendar under /calendar/, scheduling beside the customer's paths."""

from django.urls import path

from apps.agenda import views

app_name = "calendar"
urlpatterns = [
    path("calendar/", views.week, name="week"),
    path("calendar/month/", views.month, name="month"),
    path("calendar/today/", views.today, name="today"),
    path("calendar/meetings/<int:meeting_id>/", views.meeting_detail, name="meeting"),
    path("calendar/meetings/<int:meeting_id>/edit/", views.meeting_edit, name="meeting_edit"),
    path("calendar/meetings/<int:meeting_id>/cancel/", views.meeting_cancel, name="meeting_cancel"),
    path("calendar/meetings/<int:meeting_id>/log/", views.meeting_log, name="meeting_log"),
    path("calendar/feed/", views.feed_settings, name="feed_settings"),
    path("calendar/feed/<str:token>.ics", views.feed, name="feed"),
    path("customers/<int:customer_id>/meetings/new/", views.meeting_new, name="meeting_new"),
]
