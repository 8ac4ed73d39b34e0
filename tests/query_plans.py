"""What PostgreSQL does with one of the app's statements: its generic plan, run and read."""

from __future__ import annotations

import json
import re
from typing import Any


def generic_plan(sql: str, params: list[Any]) -> dict[str, Any]:
    """The plan PostgreSQL keeps for this statement once prepared (its generic plan), run."""
    from django.db import connection
    from psycopg import sql as psql

    numbered = iter(range(1, len(params) + 1))
    prepared = re.sub(r"%s", lambda _: f"${next(numbered)}", sql.replace("%%", "%"))
    values = psql.SQL(", ").join(psql.Literal(value) for value in params).as_string(connection.connection)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE generic_plan_of_the_test AS {prepared}")  # nosec B608 - the app's own statement
        try:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE generic_plan_of_the_test({values})")  # nosec B608
            (plan,) = cursor.fetchone()
        finally:
            cursor.execute("DEALLOCATE generic_plan_of_the_test")
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Plan"]


def rows_read(node: dict[str, Any], relation: str) -> int:
    """How many rows the plan read from `relation`, over all its loops."""
    own = int(node["Actual Rows"]) * int(node["Actual Loops"]) if node.get("Relation Name") == relation else 0
    return own + sum(rows_read(child, relation) for child in node.get("Plans", []))


def estimated_costs(sql: str, params: list[Any]) -> tuple[float, float]:
    """(generic, custom): the estimated cost of this statement's generic plan and of the plan made
    with these values. PostgreSQL's plan cache keeps the generic plan only if it is estimated no
    dearer than the plans made with the values; otherwise it plans the statement at every run."""
    from django.db import connection, transaction
    from psycopg import sql as psql

    numbered = iter(range(1, len(params) + 1))
    prepared = re.sub(r"%s", lambda _: f"${next(numbered)}", sql.replace("%%", "%"))
    values = psql.SQL(", ").join(psql.Literal(value) for value in params).as_string(connection.connection)
    costs = []
    for mode in ("force_generic_plan", "force_custom_plan"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL plan_cache_mode = {mode}")
            cursor.execute(f"PREPARE costs_of_the_test AS {prepared}")  # nosec B608 - the app's own statement
            try:
                cursor.execute(f"EXPLAIN (FORMAT JSON) EXECUTE costs_of_the_test({values})")  # nosec B608
                (plan,) = cursor.fetchone()
            finally:
                cursor.execute("DEALLOCATE costs_of_the_test")
        plan = json.loads(plan) if isinstance(plan, str) else plan
        costs.append(float(plan[0]["Plan"]["Total Cost"]))
    return costs[0], costs[1]
