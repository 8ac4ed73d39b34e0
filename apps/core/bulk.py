"""Insert many model instances with PostgreSQL's COPY: the bulk paths' (imports') fast lane.

`bulk_create` renders one INSERT with an UNNEST array per column; for a batch of a thousand
rows most of its time goes into preparing and quoting those arrays in Python. COPY streams
the rows instead (psycopg writes them in C), several times faster for the same rows.

What stays the same as `bulk_create`: each field's own `pre_save` and `get_db_prep_save`
produce the stored value (so encrypted fields encrypt, JSON fields serialise, auto_now
fields stamp), every database constraint and trigger applies, errors are Django's
(IntegrityError, DataError), and the instances get their primary keys. Columns with a database
default (`db_default`, e.g. the audit event's transaction id) are left to the database. The keys are taken
from the table's sequence first, in the instances' order, so a caller that needs ids in
order (the audit chain) gets them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models

from apps.core.data_keys import data_key_scope, give_data_keys

# Fields whose Python value is already what psycopg stores, so COPY takes it as it is
# (exact classes only: a subclass may prepare its value, as the encrypted fields do).
_AS_IS = {
    models.AutoField,
    models.BigAutoField,
    models.BigIntegerField,
    models.BooleanField,
    models.CharField,
    models.DateField,
    models.DecimalField,
    models.ForeignKey,
    models.IntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
    models.TextField,
}


def _allocate_ids(connection: Any, model: type[models.Model], count: int) -> list[int]:
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


@cache
def _value_getters(model: type[models.Model]) -> list[Callable[[models.Model, Any], Any]]:
    def getter(field: models.Field) -> Callable[[models.Model, Any], Any]:
        stamped = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        if type(field) in _AS_IS and not stamped:
            attname = field.attname
            return lambda obj, connection: getattr(obj, attname)
        return lambda obj, connection: field.get_db_prep_save(field.pre_save(obj, True), connection)

    return [getter(field) for field in _copied_fields(model)]


def _copied_fields(model: type[models.Model]) -> list[models.Field]:
    return [field for field in model._meta.concrete_fields if field.db_default is models.NOT_PROVIDED]


def copy_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY rows of ready database values (ids, text, dates) into `fields` of `model`'s table.

    The lower level, for rows so simple that building model instances would cost more than
    writing them (permission and assignment rows); every field of the table that has no
    database default must be given; the primary key too, or it comes from the column's default.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def copy_insert(objs: Sequence[models.Model]) -> None:
    """INSERT `objs` (all of one model, no primary keys yet) with COPY, setting their pks."""
    if not objs:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    model = type(objs[0])
    for obj, pk in zip(objs, _allocate_ids(connection, model, len(objs)), strict=True):
        obj.pk = pk
    getters = _value_getters(model)
    names = [field.name for field in _copied_fields(model)]
    # Rows are prepared before COPY starts: preparing may query (a new customer's data key,
    # apps.core.data_keys), and nothing else can run on the connection during a COPY.
    with data_key_scope():
        give_data_keys(objs)  # one INSERT for the keys of the rows that need one
        rows = [[get(obj, connection) for get in getters] for obj in objs]
    copy_rows(model, names, rows)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
