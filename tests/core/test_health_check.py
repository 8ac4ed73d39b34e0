"""The per-request health check is an empty query, and answers as Django's `SELECT 1` (decision 184)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper as DjangosWrapper
from psycopg import pq

from finpulse.postgresql.base import DatabaseWrapper

pytestmark = pytest.mark.django_db(transaction=True)


def djangos_answer() -> bool:
    return bool(DjangosWrapper.is_usable(connections["default"]))


def test_the_project_uses_the_backend():
    assert isinstance(connections["default"], DatabaseWrapper)


def test_an_idle_connection_is_usable_and_asked_with_an_empty_query():
    connection.ensure_connection()
    assert connection.connection.pgconn.transaction_status == pq.TransactionStatus.IDLE
    sent = []
    real = type(connection.connection.pgconn).exec_

    class Watching:
        def __init__(self, pgconn):  # type: ignore[no-untyped-def]
            self.pgconn = pgconn

        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(self.pgconn, name)

        def exec_(self, command):  # type: ignore[no-untyped-def]
            sent.append(command)
            return real(self.pgconn, command)

    pgconn = connection.connection.pgconn
    connection.connection.pgconn = Watching(pgconn)
    try:
        assert connection.is_usable() is True
    finally:
        connection.connection.pgconn = pgconn
    assert sent == [b""]
    assert djangos_answer() is True


def test_a_connection_the_server_ended_is_replaced_before_the_request_queries():
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])

    assert connection.is_usable() is False
    connection.health_check_done = False
    connection.close_if_health_check_failed()  # what a request's first cursor does
    assert connection.connection is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@contextmanager
def open_transaction() -> Iterator[psycopg.Connection]:
    """The raw connection inside a transaction the test leaves open, rolled back afterwards."""
    connection.ensure_connection()
    connection.set_autocommit(False)
    try:
        yield connection.connection
    finally:
        connection.connection.rollback()
        connection.set_autocommit(True)


def test_a_failed_transaction_is_unusable_as_djangos_check_says():
    with open_transaction() as raw:
        with pytest.raises(psycopg.errors.DivisionByZero), raw.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")
        assert raw.pgconn.transaction_status == pq.TransactionStatus.INERROR
        assert connection.is_usable() is djangos_answer() is False


def test_in_a_transaction_djangos_check_runs():
    with open_transaction() as raw:
        with raw.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert raw.pgconn.transaction_status == pq.TransactionStatus.INTRANS
        assert connection.is_usable() is djangos_answer() is True
