"""Show the Celery messages RabbitMQ dead-lettered (delivery limit reached, or rejected).

    manage.py dead_letters [--queue finpulse] [--limit 20]

Prints how many messages wait in "<queue>.dead" and, for the first few, the task name, its
id arguments and why it died (x-death / x-delivery-count). Messages stay where they are
(peeked, then returned). Notification deliveries that gave up are in Django admin instead:
Notifications > Failed notifications.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from finpulse.celery import app, dead_letter_name, is_amqp


class Command(BaseCommand):
    help = "List dead-lettered Celery messages (RabbitMQ)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--queue", default="")
        parser.add_argument("--limit", type=int, default=20)

    def handle(self, *args: Any, queue: str, limit: int, **options: Any) -> None:
        url = app.conf.broker_write_url or ""
        if not is_amqp(url):
            raise CommandError("Dead letters live in RabbitMQ; this broker has none (see docs/operations.md).")
        name = dead_letter_name(queue or app.conf.task_default_queue or settings.FINPULSE_CELERY_QUEUE)
        with app.connection_for_write() as connection:
            channel = connection.channel()
            try:
                count = channel.queue_declare(queue=name, passive=True).message_count
            except connection.channel_errors:
                self.stdout.write(f"{name}: no dead-letter queue yet (no worker has started on this queue).")
                return
            self.stdout.write(f"{name}: {count} message(s)")
            peeked = []
            for _ in range(min(count, limit)):
                message = channel.basic_get(name, no_ack=False)
                if message is None:
                    break
                peeked.append(message)
                headers = message.headers or {}
                death = (headers.get("x-death") or [{}])[0]
                self.stdout.write(
                    f"- {headers.get('task', '?')} id={headers.get('id', '?')} args={headers.get('argsrepr', '')} "
                    f"reason={death.get('reason', '?')} from={death.get('queue', '?')} "
                    f"deliveries={headers.get('x-delivery-count', death.get('count', '?'))}"
                )
            channel.close()  # unacknowledged messages go back to the queue
