"""Streaming readers for import files: CSV (UTF-8, with or without BOM) and JSON Lines.

Nothing here holds more than one row (plus a small sample for delimiter detection) in
memory, whatever the size of the file. Row numbers are what a person finds in the file: for
CSV the line on which the record starts (the header is line 1, so the first data row is 2,
as a spreadsheet numbers it); for JSON Lines the line number.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apps.core.csv_export import FORMULA_TRIGGERS

CSV_DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")


class FileProblem(Exception):
    """The file as a whole cannot be imported (unreadable, not UTF-8, bad header)."""


@dataclass(frozen=True)
class FileFacts:
    path: Path
    size: int
    sha256: str
    lines: int  # physical lines, for the progress bar's estimate


@dataclass
class SourceRow:
    number: int
    values: dict[str, Any]
    # A row that could not be read at all (bad JSON, wrong number of cells).
    problem: str = ""


def inspect_file(path: Path) -> FileFacts:
    """Checksum, size and line count in one streaming pass; refuses a file that is not UTF-8.

    Checking the encoding before the first batch is written means a bad byte at the end of a
    large file cannot leave half of it imported.
    """
    if not path.is_file():
        raise FileProblem(f"No such file: {path}")
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    size = lines = 0
    last = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            last = chunk
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                raise FileProblem(f"The file is not UTF-8 text (byte {size - len(chunk) + error.start}).") from None
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise FileProblem("The file is not UTF-8 text (it ends inside a character).") from None
    if last and not last.endswith(b"\n"):
        lines += 1
    return FileFacts(path=path, size=size, sha256=digest.hexdigest(), lines=lines)


def detect_format(path: Path, given: str | None = None) -> str:
    if given:
        return given
    return "jsonl" if path.suffix.lower() in JSONL_SUFFIXES else "csv"


def normalise_header(name: str) -> str:
    """'Date of birth ' -> 'date_of_birth' (people export headers with spaces and capitals)."""
    return "_".join(str(name).strip().lower().replace("-", " ").split())


def detect_delimiter(path: Path) -> str:
    """csv.Sniffer on the first complete lines; a comma when it cannot tell."""
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        sample = handle.read(SNIFF_BYTES)
    if len(sample) == SNIFF_BYTES and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _refuse_constant(name: str) -> None:
    raise ValueError(f"The line holds {name}, which is not a number (JSON has no NaN or Infinity).")


def _finite_float(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise ValueError("The line holds a number too large for any column (it overflows).")
    return number


def _unescape(cell: str) -> str:
    """Undo the exports' formula escaping ("'+44 20..." -> "+44 20..."), so an export loads back."""
    if cell[:1] == "'" and cell[1:2] and cell[1] in FORMULA_TRIGGERS:
        return cell[1:]
    return cell


class CsvRows:
    """Rows of a CSV file as {column: text}, streamed. `header` is read on opening."""

    def __init__(self, path: Path, *, delimiter: str | None = None) -> None:
        self.path = path
        self.delimiter = delimiter or detect_delimiter(path)
        self._handle = path.open("r", encoding="utf-8-sig", newline="")
        self._reader = csv.reader(self._handle, delimiter=self.delimiter)
        try:
            raw_header = next(self._reader)
        except StopIteration:
            self.close()
            raise FileProblem("The file is empty: it needs a header row.") from None
        except csv.Error as error:
            self.close()
            raise FileProblem(f"The header row cannot be read: {error}") from None
        self.header = [normalise_header(name) for name in raw_header]
        blanks = [i + 1 for i, name in enumerate(self.header) if not name]
        if blanks:
            self.close()
            raise FileProblem(f"Header cell(s) {', '.join(map(str, blanks))} are empty: every column needs a name.")
        repeated = sorted({name for name in self.header if self.header.count(name) > 1})
        if repeated:
            self.close()
            raise FileProblem(f"Column(s) named twice in the header: {', '.join(repeated)}.")

    def __iter__(self) -> Iterator[SourceRow]:
        width = len(self.header)
        while True:
            start = self._reader.line_num + 1
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield SourceRow(number=start, values={}, problem=f"The row cannot be read as CSV: {error}.")
                continue
            if not cells or all(not cell.strip() for cell in cells):
                continue  # blank lines (a trailing newline, a spreadsheet's empty rows)
            if len(cells) != width:
                yield SourceRow(
                    number=start,
                    values=dict(zip(self.header, cells, strict=False)),
                    problem=f"The row has {len(cells)} cells but the header has {width}.",
                )
                continue
            yield SourceRow(number=start, values=dict(zip(self.header, map(_unescape, cells), strict=True)))

    def close(self) -> None:
        self._handle.close()


class JsonLinesRows:
    """One JSON object per line. The header is the union of keys... which a stream cannot know,
    so it is taken from the first object; later objects may leave keys out (not given) but
    not bring unknown ones (reported on the row)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.delimiter = ""
        self._handle = path.open("r", encoding="utf-8-sig")
        self.header: list[str] = []
        self._first: SourceRow | None = None
        self._line = 0
        for row in self._rows():
            self._first = row
            if not row.problem:
                self.header = list(row.values)
            break
        if self._first is None:
            self.close()
            raise FileProblem("The file is empty.")
        if not self.header:
            self.close()
            raise FileProblem(f"Line {self._first.number} is not a JSON object: {self._first.problem}")

    def _rows(self) -> Iterator[SourceRow]:
        for text in self._handle:
            self._line += 1
            if not text.strip():
                continue
            try:
                value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
            except json.JSONDecodeError as error:
                yield SourceRow(number=self._line, values={}, problem=f"The line is not valid JSON ({error.msg}).")
                continue
            except ValueError as error:  # NaN, Infinity, 1e309: not a number any column can hold
                yield SourceRow(number=self._line, values={}, problem=str(error))
                continue
            if not isinstance(value, dict):
                yield SourceRow(number=self._line, values={}, problem="The line is not a JSON object.")
                continue
            yield SourceRow(number=self._line, values={normalise_header(k): v for k, v in value.items()})

    def __iter__(self) -> Iterator[SourceRow]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        yield from self._rows()

    def close(self) -> None:
        self._handle.close()


def open_rows(path: Path, *, file_format: str, delimiter: str | None = None) -> CsvRows | JsonLinesRows:
    if file_format == "jsonl":
        return JsonLinesRows(path)
    if delimiter is not None and len(delimiter) != 1:
        raise FileProblem("The delimiter must be a single character.")
    return CsvRows(path, delimiter=delimiter)
