"""A real PostgreSQL streaming replica, and FinPulse served on top of it, for the replica tests.

Session fixtures, as the brief in docs/operations.md describes: as the `postgres` user, initdb a
private primary under a temporary folder (replication allowed from 127.0.0.1), start it on a
spare port, `pg_basebackup -R -X stream` a replica from it and start that on another port.
Then migrate FinPulse onto the primary with DATABASE_REPLICA_URL set (migrations must go to the
primary only), seed a manager and a customer, and run gunicorn with both URLs, so the tests talk
HTTP to a real server whose reads and writes cross real PostgreSQL servers. The machine's own
PostgreSQL is not touched.

Skips when not root or without the PostgreSQL 15 binaries; fails instead under
FINPULSE_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.conftest import services_required

PG_BIN = Path(os.environ.get("FINPULSE_PG_BIN", "/usr/lib/postgresql/15/bin"))
ROOT = Path(__file__).resolve().parents[2]
PIN_SECONDS = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _unavailable(reason: str) -> None:
    if services_required():
        pytest.fail(f"FINPULSE_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def _as_postgres(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # fixed binaries, arguments built here
        ["/usr/sbin/runuser", "-u", "postgres", "--", *args],
        check=check,
        capture_output=True,
        text=True,
        timeout=120,
    )


@dataclass
class Cluster:
    name: str
    data: Path
    port: int
    socket_dir: Path

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/finpulse"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        _as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", f"{self.data}.log", "-w", "-o", options, "start"
        )

    def stop(self) -> None:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def sql(self, statement: str, database: str = "finpulse") -> str:
        done = _as_postgres(
            str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
            "-At", "-c", statement,
        )  # fmt: skip
        return done.stdout.strip()


@dataclass
class ReplicatedSite:
    """FinPulse under gunicorn on a primary + streaming replica, with a seeded manager."""

    primary: Cluster
    replica: Cluster
    base_url: str
    customer_id: int
    session_keys: list[str] = field(default_factory=list)

    def client(self, session_key: str) -> requests.Session:
        session = requests.Session()
        session.cookies.set("sessionid", session_key, domain="127.0.0.1")
        # Any 32-character secret works as a CSRF cookie when the header repeats it.
        session.cookies.set("csrftoken", "r" * 32, domain="127.0.0.1")
        session.headers["X-CSRFToken"] = "r" * 32
        return session

    def metrics(self) -> str:
        return requests.get(f"{self.base_url}/metrics", timeout=10).text


SEED = """
import json
import django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from apps.identity import roles
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory

manager = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=BranchFactory(), username="replica.manager")
customer = CustomerFactory(assigned_to=manager)
keys = []
for _ in range(3):
    store = SessionStore()
    store[SESSION_KEY] = str(manager.pk)
    store[BACKEND_SESSION_KEY] = "apps.identity.backends.FinPulseModelBackend"
    store[HASH_SESSION_KEY] = manager.get_session_auth_hash()
    store.create()
    keys.append(store.session_key)
print(json.dumps({"customer_id": customer.pk, "session_keys": keys}))
"""


def _django_env(primary: Cluster, replica: Cluster) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "REDIS_", "CELERY_", "FINPULSE_", "PROMETHEUS_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="finpulse.settings",
        DATABASE_URL=primary.url,
        DATABASE_REPLICA_URL=replica.url,
        DATABASE_CONN_MAX_AGE="60",
        FINPULSE_REPLICA_PIN_SECONDS=str(PIN_SECONDS),
        FINPULSE_REPLICA_RETRY_SECONDS="2",
        FINPULSE_METRICS_ALLOWED_IPS="127.0.0.1",
        CELERY_TASK_ALWAYS_EAGER="false",
        PYTHONPATH=str(ROOT),
    )
    return env


def _wait_for_replay(primary: Cluster, replica: Cluster, timeout: float = 30) -> None:
    target = primary.sql("SELECT pg_current_wal_lsn()", database="postgres")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        behind = replica.sql(f"SELECT pg_wal_lsn_diff('{target}', pg_last_wal_replay_lsn()) > 0", database="postgres")
        if behind == "f":
            return
        time.sleep(0.2)
    raise AssertionError("the replica did not catch up")


@pytest.fixture(scope="session")
def replication() -> Iterator[tuple[Cluster, Cluster]]:
    if os.geteuid() != 0:
        _unavailable("the replica tests run PostgreSQL as the postgres user, which needs root")
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_basebackup").exists():
        _unavailable(f"PostgreSQL binaries are missing under {PG_BIN}")
    folder = Path(tempfile.mkdtemp(prefix="finpulse-replication-"))
    shutil.chown(folder, "postgres", "postgres")
    folder.chmod(0o700)
    primary = Cluster("primary", folder / "primary", _free_port(), folder)
    replica = Cluster("replica", folder / "replica", _free_port(), folder)
    try:
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(primary.data), "-U", "postgres", "-A", "trust", "--no-sync")
        with (primary.data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        primary.start()
        primary.sql("CREATE DATABASE finpulse", database="postgres")
        _as_postgres(
            str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-D", str(replica.data), "-R", "-X", "stream",
        )  # fmt: skip
        replica.start()
        assert replica.sql("SELECT pg_is_in_recovery()", database="postgres") == "t"
        yield primary, replica
    finally:
        replica.stop()
        primary.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def replicated_site(replication) -> Iterator[ReplicatedSite]:  # type: ignore[no-untyped-def]
    primary, replica = replication
    env = _django_env(primary, replica)
    python = sys.executable

    def manage(*args: str) -> str:
        done = subprocess.run(  # our own manage.py
            [python, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
        return done.stdout

    # With the replica configured: a migration that touched it would fail (it is read-only).
    manage("migrate", "--noinput", "-v", "0")
    manage("createcachetable")
    seeded = subprocess.run(
        [python, "-c", SEED], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert seeded.returncode == 0, seeded.stderr[-4000:]
    data = json.loads(seeded.stdout.strip().splitlines()[-1])
    _wait_for_replay(primary, replica)

    port = _free_port()
    log = (Path(tempfile.gettempdir()) / f"finpulse-replica-gunicorn-{port}.log").open("w")
    server = subprocess.Popen(
        [python, "-m", "gunicorn", "finpulse.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1",
         "--threads", "2", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{base_url}/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or the worker is still importing
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start (log: {log.name})")
            time.sleep(0.3)
        yield ReplicatedSite(primary, replica, base_url, data["customer_id"], data["session_keys"])
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
