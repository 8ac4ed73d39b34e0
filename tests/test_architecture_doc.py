"""docs/architecture.md names every app, and each bank rule's one file exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"


def _table_after(heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first Markdown table after `heading`."""
    text = DOC.read_text()
    section = text[text.index(heading) :]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]  # skip the header and the |---| line


def _paths(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_every_file_named_in_the_rule_table_exists():
    rows = _table_after("## One home per rule")

    assert len(rows) >= 8
    for rule, where in rows:
        paths = _paths(where)
        assert paths, f"no file named for {rule!r}"
        for path in paths:
            assert (ROOT / path).is_file(), f"{rule!r}: {path} does not exist"


def test_the_rule_table_names_the_rules_the_bank_asks_about():
    rules = " ".join(rule for rule, _ in _table_after("## One home per rule"))

    for rule in ("who sees a customer", "alert fires", "LLM", "what today is", "audit event", "notification"):
        assert rule in rules


def test_every_app_is_listed_with_its_job():
    listed = {path for row in _table_after("Every app and its one job") for path in _paths(row[0])}
    apps = {f"apps/{p.name}" for p in (ROOT / "apps").iterdir() if (p / "apps.py").is_file()}

    assert listed == apps
