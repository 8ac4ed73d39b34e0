"""Container smoke test: the built image against real services (called by infra/smoke/run.sh).

1. migrate + seed_demo in a one-off container, on a fresh database;
2. web A and web B (two containers, two ports) and one worker;
3. a manager signs in on A, logs an interaction with an attachment through A, downloads it
   through B (the file is in the S3 server, not in a container); A stops, B keeps serving;
4. web C reaches PostgreSQL through a TCP proxy: /readyz is 200, 503 with the proxy cut
   (while /healthz stays 200: liveness does no I/O), and 200 again once it is back;
5. an email notification written by a one-off container is delivered by the worker to the
   SMTP sink.
Exit status 0 when every step held. Timings are printed for the README.
"""

from __future__ import annotations

import mailbox
import re
import sys
import time

import requests
from stack import BUCKET, PORT_BASE, Browser, Stack, log, wait_for

NOTIFY = """
import datetime as dt
from django.contrib.auth import get_user_model
from django.db import transaction
from apps.notifications.services import build_user_notifications, enqueue_notifications
user = get_user_model().objects.get(username="rm.alice")
with transaction.atomic():
    rows = enqueue_notifications(build_user_notifications(
        user_id=user.pk, channels_on={"email"}, kind="task_escalation", obj="smoke:RUN", threshold=0,
        on=dt.date.today(), subject="Container smoke RUN", body="Delivered by the worker container.", url="/",
    ))
print("queued", len(rows))
"""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)
    log(f"ok: {message}")


def journey(stack: Stack) -> dict[str, float]:
    timings: dict[str, float] = {}
    port_a, port_b, port_c, port_proxy = PORT_BASE + 1, PORT_BASE + 2, PORT_BASE + 3, PORT_BASE + 32

    stack.start_services()
    started = time.monotonic()
    log("migrate + seed_demo (one-off container)")
    stack.one_off("migrate", FINPULSE_SEED_DEMO="1")
    timings["migrate_and_seed_s"] = time.monotonic() - started

    started = time.monotonic()
    web_a = stack.start("web-a", "web", port_a)
    web_b = stack.start("web-b", "web", port_b)
    worker = stack.start("worker", "worker")
    timings["two_web_up_s"] = time.monotonic() - started
    log(f"web A :{port_a}, web B :{port_b}, worker up in {timings['two_web_up_s']:.1f}s")

    check(
        stack.healthcheck(web_b) and stack.healthcheck(worker), "the image's HEALTHCHECK passes in web B and the worker"
    )

    # ---- one session, two containers: sessions live in the shared database/Redis ----
    a, b = Browser(f"http://127.0.0.1:{port_a}"), Browser(f"http://127.0.0.1:{port_b}")
    a.sign_in("rm.alice")
    b.http.cookies = a.http.cookies
    customers = a.customer_ids()
    check(bool(customers), f"rm.alice sees {len(customers)} customers through web A")
    customer = customers[0]

    content = f"FinPulse container smoke {stack.run_id}\n".encode() * 50
    response = a.post(
        f"/customers/{customer}/interactions/new/",
        {"channel": "note", "occurred_at": time.strftime("%Y-%m-%dT%H:%M"), "subject": f"Smoke {stack.run_id}"},
        files={"attachments": (f"smoke-{stack.run_id}.txt", content, "text/plain")},
    )
    check(
        response.ok and f"/customers/{customer}/" in response.url,
        f"interaction with an attachment logged through A ({response.status_code})",
    )
    timeline = a.get(f"/customers/{customer}/timeline/").text
    ids = [int(n) for n in re.findall(r"/attachments/(\d+)/download/", timeline)]
    check(bool(ids), "the attachment is on the timeline")
    attachment = max(ids)

    keys = [obj["Key"] for obj in stack.s3().list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    check(len(keys) >= 1, f"the file is in the S3 bucket, not on web A's disk ({keys[-1] if keys else '-'})")

    download = b.get(f"/attachments/{attachment}/download/")
    check(download.status_code == 200 and download.content == content, "web B serves the attachment uploaded through A")

    metrics = b.get("/metrics")
    check(metrics.status_code == 200 and "django_http_requests" in metrics.text, "web B exposes /metrics to loopback")

    # ---- web A goes away (SIGTERM, graceful), B keeps the manager working ----
    started = time.monotonic()
    stack.stop(web_a)
    timings["web_a_stop_s"] = time.monotonic() - started
    check(not _answers(port_a), f"web A stopped (SIGTERM drained in {timings['web_a_stop_s']:.1f}s)")
    check(b.get("/customers/").status_code == 200, "the same session keeps working through web B")
    check(b.get(f"/customers/{customer}/").status_code == 200, "customer page served by B")
    again = b.get(f"/attachments/{attachment}/download/")
    check(again.status_code == 200 and again.content == content, "download still works through B alone")

    # ---- readiness follows the database ----
    proxy = stack.proxy(port_proxy)
    stack.start("web-c", "web", port_c, DATABASE_URL=stack.database_url(port_proxy))
    readyz = f"http://127.0.0.1:{port_c}/readyz"
    wait_for("web C ready", lambda: requests.get(readyz, timeout=10).status_code == 200, timeout=60)
    log("ok: web C /readyz 200 with the database reachable")
    proxy.stop()
    started = time.monotonic()
    wait_for("web C unready", lambda: requests.get(readyz, timeout=10).status_code == 503, timeout=60)
    timings["unready_after_s"] = time.monotonic() - started
    log(f"ok: web C /readyz 503 {timings['unready_after_s']:.1f}s after the database became unreachable")
    check(
        requests.get(f"http://127.0.0.1:{port_c}/healthz", timeout=5).status_code == 200,
        "web C /healthz stays 200 (liveness has no I/O)",
    )
    proxy.start()
    started = time.monotonic()
    wait_for("web C ready again", lambda: requests.get(readyz, timeout=10).status_code == 200, timeout=60)
    timings["ready_again_s"] = time.monotonic() - started
    log(f"ok: web C /readyz 200 again {timings['ready_again_s']:.1f}s after the database came back")

    # ---- the worker container delivers a notification ----
    started = time.monotonic()
    out = stack.one_off("manage", "shell", "-c", NOTIFY.replace("RUN", stack.run_id))
    check("queued 1" in out, "an email notification for rm.alice is in the outbox")

    def delivered() -> bool:
        box = mailbox.Maildir(stack.maildir, create=False)
        return any(stack.run_id in (message["Subject"] or "") for message in box)

    wait_for("email in the SMTP sink", delivered, timeout=90, interval=1)
    timings["notification_delivered_s"] = time.monotonic() - started
    log(f"ok: the worker delivered it to the SMTP sink in {timings['notification_delivered_s']:.1f}s")
    return timings


def _answers(port: int) -> bool:
    try:
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    except requests.ConnectionError:
        return False
    return True


def main() -> int:
    stack = Stack()
    try:
        timings = journey(stack)
    except Exception:
        stack.dump_logs()
        raise
    finally:
        stack.teardown()
    log("container smoke passed: " + ", ".join(f"{k}={v:.1f}" for k, v in timings.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
