"""Real outside processes for the fault tests: an SMTP server, Celery workers and beats.

Every process is started with a deadline and killed in `finally`; the SMTP server is
aiosmtpd on loopback, counting what it accepted (a message counts once its DATA is accepted).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from django.conf import settings
from kombu import Connection

from tests.conftest import database_url_for_processes

ROOT = Path(settings.BASE_DIR)
CELERY = str(ROOT / ".venv" / "bin" / "celery") if (ROOT / ".venv" / "bin" / "celery").exists() else "celery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], Any], *, timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"Timed out after {timeout:.0f}s waiting for {what}.")


class SmtpSink:
    """Counts accepted messages; can hold the first session at MAIL FROM until released."""

    def __init__(self, *, hold_first: bool = False) -> None:
        self.messages: list[Any] = []
        self.hold_first = hold_first
        self.holding = threading.Event()
        self.release = threading.Event()
        self._sessions = 0
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list) -> str:
        self._sessions += 1
        if self.hold_first and self._sessions == 1:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.1)
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    @property
    def count(self) -> int:
        return len(self.messages)

    def message_ids(self) -> list[str]:
        return [message["Message-ID"] for message in self.messages]

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.controller.stop()


def unique_queue() -> str:
    return f"finpulse.test.{uuid.uuid4().hex[:10]}"


def process_env(*, broker_url: str, queue: str, smtp_port: int | None = None, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "finpulse.settings",
        "DATABASE_URL": database_url_for_processes(),
        "CELERY_BROKER_URL": broker_url,
        "FINPULSE_CELERY_QUEUE": queue,
        "FINPULSE_QUIET_HOURS": "",
        "DATABASE_CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
        # These tests count what workers send; the start-up scan has its own test.
        "FINPULSE_SCAN_ON_WORKER_START": "0",
        **extra,
    }
    if smtp_port is not None:
        env["EMAIL_URL"] = f"smtp://127.0.0.1:{smtp_port}"
    return env


class Proc:
    """A subprocess with its log in a file; `stop()` kills it (and its children) for sure."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.log_path = Path(tempfile.mkstemp(prefix="finpulse-test-", suffix=".log")[1])
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def children(self) -> list[int]:
        found: list[int] = []
        task_dir = Path(f"/proc/{self.pid}/task")
        for task in task_dir.iterdir() if task_dir.exists() else []:
            with contextlib.suppress(OSError):
                found += [int(pid) for pid in (task / "children").read_text().split()]
        return found

    def stop(self, *, timeout: float = 10) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=timeout)
        self._log.close()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)


def start_worker(env: dict[str, str], queue: str, *, ready_timeout: float = 90) -> Proc:
    worker = Proc(
        [
            CELERY,
            "-A",
            "finpulse",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        env,
    )
    try:
        wait_for(
            lambda: " ready." in worker.log() or worker.popen.poll() is not None,
            timeout=ready_timeout,
            what="the Celery worker to start",
        )
        if worker.popen.poll() is not None:
            raise AssertionError(f"The worker exited:\n{worker.log()[-3000:]}")
    except BaseException:
        worker.stop()
        raise
    return worker


def start_beat(env: dict[str, str]) -> Proc:
    return Proc([CELERY, "-A", "finpulse", "beat", "--loglevel=INFO", "--max-interval=1"], env)


@contextlib.contextmanager
def broker_queue(url: str, queue: str) -> Iterator[Connection]:
    """Yield a connection; purge and delete the test's queues afterwards."""
    conn = Connection(url, connect_timeout=5)
    try:
        yield conn
    finally:
        with contextlib.suppress(Exception):
            channel = conn.channel()
            for name in (queue, f"{queue}.dead"):
                with contextlib.suppress(Exception):
                    channel.queue_delete(name)
                    channel = conn.channel()
                with contextlib.suppress(Exception):
                    channel.exchange_delete(name)
                    channel = conn.channel()
        conn.release()


def queued_messages(conn: Connection, queue: str) -> int:
    channel = conn.channel()
    try:
        return channel.queue_declare(queue=queue, passive=True).message_count
    finally:
        channel.close()


def python() -> str:
    return sys.executable
