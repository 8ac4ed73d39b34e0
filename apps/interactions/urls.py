"""Included at the site root: the paths below sit beside (never inside) customers' own URLs."""

from django.urls import path

from apps.interactions import views

app_name = "interactions"
urlpatterns = [
    path("customers/<int:customer_id>/timeline/", views.timeline, name="timeline"),
    path("customers/<int:customer_id>/interactions/new/", views.interaction_create, name="create"),
    path("interactions/<int:interaction_id>/", views.interaction_detail, name="detail"),
    path("interactions/<int:interaction_id>/edit/", views.interaction_edit, name="edit"),
    path("interactions/<int:interaction_id>/correct/", views.interaction_correct, name="correct"),
    path("attachments/<int:attachment_id>/download/", views.attachment_download, name="attachment_download"),
    path("interactions/captured/", views.captured_emails, name="captured"),
    path("interactions/captured/<int:captured_id>/file/", views.captured_email_file, name="captured_file"),
    path("interactions/captured/<int:captured_id>/discard/", views.captured_email_discard, name="captured_discard"),
]
