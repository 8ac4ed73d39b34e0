"""docs/opportunities.md keeps its "Done when" map of issue 21 true: each criterion of the issue
has a row, and every test and file it cites as proof exists (a renamed or deleted test breaks this,
so the map cannot drift into citing nothing). As tests/privacy/test_compliance_map.py does for
docs/compliance.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "opportunities.md"
HEADING = '## Issue 21 (the manager\'s cockpit): what proves each "Done when"'


def defined_tests() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        names.update(re.findall(r"^(?:async )?def (test_\w+)", path.read_text(), re.M))
    return names


def done_when_map() -> str:
    text = DOC.read_text()
    assert HEADING in text
    return text.split(HEADING, 1)[1].split("\n## ", 1)[0]


def test_the_map_has_a_row_for_each_criterion_of_issue_21() -> None:
    rows = [line for line in done_when_map().splitlines() if line.startswith("| ") and "---" not in line]
    criteria = [row.split("|")[1].strip() for row in rows[1:]]
    for words in (
        "Reports journey: chart rendered, drill-down",
        "Pipeline journey: create, move, win",
        "Calendar journey: schedule a meeting, `.ics` received by a real SMTP server process",
        "Saved view and bulk action journeys",
        "Email capture journey: a real SMTP client sends to the capture process",
        "Phone width (390 px)",
        "Report pages within 15 queries at 100,000 customers",
        "The permission matrix and the canary test cover every new route",
    ):
        assert any(criterion.startswith(words) for criterion in criteria), words
    service_rows = [c for c in criteria if "service" in c]
    assert len(service_rows) >= 5, service_rows  # reports, pipeline, calendar, saved views, capture


def test_the_map_cites_only_tests_and_files_that_exist() -> None:
    text = done_when_map()
    cited = set(re.findall(r"`(test_\w+)`", text))
    assert len(cited) >= 50
    assert sorted(cited - defined_tests()) == []
    for path in re.findall(r"`((?:tests|benchmarks)/[\w/]+\.py)`", text):
        assert (ROOT / path).is_file(), path
