"""request.user is the user itself, not lazy wrappers, from ResolvedUserMiddleware on (decision 192)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from apps.identity.models import User


def test_a_signed_in_request_carries_the_user_with_the_otp_fields_set(client, manager):
    client.force_login(manager)

    response = client.get(reverse("session_status"))

    assert response.status_code == 200
    user = response.wsgi_request.user
    assert type(user) is User and user.pk == manager.pk
    # What django-otp's wrapper set on the user before it was unwrapped.
    assert user.otp_device is None and user.is_verified() is False


def test_a_signed_out_request_carries_the_anonymous_user(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    user = response.wsgi_request.user
    assert not isinstance(user, SimpleLazyObject) and isinstance(user, AnonymousUser)
