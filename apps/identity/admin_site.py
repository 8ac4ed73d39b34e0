"""The admin site: staff reach it only with a verified TOTP device when the bank requires it.

`FINPULSE_ADMIN_REQUIRE_TOTP` (default on in production) makes every admin page ask for a
session verified by django-otp (break-glass login, or the two-factor step after SSO). The
admin's own password form is not a second way in: it sends people to FinPulse's sign-in.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from apps.identity import roles


def admin_needs_second_factor(request: HttpRequest) -> bool:
    """True when this staff user's session lacks the TOTP verification the admin requires."""
    if not settings.FINPULSE_ADMIN_REQUIRE_TOTP:
        return False
    is_verified = getattr(request.user, "is_verified", None)
    return not (is_verified and is_verified())


class FinPulseAdminSite(admin.AdminSite):
    site_header = "FinPulse administration"
    site_title = "FinPulse admin"

    def has_permission(self, request: HttpRequest) -> bool:
        # Administrators only (decisions.md 37), whatever is_staff says: a stale flag on an
        # account that lost the role, or one set by hand, does not open the admin.
        user = request.user
        return (
            super().has_permission(request)
            and roles.is_staff_for(getattr(user, "role_names", frozenset()), is_superuser=user.is_superuser)
            and not admin_needs_second_factor(request)
        )

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        next_url = request.GET.get("next") or reverse("admin:index")
        user = request.user
        if user.is_authenticated and not roles.is_staff_for(user.role_names, is_superuser=user.is_superuser):
            # Signed in, but not an administrator: their work is on FinPulse's own pages.
            raise PermissionDenied("Django admin is for administrators; your work is on the FinPulse pages.")
        if user.is_authenticated and user.is_staff and admin_needs_second_factor(request):
            target = reverse("two_factor")
        else:
            target = settings.LOGIN_URL
        return HttpResponseRedirect(f"{target}?{urlencode({'next': next_url})}")
