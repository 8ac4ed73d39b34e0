"""Planner statistics are refreshed while an import grows its tables (autovacuum may be off)."""

from __future__ import annotations

from django.db import connection

from apps.customers.models import Customer
from apps.imports.pipeline import PlannerStatistics
from tests.customers.factories import CustomerFactory


def _planner_rows() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'customers_customer'::regclass")
        return cursor.fetchone()[0]


def test_tables_are_analyzed_once_they_grew_past_the_threshold(db):
    statistics = PlannerStatistics([Customer], min_rows=3)
    CustomerFactory.create_batch(2)
    statistics.grew(2)
    assert _planner_rows() <= 0  # below the threshold: not analyzed yet

    CustomerFactory.create_batch(2)
    statistics.grew(2)

    assert _planner_rows() == 4
    assert statistics.added == 0 and statistics.known == 4
