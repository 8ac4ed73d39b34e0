from django.urls import path

from apps.leads import views

app_name = "leads"
urlpatterns = [
    path("", views.inbox_view, name="inbox"),
    path("apply/", views.apply, name="apply"),
    path("apply/thanks/", views.apply_thanks, name="apply_thanks"),
    path("<int:lead_id>/", views.detail, name="detail"),
    path("<int:lead_id>/reveal/", views.reveal, name="reveal"),
    path("<int:lead_id>/correct/", views.correct, name="correct"),
    path("<int:lead_id>/assign/", views.assign, name="assign"),
    path("<int:lead_id>/take/", views.take, name="take"),
    path("<int:lead_id>/approve/", views.approve, name="approve"),
    path("<int:lead_id>/flag/", views.flag, name="flag"),
    path("<int:lead_id>/requalify/", views.requalify, name="requalify"),
    path("<int:lead_id>/reject/", views.reject, name="reject"),
    path("<int:lead_id>/contacted/", views.contacted, name="contacted"),
    path("<int:lead_id>/convert/", views.convert, name="convert"),
]
