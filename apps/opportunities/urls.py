"""Included at the site root: the board under opportunities/, a customer's new opportunity beside
(never inside) the customers app's paths."""

from django.urls import path

from apps.opportunities import views

app_name = "opportunities"
urlpatterns = [
    path("opportunities/", views.board_page, name="board"),
    path("opportunities/new/", views.opportunity_new, name="new"),
    path("opportunities/<int:opportunity_id>/", views.opportunity_detail, name="detail"),
    path("opportunities/<int:opportunity_id>/move/", views.opportunity_move, name="move"),
    path("opportunities/<int:opportunity_id>/close/", views.opportunity_close, name="close"),
    path("customers/<int:customer_id>/opportunities/new/", views.customer_opportunity_new, name="customer_new"),
    path("opportunities/from-alert/<int:alert_id>/", views.from_alert, name="from_alert"),
    path("opportunities/from-advice/<int:recommendation_id>/<int:product_id>/", views.from_advice, name="from_advice"),
    path("opportunities/from-lead/<int:lead_id>/", views.from_lead, name="from_lead"),
]
