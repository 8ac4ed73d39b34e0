"""What PostgreSQL does with one of the app's statements once prepared: its plans, run and read."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def statements_sent() -> Iterator[list[tuple[str, list[Any]]]]:
    """Each statement the default connection runs in the block, as the driver gets it: its text
    (`%s` placeholders) and its parameters."""
    from django.db import connection

    statements: list[tuple[str, list[Any]]] = []

    def keep(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        statements.append((sql, list(params)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        yield statements


def _explain(sql: str, params: list[Any], *, mode: str, analyze: bool) -> dict[str, Any]:
    """EXPLAIN (JSON) of the statement prepared as the app's driver prepares it, run with `params`
    under `plan_cache_mode` = mode (inside a transaction: the setting ends with it)."""
    from django.db import connection, transaction
    from psycopg import sql as psql

    numbered = iter(range(1, len(params) + 1))
    prepared = re.sub(r"%s", lambda _: f"${next(numbered)}", sql.replace("%%", "%"))
    values = psql.SQL(", ").join(psql.Literal(value) for value in params).as_string(connection.connection)
    options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL plan_cache_mode = {mode}")
        cursor.execute(f"PREPARE statement_of_the_test AS {prepared}")  # nosec B608 - the app's own statement
        try:
            cursor.execute(f"EXPLAIN ({options}) EXECUTE statement_of_the_test({values})")  # nosec B608
            (plan,) = cursor.fetchone()
        finally:
            cursor.execute("DEALLOCATE statement_of_the_test")
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Plan"]


def generic_plan(sql: str, params: list[Any]) -> dict[str, Any]:
    """The plan PostgreSQL keeps for this statement once prepared (its generic plan), run."""
    return _explain(sql, params, mode="force_generic_plan", analyze=True)


def rows_read(node: dict[str, Any], relation: str) -> int:
    """How many rows the plan read from `relation`, over all its loops."""
    own = int(node["Actual Rows"]) * int(node["Actual Loops"]) if node.get("Relation Name") == relation else 0
    return own + sum(rows_read(child, relation) for child in node.get("Plans", []))


def estimated_costs(sql: str, params: list[Any]) -> tuple[float, float]:
    """(generic, custom): the estimated cost of this statement's generic plan and of the plan made
    with these values. PostgreSQL's plan cache keeps the generic plan only if it is estimated no
    dearer than the plans made with the values; otherwise it plans the statement at every run."""
    generic = _explain(sql, params, mode="force_generic_plan", analyze=False)
    custom = _explain(sql, params, mode="force_custom_plan", analyze=False)
    return float(generic["Total Cost"]), float(custom["Total Cost"])
