from django.urls import path

from apps.workspace import report_views, saved_view_views, views

app_name = "workspace"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("reports/book/", report_views.book_report_page, name="book_report"),
    path("reports/book/export.csv", report_views.book_report_export, name="book_report_export"),
    path("views/", saved_view_views.saved_views, name="saved_views"),
    path("views/tools/", saved_view_views.list_tools, name="list_tools"),
    path("views/save/", saved_view_views.save_current_view, name="save_view"),
    path("views/<int:view_id>/", saved_view_views.open_view, name="open_view"),
    path("views/<int:view_id>/pin/", saved_view_views.pin, name="pin_view"),
    path("views/<int:view_id>/delete/", saved_view_views.delete, name="delete_view"),
    path("customers/bulk/", saved_view_views.bulk_action, name="bulk_action"),
]
