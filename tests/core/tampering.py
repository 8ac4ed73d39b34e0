"""Tampering with the append-only audit tables, as someone with the table owner's rights could.

The append-only triggers are disabled (ALTER TABLE ... DISABLE TRIGGER) for the block and
enabled again on leaving it. pgtrigger.ignore() cannot be used: it sends its setting and the
statement as one query of two commands, which PostgreSQL refuses when it binds the parameters
(decision 141).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pgtrigger
from django.db import connection


@contextmanager
def triggers_disabled(*uris: str) -> Iterator[None]:
    """The pgtrigger triggers named by `uris` ("app.Model:trigger") do not fire inside the block."""
    triggers = [(model._meta.db_table, trigger.get_pgid(model)) for model, trigger in pgtrigger.registered(*uris)]
    assert len(triggers) == len(uris), f"unknown trigger among {uris}"
    _alter(triggers, "DISABLE")
    try:
        yield
    finally:
        _alter(triggers, "ENABLE")


def _alter(triggers: list[tuple[str, str]], action: str) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, name in triggers:
            cursor.execute(f"ALTER TABLE {quote(table)} {action} TRIGGER {quote(name)}")
