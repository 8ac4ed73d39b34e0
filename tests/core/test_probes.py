"""/healthz, /readyz and /metrics against the real services (PostgreSQL, Redis, RabbitMQ, moto S3)."""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest
from django.db import connections
from django.test import Client

from apps.alerts.beat import BEAT_LEASE
from apps.core.leases import acquire_lease
from apps.core.metrics import count_task_failure

PROBE_HOST = {"HTTP_HOST": "10.20.30.40:8000"}  # what a load balancer's health check sends


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def real_services(settings, redis_url, rabbitmq_url, s3_storage):  # type: ignore[no-untyped-def]
    redis = {"BACKEND": "django_prometheus.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    # Rendered rows live in their own alias, as in settings (the dashboard's too, decision 146).
    settings.CACHES = {"default": redis, "fragments": {**redis, "KEY_PREFIX": "fragments"}}
    settings.CELERY_BROKER_URL = rabbitmq_url
    settings.FINPULSE_READYZ_TIMEOUT_SECONDS = 2.0
    return settings


@pytest.fixture
def silent_port():  # type: ignore[no-untyped-def]
    """A server that accepts connections and never says a word (a hung dependency)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_healthz_answers_any_host_without_touching_the_database(client):
    # No `db` fixture: any query here would raise pytest-django's "Database access not allowed".
    response = client.get("/healthz", **PROBE_HOST)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_when_every_dependency_answers(db, real_services):
    response = Client().get("/readyz", **PROBE_HOST)

    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "cache", "broker", "storage"}
    assert all(check["ok"] for check in body["checks"].values())


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(db, real_services, monkeypatch):
    monkeypatch.setitem(connections.settings["default"], "PORT", str(_closed_port()))

    response = Client().get("/readyz", **PROBE_HOST)

    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]


@pytest.mark.parametrize("dependency", ["cache", "broker", "storage"])
def test_readyz_is_503_naming_the_dependency_that_is_down(db, real_services, dependency):
    dead = f"127.0.0.1:{_closed_port()}"
    if dependency == "cache":
        real_services.CACHES = {
            "default": {
                "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://{dead}/0",
                "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
            }
        }
    elif dependency == "broker":
        real_services.CELERY_BROKER_URL = f"amqp://guest:guest@{dead}//"
    else:
        real_services.FINPULSE_STORAGE_ENDPOINT_URL = f"http://{dead}"

    response = Client().get("/readyz", **PROBE_HOST)

    body = response.json()
    assert response.status_code == 503, body
    assert body["failed"] == [dependency]
    assert body["checks"][dependency]["ok"] is False
    assert dead not in response.content.decode()  # the public answer names the check, not the address


def test_readyz_answers_in_time_when_a_dependency_hangs(db, real_services, silent_port):
    real_services.CELERY_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{silent_port}//"

    started = time.monotonic()
    response = Client().get("/readyz", **PROBE_HOST)

    assert time.monotonic() - started < 4.5  # the 2 s timeout, not the hang
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]


# -- /metrics --------------------------------------------------------------------------------


def _metric(text: str, name: str, labels: str = "") -> float:
    pattern = rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+-]+)$"
    match = re.search(pattern, text, re.M)
    assert match, f"{name}{labels} not in metrics"
    return float(match.group(1))


def test_metrics_need_the_bearer_token_when_one_is_set(db, settings):
    settings.FINPULSE_METRICS_TOKEN = "scrape-token-0123456789"
    client = Client()

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-0123456789", **PROBE_HOST)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


def test_metrics_without_a_token_answer_only_the_allowed_addresses(db, settings):
    settings.FINPULSE_METRICS_TOKEN = ""
    settings.FINPULSE_METRICS_ALLOWED_IPS = ["127.0.0.1"]

    assert Client(REMOTE_ADDR="10.9.8.7").get("/metrics").status_code == 404
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200


def test_metrics_report_requests_queries_outbox_queue_and_failures(db, real_services, manager):
    import datetime as dt

    from django.db import transaction

    from apps.notifications.services import build_user_notifications, enqueue_notifications

    with transaction.atomic():
        enqueue_notifications(
            build_user_notifications(
                user_id=manager.pk,
                channels_on={"in_app", "email"},
                kind="task_due",
                obj="metrics",
                threshold=0,
                on=dt.date(2026, 1, 5),
                subject="Due",
                body="",
                url="/",
            )
        )
    count_task_failure("notifications.deliver")
    client = Client()
    client.force_login(manager)
    client.get("/")

    text = client.get("/metrics").content.decode()

    assert _metric(text, "finpulse_outbox_pending") >= 1
    assert _metric(text, "finpulse_outbox_oldest_age_seconds") >= 0
    assert _metric(text, "finpulse_celery_task_failures_total") >= 1
    assert _metric(text, "finpulse_celery_queue_depth", '{queue="finpulse"}') >= 0
    assert _metric(text, "finpulse_db_queries_total", '{alias="default"}') > 0
    assert "django_http_requests_total_by_method_total" in text
    assert "django_cache_get_total" in text
    assert _metric(text, "finpulse_metrics_source_up", '{source="queue"}') == 1


def test_metrics_name_the_beat_lease_holder(db):
    with connections["default"].cursor() as cursor:
        assert acquire_lease(cursor, name=BEAT_LEASE, holder="finpulse-beat beat-7f3a 42", seconds=30)

    text = Client().get("/metrics").content.decode()

    assert _metric(text, "finpulse_beat_lock_held", '{holder="finpulse-beat beat-7f3a 42"}') == 1
    assert _metric(text, "finpulse_beat_lock_holders") == 1
