"""Celery app: RabbitMQ (CELERY_BROKER_URL) in production, kombu's filesystem broker by default.

Reliability settings follow the known traps:
- late acks plus reject-on-worker-lost, so a killed worker's task is redelivered;
- publisher confirms on RabbitMQ, so a publish either reached the broker or raised;
- on RabbitMQ the task queue is a quorum queue with a delivery limit: a poison message that
  keeps killing workers is dead-lettered to "<queue>.dead" after FINPULSE_CELERY_DELIVERY_LIMIT
  deliveries instead of looping (`manage.py dead_letters` shows them);
- beat scans the database for what is due instead of scheduling far-off ETAs, and only the
  beat holding the lease "beat" in PostgreSQL sends anything (apps.alerts.beat).
Every task takes ids and is idempotent: a redelivered or duplicated message changes nothing.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_failure, worker_ready
from kombu import Exchange, Queue
from kombu import pools as kombu_pools

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finpulse.settings")

app = Celery("finpulse")

AMQP_SCHEMES = ("amqp://", "amqps://", "pyamqp://")


def is_amqp(url: str) -> bool:
    return url.startswith(AMQP_SCHEMES)


def dead_letter_name(queue: str) -> str:
    return f"{queue}.dead"


def task_queue(queue: str, url: str) -> Queue:
    """The one task queue; on RabbitMQ a quorum queue with a delivery limit and a dead-letter exchange."""
    from django.conf import settings

    if not is_amqp(url):
        return Queue(queue, Exchange(queue, type="direct"), routing_key=queue)
    return Queue(
        queue,
        Exchange(queue, type="direct"),
        routing_key=queue,
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": settings.FINPULSE_CELERY_DELIVERY_LIMIT,
            "x-dead-letter-exchange": dead_letter_name(queue),
        },
    )


def broker_settings(url: str | None = None, queue: str | None = None) -> dict[str, Any]:
    """Celery settings for a broker URL and queue (defaults: CELERY_BROKER_URL, FINPULSE_CELERY_QUEUE)."""
    from django.conf import settings

    url = url or settings.CELERY_BROKER_URL
    queue = queue or settings.FINPULSE_CELERY_QUEUE
    routing = {
        # Explicit read/write URLs: Celery would otherwise prefer the CELERY_BROKER_URL variable.
        "broker_read_url": url,
        "broker_write_url": url,
        "task_default_queue": queue,
        "task_default_exchange": queue,
        "task_default_routing_key": queue,
        "task_queues": [task_queue(queue, url)],
    }
    if url.startswith("filesystem://"):
        folders = {name: settings.CELERY_BROKER_DIR / name for name in ("in", "out", "processed", "control")}
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        return {
            "broker_url": url,
            # Producer and consumer share one folder: that is how the filesystem transport works.
            "broker_transport_options": {
                "data_folder_in": str(folders["out"]),
                "data_folder_out": str(folders["out"]),
                "processed_folder": str(folders["processed"]),
                "store_processed": False,
                # kombu's exchange table; unset, kombu writes `control/` in the working directory.
                "control_folder": str(folders["control"]),
            },
            **routing,
        }
    options: dict[str, Any] = {}
    if is_amqp(url):
        options["confirm_publish"] = True
    return {"broker_url": url, "broker_transport_options": options, **routing}


def use_broker(url: str | None = None, queue: str | None = None) -> None:
    """Point this process's app at a broker/queue (settings at start-up; tests switch brokers)."""
    app.loader.import_default_modules()
    _ = app.conf.broker_url  # configure first, so on_after_configure cannot overwrite what follows
    app.conf.update(broker_settings(url, queue))
    for cached in ("queues", "router", "default_queue", "default_exchange"):
        app.amqp.__dict__.pop(cached, None)
    app.amqp._rtable = None
    app.amqp._producer_pool = None
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    # kombu keeps producer pools in a process-wide registry keyed by connection: drop them too,
    # or the next publish to the same URL reuses a pool whose connections were just closed.
    kombu_pools.reset()


@app.on_after_configure.connect
def _configure_broker(sender: Celery, **kwargs: object) -> None:
    sender.conf.update(broker_settings())


@worker_ready.connect
def _declare_dead_letter_queue(sender: Any = None, **kwargs: object) -> None:
    """Dead letters need their exchange and queue before the first message is rejected."""
    worker_app = getattr(sender, "app", app)
    url = worker_app.conf.broker_url or ""
    if not is_amqp(url):
        return
    with worker_app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in worker_app.conf.task_queues:
            name = dead_letter_name(queue.name)
            Queue(name, Exchange(name, type="fanout"), durable=True)(channel).declare()


@task_failure.connect
def _count_task_failure(sender: Any = None, **kwargs: object) -> None:
    """Counted in the shared cache, so the web's /metrics reports failures of every worker."""
    from apps.core.metrics import count_task_failure

    count_task_failure(getattr(sender, "name", "unknown"))


@worker_ready.connect
def _first_scan(sender: Any = None, **kwargs: object) -> None:
    """No silent start: a worker that comes up asks for the alert scan now, not at beat's next tick.

    Two workers starting together send two requests; the scan's advisory lock and unique keys
    make the second a no-op.
    """
    from django.conf import settings

    if not settings.FINPULSE_SCAN_ON_WORKER_START:
        return
    worker_app = getattr(sender, "app", app)
    worker_app.send_task("alerts.run_scans")


app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    result_backend=None,
    result_expires=None,
    task_ignore_result=True,
    timezone="UTC",
    # Only the beat holding the lease sends (a second beat started by mistake stays idle).
    beat_scheduler="apps.alerts.beat:LockedDatabaseScheduler",
    broker_connection_retry_on_startup=True,
    # A hung SMTP server or gateway must not hold a worker slot for ever.
    task_soft_time_limit=120,
    task_time_limit=180,
)
app.config_from_object("django.conf:settings", namespace="CELERY_APP")
app.autodiscover_tasks()
