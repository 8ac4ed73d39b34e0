"""The admin site: staff reach it only with a verified TOTP device when the bank requires it.

`FINPULSE_ADMIN_REQUIRE_TOTP` (default on in production) makes every admin page ask for a
session verified by django-otp (break-glass login, or the two-factor step after SSO). The
admin's own password form is not a second way in: it sends people to FinPulse's sign-in.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse


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
        return super().has_permission(request) and not admin_needs_second_factor(request)

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        next_url = request.GET.get("next") or reverse("admin:index")
        if request.user.is_authenticated and request.user.is_staff and admin_needs_second_factor(request):
            target = reverse("two_factor")
        else:
            target = settings.LOGIN_URL
        return HttpResponseRedirect(f"{target}?{urlencode({'next': next_url})}")
