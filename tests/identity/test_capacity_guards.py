"""What keeps one web process serving pages: sessions written rarely, sign-ins bounded, hashing cost a setting."""

from __future__ import annotations

import threading
import uuid

from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.identity.signin_guard import signin_slot

PASSWORD = "correct-horse-battery"


def _session_writes(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"] and "SELECT" not in q["sql"]]


def test_pages_within_the_touch_interval_do_not_write_the_session(client, manager, settings):
    settings.FINPULSE_SESSION_TOUCH_SECONDS = 60
    client.force_login(manager)
    client.get("/accounts/session/")  # the first signed-in request stamps the session once

    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert client.get("/accounts/session/").status_code == 200

    assert _session_writes(queries) == []


def test_a_session_used_after_the_touch_interval_gets_a_new_expiry(client, manager, settings):
    settings.FINPULSE_SESSION_TOUCH_SECONDS = 0
    client.force_login(manager)
    client.get("/accounts/session/")
    key = client.session.session_key
    first = Session.objects.get(session_key=key).expire_date

    client.get("/accounts/session/")

    assert Session.objects.get(session_key=key).expire_date > first


def test_the_idle_timeout_still_ends_a_session(client, manager, settings):
    client.force_login(manager)
    Session.objects.filter(session_key=client.session.session_key).update(expire_date="2000-01-01T00:00:00Z")
    from django.core.cache import caches

    caches[settings.SESSION_CACHE_ALIAS].clear()  # cached_db: the row is the truth once the cache forgets

    response = client.get("/accounts/session/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_floor_view_says_who_is_signed_in(client, manager):
    client.force_login(manager)

    body = client.get("/accounts/session/").json()

    assert body == {"username": manager.username, "idle_timeout_seconds": 30 * 60}


def test_password_hashing_cost_is_a_setting_and_old_hashes_still_verify(settings):
    settings.PASSWORD_HASHERS = ["apps.identity.hashers.SettingsPBKDF2PasswordHasher"]
    settings.FINPULSE_PASSWORD_ITERATIONS = 1_000
    old = make_password(PASSWORD)
    settings.FINPULSE_PASSWORD_ITERATIONS = 2_000

    new = make_password(PASSWORD)

    assert old.split("$")[1] == "1000"
    assert new.split("$")[1] == "2000"
    assert check_password(PASSWORD, old)
    assert identify_hasher(old).must_update(old)


def _sign_in(client, username: str, *, address: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_an_account_tried_too_often_is_refused_before_any_hashing(client, manager, settings):
    settings.FINPULSE_LOCAL_LOGIN = True
    settings.FINPULSE_SIGNIN_PER_ACCOUNT = 3
    address = f"10.{uuid.uuid4().int % 250}.0.1"
    manager.username = f"limit.{uuid.uuid4().hex[:8]}"
    manager.save()
    for _ in range(3):
        assert _sign_in(client, manager.username, address=address, password="wrong-wrong").status_code == 200

    response = _sign_in(client, manager.username, address=address)

    assert response.status_code == 429
    assert response["Retry-After"] == str(settings.FINPULSE_SIGNIN_WINDOW_SECONDS)
    assert "Too many sign-in attempts from this account" in response.content.decode()


def test_an_address_trying_many_accounts_is_refused(client, manager, settings):
    settings.FINPULSE_LOCAL_LOGIN = True
    settings.FINPULSE_SIGNIN_PER_ADDRESS = 2
    address = f"10.{uuid.uuid4().int % 250}.1.1"
    for n in range(2):
        _sign_in(client, f"guess.{uuid.uuid4().hex[:6]}.{n}", address=address)

    response = _sign_in(client, manager.username, address=address)

    assert response.status_code == 429
    assert "from this address" in response.content.decode()


def test_when_every_hashing_slot_is_busy_a_sign_in_is_told_to_retry(client, manager, settings):
    settings.FINPULSE_LOCAL_LOGIN = True
    settings.FINPULSE_SIGNIN_CONCURRENCY = 1
    held, release = threading.Event(), threading.Event()

    def hold_the_slot() -> None:
        with signin_slot():
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_slot)
    holder.start()
    held.wait(5)
    try:
        response = _sign_in(client, manager.username, address="10.200.0.1")
    finally:
        release.set()
        holder.join()

    assert response.status_code == 429
    assert response["Retry-After"] == "5"
    assert "Many people are signing in right now" in response.content.decode()
    assert _sign_in(client, manager.username, address="10.200.0.1").status_code == 302


def test_behind_a_load_balancer_the_address_is_the_one_the_balancer_saw(client, manager, settings):
    settings.FINPULSE_LOCAL_LOGIN = True
    settings.FINPULSE_PROXY_COUNT = 1
    settings.FINPULSE_SIGNIN_PER_ADDRESS = 1
    first, second = (f"192.0.2.{uuid.uuid4().int % 200 + n}" for n in (1, 2))

    client.post(
        "/accounts/login/", {"username": "x", "password": "y"}, REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=first
    )
    other = client.post(
        "/accounts/login/", {"username": "x", "password": "y"}, REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=second
    )
    again = client.post(
        "/accounts/login/", {"username": "x", "password": "y"}, REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=first
    )

    assert other.status_code == 200  # another client behind the same balancer is not counted with the first
    assert again.status_code == 429
