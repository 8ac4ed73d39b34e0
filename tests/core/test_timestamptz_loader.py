"""Timestamps with a time zone are read by psycopg's C loader, as the same values (decision 193)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.postgres import types
from psycopg.pq import Format

TIMESTAMPTZ = types["timestamptz"].oid
VALUES_SQL = (
    "SELECT %s::timestamptz, '2026-03-29 01:30:00.000001+02'::timestamptz, '1999-12-31 23:59:59-05:30'::timestamptz"
)
GIVEN = dt.datetime(2026, 12, 7, 3, 41, 12, 123456, tzinfo=dt.UTC)


def _read(cursor) -> tuple[dt.datetime, ...]:  # type: ignore[no-untyped-def]
    cursor.execute(VALUES_SQL, [GIVEN])
    return tuple(cursor.fetchone())


@pytest.mark.django_db
def test_the_c_loader_reads_the_values_djangos_own_loader_reads():
    with connection.cursor() as cursor:
        raw = cursor.cursor
        loader = raw.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)
        assert loader.__module__.startswith("psycopg_binary"), loader  # C, from psycopg-binary
        fast = _read(raw)
        register_tzloader(connection.timezone, raw)  # Django's pure-Python loader, as before
        assert raw.adapters.get_loader(TIMESTAMPTZ, Format.TEXT).__module__.startswith("django")
        django_own = _read(raw)

    assert fast == django_own
    assert fast[0] == GIVEN
    assert fast[1] == dt.datetime(2026, 3, 28, 23, 30, 0, 1, tzinfo=dt.UTC)
    assert all(value.tzinfo is dt.UTC for value in fast + django_own)


@pytest.mark.django_db
def test_the_orm_reads_aware_utc_datetimes_through_it(manager):
    from apps.identity.models import User

    joined = User.objects.values_list("date_joined", flat=True).get(pk=manager.pk)

    assert joined == manager.date_joined and joined.tzinfo is dt.UTC
