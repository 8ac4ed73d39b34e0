"""What an import tells people: the error report (CSV) and its progress while it runs.

The error report lists every bad row with its row number, the column, the value (masked when
the column holds personal data: the report is mailed around and attached to tickets) and
the message. Values come from an untrusted file, so cells a spreadsheet would run as a
formula are neutralised with the customer export's own escaping.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any, TextIO

from apps.core.csv_export import escape_cell
from apps.imports.models import ImportRowError, ImportRun

REPORT_HEADER = ["row", "column", "value", "message"]


def default_report_path(source: Path) -> Path:
    """customers.csv -> customers.errors.csv, next to the input."""
    return source.with_name(f"{source.stem}.errors.csv")


def write_error_report(*, run: ImportRun, path: Path) -> int:
    """Write the run's bad rows (from the database, so a resumed run reports them all)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    errors = (
        ImportRowError.objects.filter(run=run)
        .order_by("row_number", "id")
        .values_list("row_number", "column", "value", "message")
    )
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_HEADER)
        for row_number, column, value, message in errors.iterator(chunk_size=2000):
            writer.writerow([row_number, escape_cell(column), escape_cell(value), escape_cell(message)])
            count += 1
    return count


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


class Progress:
    """A tqdm bar (rows/s, ETA) on a terminal; a plain line every `interval` seconds otherwise."""

    def __init__(
        self, *, label: str, total: int | None, initial: int, stream: TextIO, interactive: bool, interval: float
    ) -> None:
        self.label = label
        self.total = total
        self.done = initial
        self.stream = stream
        self.interval = interval
        self.started = self.last = time.monotonic()
        self.start_count = initial
        self.bar: Any = None
        if interactive:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total, initial=initial, unit="row", unit_scale=True, desc=label, file=stream, smoothing=0.05
            )

    def advance(self, rows: int, *, counts: dict[str, int]) -> None:
        self.done += rows
        if self.bar is not None:
            self.bar.update(rows)
            self.bar.set_postfix(failed=counts.get("failed", 0), refresh=False)
            return
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self.stream.write(self.line(counts) + "\n")
            self.stream.flush()

    def line(self, counts: dict[str, int]) -> str:
        elapsed = time.monotonic() - self.started
        rate = (self.done - self.start_count) / elapsed if elapsed > 0 else 0.0
        if self.total:
            share = f"{self.done:,}/{self.total:,} rows ({100 * self.done / self.total:.0f}%)"
            eta = f", ETA {_duration((self.total - self.done) / rate)}" if rate > 0 and self.done < self.total else ""
        else:
            share, eta = f"{self.done:,} rows", ""
        tally = ", ".join(f"{name} {counts.get(name, 0):,}" for name in ("created", "updated", "unchanged", "failed"))
        return f"{self.label}: {share}, {rate:,.0f} rows/s{eta}; {tally}"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
