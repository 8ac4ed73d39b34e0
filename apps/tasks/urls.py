"""Included at the site root: customer-scoped paths sit beside (never inside) the customers app's."""

from django.urls import path

from apps.tasks import views

app_name = "tasks"
urlpatterns = [
    path("customers/<int:customer_id>/tasks/", views.customer_tasks, name="customer_tasks"),
    path("customers/<int:customer_id>/tasks/new/", views.task_create, name="create"),
    path("tasks/", views.task_list, name="list"),
    path("tasks/new/", views.task_new, name="new"),
    path("tasks/new/customers/", views.task_customer_options, name="customer_options"),
    path("tasks/<int:task_id>/complete/", views.task_complete, name="complete"),
    path("tasks/<int:task_id>/reschedule/", views.task_reschedule, name="reschedule"),
    path("tasks/<int:task_id>/reassign/", views.task_reassign, name="reassign"),
]
