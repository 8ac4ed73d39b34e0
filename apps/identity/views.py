"""Sign-in, sign-out, the SSO callback, break-glass and the two-factor step; portfolio pages."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import signals as auth_signals
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.generic import View
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

from apps.identity.claims import LoginRefused
from apps.identity.flow import REFRESH_SESSION_KEY, authorization_url, safe_next
from apps.identity.forms import BreakGlassForm, TwoFactorForm
from apps.identity.oidc_config import ID_TOKEN_SESSION_KEY, ProviderUnavailable, oidc_enabled, oidc_setting
from apps.identity.services import (
    record_break_glass_login,
    record_login_failed,
    record_login_succeeded,
    record_second_factor_verified,
    record_session_ended,
)
from apps.identity.signin_guard import SignInRefused, check_signin_rate, signin_slot
from apps.identity.step_up import (
    has_recent_second_factor,
    remember_second_factor,
    second_factor_verified_at,
    sso_second_factor_time,
)


def _login_context(request: HttpRequest, **extra: object) -> dict[str, object]:
    next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"), default="")
    sso_url = reverse("oidc_authentication_init")
    if next_url:
        sso_url = f"{sso_url}?{urlencode({'next': next_url})}"
    return {
        "next": next_url,
        "sso_enabled": oidc_enabled(),
        "sso_url": sso_url,
        "local_login": settings.FINPULSE_LOCAL_LOGIN,
        **extra,
    }


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_page(request: HttpRequest) -> HttpResponse:
    """SSO button for everyone; the password form only outside production (demo users)."""
    form = AuthenticationForm(request, data=request.POST or None)
    if request.method == "POST":
        if not settings.FINPULSE_LOCAL_LOGIN:
            messages.error(request, _("Password sign-in is not available here: sign in with the bank's SSO."))
            return redirect("login")
        try:
            check_signin_rate(request, username=request.POST.get("username", ""))
            with signin_slot():
                valid = form.is_valid()
        except SignInRefused as refusal:
            return _signin_refused(
                request, refusal, form, template="registration/login.html", context=_login_context(request)
            )
        if valid:
            user = form.get_user()
            auth.login(request, user)
            record_login_succeeded(user=user, method="local", request=request)
            return redirect(safe_next(request, request.POST.get("next"), default=settings.LOGIN_REDIRECT_URL))
        if not getattr(request, "axes_locked_out", False):
            record_login_failed(
                reason="bad_credentials", method="local", request=request, username=request.POST.get("username", "")
            )
    return render(request, "registration/login.html", _login_context(request, form=form))


def _signin_refused(
    request: HttpRequest, refusal: SignInRefused, form: Form, *, template: str, context: dict[str, object]
) -> HttpResponse:
    """429 with the form and the reason on it: the sign-in was not even tried."""
    form.add_error(None, str(refusal))
    response = render(request, template, {**context, "form": form}, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return response


class SSOStartView(View):
    """`/oidc/authenticate/`: send the browser to the provider (code flow, PKCE, state, nonce)."""

    http_method_names = ["get"]

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc_enabled():
            messages.error(request, _("Single sign-on is not configured here."))
            return redirect("login")
        next_url = safe_next(request, request.GET.get("next"), default=settings.LOGIN_REDIRECT_URL)
        try:
            return HttpResponseRedirect(authorization_url(request, next_url=next_url))
        except ProviderUnavailable:
            return render(request, "identity/sso_unavailable.html", status=503)


class SSOCallbackView(OIDCAuthenticationCallbackView):
    """`/oidc/callback/`: finish the code flow; every refusal is a clear page and an audit event."""

    @staticmethod
    def get_settings(attr: str, *args: object) -> object:
        return oidc_setting(attr, *args)

    def refuse(self, request: HttpRequest, refusal: LoginRefused, *, end_session: bool = True) -> HttpResponse:
        was_signed_in = request.user.is_authenticated
        record_login_failed(
            reason=refusal.reason,
            method="sso_refresh" if was_signed_in else "sso",
            request=request,
            username=refusal.username or (request.user.get_username() if was_signed_in else ""),
            subject=refusal.subject,
            detail=refusal.message,
        )
        if was_signed_in and end_session:
            # A refresh that fails (role removed, account disabled) ends the FinPulse session.
            record_session_ended(user=request.user, reason=f"sso_refresh_{refusal.reason}", request=request)
            auth.logout(request)
        template = "identity/no_role.html" if refusal.reason == "no_finpulse_role" else "identity/refused.html"
        return render(request, template, {"message": refusal.message, "reason": refusal.reason}, status=403)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc_enabled():
            return redirect("login")
        states = request.session.get("oidc_states") or {}
        state = request.GET.get("state", "")
        entry = states.pop(state, None) if state else None
        request.session["oidc_states"] = states  # used once: a replayed callback finds nothing
        was_refresh = bool(request.session.pop(REFRESH_SESSION_KEY, False))
        error = request.GET.get("error")
        if error:
            # Only an answer to a sign-in we started may end a session or put its words on our page.
            description = (request.GET.get("error_description") or "")[:200] if entry is not None else ""
            if was_refresh and entry is not None and request.user.is_authenticated:
                # The silent re-authentication failed: the provider session is gone.
                record_session_ended(user=request.user, reason=f"sso_refresh_{error}", request=request)
                auth.logout(request)
                messages.info(request, _("Your single sign-on session has ended. Please sign in again."))
                return redirect("login")
            return self.refuse(
                request,
                LoginRefused(
                    f"provider_error_{error}"[:60],
                    "The bank's sign-in service did not sign you in"
                    + (f": {description}" if description else ".")
                    + " Please try again.",
                ),
                end_session=False,
            )
        if entry is None or not request.GET.get("code"):
            return self.refuse(
                request,
                LoginRefused(
                    "state_mismatch", "This sign-in response does not match a sign-in started here. Please start again."
                ),
                end_session=was_refresh,
            )
        request.session.save()
        # As mozilla-django-oidc does: reload the session after the slow token exchange so
        # parallel tabs' writes are not overwritten.
        request.session = request.session.__class__(request.session.session_key)
        try:
            user = auth.authenticate(
                request=request, nonce=entry.get("nonce"), code_verifier=entry.get("code_verifier")
            )
        except LoginRefused as refusal:
            return self.refuse(request, refusal)
        if user is None or not user.is_active:
            return self.refuse(request, LoginRefused("not_authenticated", "The sign-in could not be completed."))
        self.user = user
        record_login_succeeded(user=user, method="sso_refresh" if was_refresh else "sso", request=request)
        response = self.login_success()
        verified_at = sso_second_factor_time(getattr(request, "finpulse_id_claims", {}))
        if verified_at is not None and verified_at != second_factor_verified_at(request):
            remember_second_factor(request, method="sso", at=verified_at)
            record_second_factor_verified(user=user, method="sso", request=request)
            if has_recent_second_factor(request):
                messages.success(request, _("Second factor confirmed by the bank's sign-in: you can go on."))
        return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """End the FinPulse session, then the provider's (RP-initiated logout with id_token_hint)."""
    id_token = request.session.get(ID_TOKEN_SESSION_KEY)
    if request.user.is_authenticated:
        record_session_ended(user=request.user, reason="logout", request=request)
    auth.logout(request)
    if oidc_enabled() and id_token:
        try:
            end_session = oidc_setting("OIDC_OP_LOGOUT_ENDPOINT")
        except ProviderUnavailable:
            end_session = ""
        if end_session:
            params = {
                "id_token_hint": id_token,
                "client_id": oidc_setting("OIDC_RP_CLIENT_ID"),
                "post_logout_redirect_uri": request.build_absolute_uri(reverse("logged_out")),
            }
            return HttpResponseRedirect(f"{end_session}?{urlencode(params)}")
    return redirect("logged_out")


@require_GET
@login_required
@never_cache
@require_GET
def session_status(request: HttpRequest) -> JsonResponse:
    """Who is signed in and how long the session lasts idle: for a page's timeout warning.

    Also the capacity benchmark's floor: the cheapest signed-in view through every middleware.
    """
    return JsonResponse({"username": request.user.get_username(), "idle_timeout_seconds": settings.SESSION_COOKIE_AGE})


def logged_out(request: HttpRequest) -> HttpResponse:
    return render(request, "identity/logged_out.html", _login_context(request))


def _second_factor_failed(request: HttpRequest, username: str) -> None:
    # A wrong TOTP code counts towards the lockout like a wrong password.
    auth_signals.user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


@sensitive_post_parameters("password", "otp_token")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def break_glass(request: HttpRequest) -> HttpResponse:
    """Administrators only, when SSO is down: password + TOTP, axes lockout, always audited."""
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        try:
            check_signin_rate(request, username=username)
            with signin_slot():
                user = auth.authenticate(request, username=username, password=form.cleaned_data["password"])
        except SignInRefused as refusal:
            return _signin_refused(
                request,
                refusal,
                form,
                template="identity/break_glass.html",
                context={"next": request.GET.get("next", "")},
            )
        if getattr(request, "axes_locked_out", False):
            record_login_failed(reason="locked_out", method="break_glass", request=request, username=username)
            return render(request, "identity/locked_out.html", status=429)  # axes middleware renders it too
        if user is None:
            record_login_failed(reason="bad_credentials", method="break_glass", request=request, username=username)
            form.add_error(None, "Wrong username or password.")
        elif not user.is_administrator:
            record_login_failed(reason="not_administrator", method="break_glass", request=request, username=username)
            form.add_error(
                None,
                "The emergency sign-in is for administrators only. "
                "Managers and compliance officers sign in with the bank's SSO.",
            )
        elif not user_has_device(user, confirmed=True):
            record_login_failed(reason="no_totp_device", method="break_glass", request=request, username=username)
            form.add_error(None, "You have no confirmed authenticator app: another administrator must enrol one.")
        else:
            device = match_token(user, form.cleaned_data["otp_token"])
            if device is None:
                _second_factor_failed(request, username)
                record_login_failed(reason="bad_totp", method="break_glass", request=request, username=username)
                if getattr(request, "axes_locked_out", False):
                    return render(request, "identity/locked_out.html", status=429)
                form.add_error("otp_token", "That code is wrong or has expired.")
            else:
                auth.login(request, user, backend="apps.identity.backends.FinPulseModelBackend")
                otp_login(request, device)
                remember_second_factor(request, method="totp")
                record_break_glass_login(user=user, request=request)
                return redirect(safe_next(request, request.GET.get("next"), default=reverse("admin:index")))
    return render(request, "identity/break_glass.html", {"form": form, "next": request.GET.get("next", "")})


def _totp_confirmed(request: HttpRequest, form: TwoFactorForm, method: str) -> bool:
    """The signed-in user's TOTP code: a right one marks the session verified (django-otp and the
    step-up clock); a wrong one counts towards the lockout, is recorded, and is said on the form."""
    device = match_token(request.user, form.cleaned_data["otp_token"])
    if device is None:
        username = request.user.get_username()
        _second_factor_failed(request, username)
        record_login_failed(reason="bad_totp", method=method, request=request, username=username)
        form.add_error("otp_token", "That code is wrong or has expired.")
        return False
    otp_login(request, device)
    remember_second_factor(request, method="totp")
    return True


@sensitive_post_parameters("otp_token")
@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Staff who signed in with SSO confirm their TOTP device before the admin opens."""
    if not request.user.is_staff:
        raise PermissionDenied("Only staff need the second factor.")
    form = TwoFactorForm(request.POST or None)
    has_device = user_has_device(request.user, confirmed=True)
    if request.method == "POST" and has_device and form.is_valid() and _totp_confirmed(request, form, "two_factor"):
        record_login_succeeded(user=request.user, method="two_factor", request=request)
        return redirect(safe_next(request, request.GET.get("next"), default=reverse("admin:index")))
    return render(request, "identity/two_factor.html", {"form": form, "has_device": has_device})


@sensitive_post_parameters("otp_token")
@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def step_up(request: HttpRequest) -> HttpResponse:
    """Confirm a second factor for privileged actions (apps.identity.step_up), then go back."""
    next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"), default="/")
    form = TwoFactorForm(request.POST or None)
    has_device = user_has_device(request.user, confirmed=True)
    if request.method == "POST" and has_device and form.is_valid() and _totp_confirmed(request, form, "step_up"):
        record_second_factor_verified(user=request.user, method="totp", request=request)
        messages.success(request, _("Second factor confirmed: you can go on."))
        return redirect(next_url)
    context = {
        "form": form,
        "has_device": has_device,
        "next": next_url,
        "sso_enabled": oidc_enabled(),
        "sso_step_up_url": f"{reverse('step_up_sso')}?{urlencode({'next': next_url})}",
        "recent": has_recent_second_factor(request),
        "max_age_minutes": max(1, settings.FINPULSE_STEP_UP_MAX_AGE_SECONDS // 60),
    }
    return render(request, "identity/step_up.html", context)


@login_required
@require_GET
def step_up_sso(request: HttpRequest) -> HttpResponse:
    """Step up through the bank's SSO: a fresh sign-in (prompt=login, max_age=0) asking for the
    configured authentication context; the callback reads acr/amr from the new ID token."""
    if not oidc_enabled():
        messages.error(request, _("Single sign-on is not configured here."))
        return redirect("step_up")
    next_url = safe_next(request, request.GET.get("next"), default="/")
    extra = {"max_age": "0"}
    if settings.FINPULSE_STEP_UP_ACR_VALUES:
        extra["acr_values"] = " ".join(settings.FINPULSE_STEP_UP_ACR_VALUES)
    try:
        return HttpResponseRedirect(authorization_url(request, next_url=next_url, prompt="login", extra=extra))
    except ProviderUnavailable:
        return render(request, "identity/sso_unavailable.html", status=503)
