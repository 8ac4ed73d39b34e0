"""Statements planned with their values: the one exception to prepared statements (decision 142).

Parameters are bound by PostgreSQL and a statement run twice on a connection is prepared
(decision 141): it is planned once, and after five runs PostgreSQL may keep one generic plan,
made without the values, when that plan's estimate is no dearer than the plans made with them.
For a page that reads a few rows by key that saves most of its database time. For a statement
over a branch or the whole bank filtered by a range of dates it can be ruinous: the book report's
task figures for a branch manager estimate "due between $1 and $2" at one row, so the generic
plan loops over the branch's 5,000 customers once per task, 14 s instead of 0.2 s.

Such statements run for hundreds of milliseconds and plan in one or two, so a cached plan gains
them nothing: inside `planned_with_values()` statements are not prepared on any database, and
PostgreSQL plans each with its values, as before decision 141.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from django.db import connections


@contextmanager
def planned_with_values() -> Iterator[None]:
    """Statements in this block, on every database alias, are planned with their values."""
    with ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(_unprepared))
        yield


def _unprepared(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    """Run one statement with psycopg's preparing off for it (the connection's threshold restored)."""
    raw = context["connection"].connection
    threshold = getattr(raw, "prepare_threshold", None)
    if threshold is None:
        return execute(sql, params, many, context)
    raw.prepare_threshold = None
    try:
        return execute(sql, params, many, context)
    finally:
        raw.prepare_threshold = threshold
