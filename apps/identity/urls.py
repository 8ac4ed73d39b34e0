"""Sign-in and sign-out pages (mounted at /accounts/; the names `login` and `logout` are global)."""

from django.urls import path

from apps.identity import views

urlpatterns = [
    path("login/", views.login_page, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("logged-out/", views.logged_out, name="logged_out"),
    path("break-glass/", views.break_glass, name="break_glass"),
    path("two-factor/", views.two_factor, name="two_factor"),
    path("step-up/", views.step_up, name="step_up"),
    path("step-up/sso/", views.step_up_sso, name="step_up_sso"),
    path("session/", views.session_status, name="session_status"),
]
