"""Container HEALTHCHECK: liveness only (no database, no broker), whatever the role.

web (gunicorn is PID 1): GET /healthz on FINPULSE_BIND's port must answer 200.
worker, beat, migrate: the process being alive is the check (the orchestrator restarts it
when it exits); readiness of dependencies is /readyz's job, not this one's.
"""

import os
import sys
import urllib.request
from pathlib import Path


def main() -> int:
    cmdline = Path("/proc/1/cmdline").read_bytes().replace(b"\0", b" ")
    if b"gunicorn" not in cmdline:
        return 0
    port = os.environ.get("FINPULSE_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=4) as response:  # nosec B310
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
