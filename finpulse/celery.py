"""Celery app: RabbitMQ (CELERY_BROKER_URL) in production, kombu's filesystem broker by default.

Reliability settings follow the known traps: late acks plus reject-on-worker-lost so a
killed worker's task is redelivered, publisher confirms on RabbitMQ, and beat scanning the
database for what is due instead of far-off ETAs.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finpulse.settings")

app = Celery("finpulse")


def _broker_settings() -> dict:
    from django.conf import settings

    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folders = {name: settings.CELERY_BROKER_DIR / name for name in ("in", "out", "processed")}
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        return {
            "broker_url": url,
            "broker_transport_options": {
                "data_folder_in": str(folders["out"]),
                "data_folder_out": str(folders["out"]),
                "processed_folder": str(folders["processed"]),
                "store_processed": False,
            },
        }
    options: dict = {}
    if url.startswith(("amqp://", "amqps://", "pyamqp://")):
        options["confirm_publish"] = True
    return {"broker_url": url, "broker_transport_options": options}


@app.on_after_configure.connect
def _configure_broker(sender: Celery, **kwargs: object) -> None:
    sender.conf.update(_broker_settings())


app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    result_backend=None,
    task_ignore_result=True,
    timezone="UTC",
    beat_scheduler="django_celery_beat.schedulers:DatabaseScheduler",
    broker_connection_retry_on_startup=True,
)
app.config_from_object("django.conf:settings", namespace="CELERY_APP")
app.autodiscover_tasks()
