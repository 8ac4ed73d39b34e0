"""Container HEALTHCHECK: liveness only (no database, no broker), whatever the role.

web (gunicorn, or an init process running the entrypoint's `web` role): GET /healthz on
FINPULSE_BIND's port must answer 200.
capture (manage.py run_email_capture): the SMTP port on FINPULSE_CAPTURE_BIND greets with 220.
worker, beat, migrate: the process being alive is the check (the orchestrator restarts it
when it exits); readiness of dependencies is /readyz's job, not this one's.
"""

import os
import socket
import sys
import urllib.request
from pathlib import Path


def smtp_greets(bind: str) -> bool:
    """capture: the SMTP endpoint answers a connection with its 220 greeting."""
    port = int(bind.rsplit(":", 1)[-1])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=4) as conn:
            greeting = conn.recv(512)
            conn.sendall(b"QUIT\r\n")
            return greeting.startswith(b"220")
    except OSError:
        return False


def role_of(arguments: list[bytes]) -> str:
    """What PID 1 runs: `web`, `capture`, or another role (checked by being alive).

    PID 1 is gunicorn or run_email_capture once the entrypoint exec'd it, or an init process
    (ECS `initProcessEnabled`, `docker run --init`) whose arguments end with the entrypoint's role.
    """
    cmdline = b" ".join(arguments)
    if b"run_email_capture" in cmdline or b"capture" in arguments:
        return "capture"
    if b"gunicorn" in cmdline or b"web" in arguments:
        return "web"
    return "other"


def main() -> int:
    role = role_of(Path("/proc/1/cmdline").read_bytes().split(b"\0"))
    if role == "capture":
        return 0 if smtp_greets(os.environ.get("FINPULSE_CAPTURE_BIND", "0.0.0.0:2525")) else 1
    if role != "web":
        return 0
    port = os.environ.get("FINPULSE_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=4) as response:  # nosec B310
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
