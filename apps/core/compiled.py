"""Querysets the ORM compiles once per process, run with each call's values, read as the ORM reads them.

A page that loads rows by a few ids (the 360 page's holdings and documents of one customer) spent
more of its web CPU building and compiling the queryset than running it: the statement's text is
the same for every customer, only the ids change. Decisions 114 and 120 compiled two such
statements once, each by hand, with marker values swapped for the real ones; this is that way
for any queryset of model instances (decision 131):

- `build(**markers)` returns the queryset, written with the ORM as before (the rules stay in
  their selectors); it is compiled once per thread and database with marker values (numbers no
  row has), and each marker must come out as exactly one parameter of the statement, or the
  compile refuses (a value the ORM rewrites, e.g. a list, could not be swapped safely); a number,
  instant or text that comes out as several parameters (a bound tested twice) is taken only when a
  second compile, every marker moved to another value, changes exactly those parameters and
  nothing else (decisions 177, 178), and a parameter the ORM derives from a marker (a LIKE
  pattern) is taken when it is declared (`deriving`) and the second compile proves it too;
- each call puts its own values where the markers were and runs the statement through Django's
  cursor (counted, routed to the database the router picks for a read, as the queryset would be);
  a marker may be an instant (a datetime no row has) as well as a number, and a marker compiled
  as `RawSQL("%s", (marker,))` takes a RawSQL at each call, spliced in as text and parameters
  (the 360 page's customer: the visibility rule's own compiled subquery, decision 160);
- rows become instances exactly as Django's ModelIterable makes them: `from_db`, with the
  `select_related` objects and annotations, through the compiler's own converters.

Encrypted columns are refused (a queryset decrypts them with its keys in one query; here they
would come back sealed): defer them, as the pages that show masked hints do. The compiled state
is kept per thread, because a compiler holds its thread's connection.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import connections, models, router
from django.db.models.expressions import RawSQL
from django.db.models.query import get_related_populators

from apps.core.fields import KeyRingEncryptedMixin

M = TypeVar("M", bound=models.Model)


class CompiledQuery(Generic[M]):
    """`build(**markers)`, a queryset of `model`, compiled once per thread and database; `rows(**values)` runs it."""

    def __init__(self, model: type[M], build: Callable[..., models.QuerySet[M]], **markers: Any) -> None:
        self._model = model
        self._build = build
        self._markers = markers
        self._derived: dict[str, tuple[str, Callable[[Any], Any]]] = {}
        self._local = threading.local()

    def _compiled(self, using: str) -> tuple[str, list[Any], dict[str, list[int]], _Reader]:
        states: dict[str, tuple[str, list[Any], dict[str, list[int]], _Reader]] = self._local.__dict__.setdefault(
            "states", {}
        )
        state = states.get(using)
        if state is None:
            queryset = self._build(**self._markers)
            if queryset.model is not self._model:
                raise TypeError(f"The query reads {queryset.model.__name__}, not {self._model.__name__}.")
            compiler = queryset.query.get_compiler(using=using)
            sql, params = compiler.as_sql()
            marks = self._with_derived(self._markers)
            where = {name: _positions(params, marker) for name, marker in marks.items()}
            for name, found in where.items():
                if not found or (len(found) > 1 and not _may_repeat(marks[name])):
                    raise RuntimeError(f"The compiled statement holds {name} {len(found)} times, not once.")
            if self._derived or any(len(found) > 1 for found in where.values()):
                self._prove_repeated(sql, params, where, using)
            for column in compiler.select:
                if isinstance(getattr(column[0], "target", None), KeyRingEncryptedMixin):
                    raise RuntimeError(f"{column[0].target} is encrypted: defer it in a compiled query.")
            state = (sql, list(params), where, _Reader(compiler, using))
            states[using] = state
        return state

    def _prove_repeated(self, sql: str, params: Any, where: dict[str, list[int]], using: str) -> None:
        """A marker that comes out as several parameters (a bound the statement tests twice) is
        substituted at each of them only if they are all it: compiled again with every marker
        moved to another value no row has, the text must be the same, exactly the marker's
        positions must change, each to the moved value, and nothing else may (decision 177)."""
        moved_markers = {name: _shifted(marker) for name, marker in self._markers.items()}
        again_sql, again = self._build(**moved_markers).query.get_compiler(using=using).as_sql()
        moved = self._with_derived(moved_markers)
        if again_sql != sql or len(again) != len(params):
            raise RuntimeError("The statement's text changes with its markers' values: it cannot be compiled once.")
        expected = list(params)
        for name, found in where.items():
            for index in found:
                expected[index] = moved[name]
        for name, found in where.items():
            if _positions(again, moved[name]) != found:
                raise RuntimeError(f"{name} does not stand alone at each of its {len(found)} parameters.")
        if any(type(a) is not type(b) or a != b for a, b in zip(again, expected, strict=True)):
            raise RuntimeError("A parameter other than a marker changes with the markers' values.")

    def deriving(self, **derived: tuple[str, Callable[[Any], Any]]) -> CompiledQuery[M]:
        """Names parameters the ORM makes from a marker (name=(marker, how)), e.g. a LIKE pattern
        from a term: each is proven by the second compile and made from each call's value. Before
        the first run only; returns this query."""
        self._derived = {**self._derived, **derived}
        return self

    def _with_derived(self, values: dict[str, Any]) -> dict[str, Any]:
        return {**values, **{name: how(values[source]) for name, (source, how) in self._derived.items()}}

    def rows(self, **values: Any) -> list[M]:
        """The instances the queryset would give with these values in place of the markers."""
        reader, fetched = self._run(values)
        return list(reader.instances(fetched))

    def values(self, **values: Any) -> tuple[list[str], list[Any]]:
        """For a `values_list()` queryset: its columns' names in the statement's order (extra,
        fields, annotations, as Django selects them) and its rows, through the compiler's own
        converters, with these values in place of the markers; no instances are made."""
        reader, fetched = self._run(values)
        return reader.names, reader.converted(fetched)

    def _run(self, values: dict[str, Any]) -> tuple[_Reader, list[tuple[Any, ...]]]:
        if values.keys() != self._markers.keys():
            raise TypeError(f"Values for {sorted(self._markers)} are needed, got {sorted(values)}.")
        using = router.db_for_read(self._model)
        sql, template, where, reader = self._compiled(using)
        params = list(template)
        splices = []
        values = self._with_derived(values) if self._derived else values
        for name, found in where.items():
            value = values[name]
            if isinstance(value, RawSQL):
                if len(found) != 1:
                    raise TypeError(f"{name} stands at {len(found)} parameters: only a lone marker takes SQL.")
                splices.append((found[0], value))
            else:
                value = int(value) if isinstance(self._markers.get(name), int) else value
                for index in found:
                    params[index] = value
        for index, raw in sorted(splices, key=lambda splice: splice[0], reverse=True):
            sql, params = _splice(sql, params, index=index, raw=raw)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        return reader, fetched


class _Reader:
    """Django's ModelIterable (or, for a `values_list()`, its rows) over rows already fetched, its
    per-statement work done once.

    What Django works out again for each queryset it iterates (the columns' converters, the
    fields' names, the `select_related` populators) depends only on the compiled statement, so
    it is worked out when the statement is compiled; each call only converts and instantiates.
    """

    def __init__(self, compiler: Any, using: str) -> None:
        self.compiler = compiler
        self.using = using
        select, klass_info = compiler.select, compiler.klass_info
        # As SQLCompiler.results_iter does for each execution:
        fields = [column[0] for column in select[0 : compiler.col_count]]
        self.converters = compiler.get_converters(fields)
        self.composite = compiler.has_composite_fields(fields)
        self.fields = fields
        # A values_list() statement: its columns, as ValuesListIterable names them.
        query = compiler.query
        self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
        if klass_info is None:
            return
        self.model_cls = klass_info["model"]
        select_fields = klass_info["select_fields"]
        self.start, self.end = select_fields[0], select_fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.related_populators = get_related_populators(klass_info, select, using)
        self.annotation_col_map = compiler.annotation_col_map or {}

    def converted(self, fetched: list[tuple[Any, ...]]) -> Any:
        compiler = self.compiler
        rows: Any = fetched
        if compiler.has_extra_select:  # columns the ORDER BY added, which a queryset trims too
            rows = [row[: compiler.col_count] for row in rows]
        if self.converters:
            rows = list(compiler.apply_converters(rows, self.converters))
        if self.composite:
            rows = list(compiler.composite_fields_to_tuples(rows, self.fields))
        return rows

    def instances(self, fetched: list[tuple[Any, ...]]) -> Any:
        compiler, using = self.compiler, self.using
        rows: Any = fetched
        if self.converters:
            rows = compiler.apply_converters(rows, self.converters)
        if self.composite:
            rows = compiler.composite_fields_to_tuples(rows, self.fields)
        start, end, init_list, model_cls = self.start, self.end, self.init_list, self.model_cls
        for row in rows:
            obj = model_cls.from_db(using, init_list, row[start:end])
            for populator in self.related_populators:
                populator.populate(row, obj)
            for attr_name, col_pos in self.annotation_col_map.items():
                setattr(obj, attr_name, row[col_pos])
            yield obj


_PLACEHOLDER = re.compile(r"%%|%s")
# Marker types that may stand at several parameters: a second compile moves them to another value.
_SHIFTABLE = (int, dt.datetime, str)


def _positions(params: Any, marker: Any) -> list[int]:
    return [i for i, param in enumerate(params) if type(param) is type(marker) and param == marker]


def _may_repeat(marker: Any) -> bool:
    return isinstance(marker, _SHIFTABLE) and not isinstance(marker, bool)


def _shifted(marker: Any) -> Any:
    """Another marker value of the same kind (a number one lower, an instant a microsecond later, a
    text one letter longer)."""
    if not _may_repeat(marker):
        return marker
    if isinstance(marker, str):
        return marker + "q"
    return marker + dt.timedelta(microseconds=1) if isinstance(marker, dt.datetime) else marker - 1


def _splice(sql: str, params: list[Any], *, index: int, raw: RawSQL) -> tuple[str, list[Any]]:
    """The statement with its parameter `index` (a lone `%s`) replaced by raw's text and parameters."""
    placeholders = [match for match in _PLACEHOLDER.finditer(sql) if match.group() == "%s"]
    if len(placeholders) != len(params):
        raise RuntimeError(f"The compiled statement has {len(placeholders)} placeholders for {len(params)} parameters.")
    at = placeholders[index]
    return sql[: at.start()] + raw.sql + sql[at.end() :], params[:index] + list(raw.params) + params[index + 1 :]


def correlate(sql: str, params: Any, *, marker: int, column: str) -> tuple[str, list[Any]]:
    """A compiled statement with the one parameter equal to `marker` replaced by an outer `column`.

    How a query the ORM writes becomes the inside of a LATERAL join (a read per row of another
    set, which Django cannot write): compiled with a marker value where the outer row's column
    goes, the marker must come out as exactly one parameter, or this refuses. `column` is our
    own text (a name), never a value.
    """
    values = list(params)
    found = [i for i, value in enumerate(values) if type(value) is type(marker) and value == marker]
    if len(found) != 1:
        raise RuntimeError(f"The compiled statement holds the marker {len(found)} times, not once.")
    seen = 0

    def put(match: re.Match[str]) -> str:
        nonlocal seen
        if match.group() == "%%":
            return "%%"
        seen += 1
        return column if seen - 1 == found[0] else "%s"

    text = _PLACEHOLDER.sub(put, sql)
    if seen != len(values):
        raise RuntimeError(f"The compiled statement has {seen} placeholders for {len(values)} parameters.")
    return text, values[: found[0]] + values[found[0] + 1 :]
