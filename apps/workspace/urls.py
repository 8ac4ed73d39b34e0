from django.urls import path

from apps.workspace import report_views, views

app_name = "workspace"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("reports/book/", report_views.book_report_page, name="book_report"),
    path("reports/book/export.csv", report_views.book_report_export, name="book_report_export"),
]
