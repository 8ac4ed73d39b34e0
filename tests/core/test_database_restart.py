"""A persistent connection PostgreSQL dropped (a restart, a failover, an idle timeout) costs the
next request nothing: Django's health check (CONN_HEALTH_CHECKS, decision 143) finds it dead at
the request's first query and opens a new one, instead of a 500 on every worker thread.

The requests go through Django's real WSGI handler, which sends request_started and
request_finished as gunicorn's workers do (the test client turns those off).
"""

from __future__ import annotations

import time

import psycopg
import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client, RequestFactory

from tests.conftest import database_url_for_processes


def _get(handler: WSGIHandler, path: str, cookie: str) -> str:
    environ = RequestFactory().get(path, HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={cookie}").environ
    statuses: list[str] = []
    body = b"".join(handler(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert body
    return statuses[0]


def _terminate(pid: int) -> None:
    with psycopg.connect(database_url_for_processes(), autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
        for _ in range(100):
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                return
            time.sleep(0.05)
    raise AssertionError(f"backend {pid} still there")


@pytest.mark.django_db(transaction=True)
def test_a_page_after_postgresql_dropped_the_persistent_connection_is_served_not_a_500(manager):
    client = Client()
    client.force_login(manager)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    handler = WSGIHandler()
    assert _get(handler, "/", cookie).startswith("200")
    assert connection.connection is not None, "the connection persists across requests (CONN_MAX_AGE)"
    dropped = connection.connection.info.backend_pid
    _terminate(dropped)

    assert _get(handler, "/", cookie).startswith("200")
    assert connection.connection.info.backend_pid != dropped
    assert _get(handler, "/customers/", cookie).startswith("200")
