"""The email capture endpoint as its own process, for the tests that talk SMTP to it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from tests.conftest import database_url_for_processes
from tests.notifications.realservices import free_port, wait_for

CAPTURE = "capture@finpulse.bank.example"


@contextmanager
def capture_process(log: Path, **extra_env: str) -> Iterator[int]:
    """`manage.py run_email_capture` on a free port, taking mail for CAPTURE; yields the port once
    it listens and stops the process on the way out."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_processes(),
        "FINPULSE_CAPTURE_ADDRESSES": CAPTURE,
        "DJANGO_SETTINGS_MODULE": "finpulse.settings",
        **extra_env,
    }
    with open(log, "w") as output:  # a file, not a pipe: an unread pipe would block the server
        server = subprocess.Popen(
            [sys.executable, "manage.py", "run_email_capture", "--bind", f"127.0.0.1:{port}"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "listening" in log.read_text(), timeout=60, what="the capture server")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
