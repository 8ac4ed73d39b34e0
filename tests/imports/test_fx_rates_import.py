"""import_fx_rates: the bank's rates, loaded once, never rewritten by a file; bad rows reported."""

from __future__ import annotations

from decimal import Decimal

from apps.core.models import AuditEvent, FxRate
from tests.imports.support import read_report, run_command, write_csv

HEADER = ["rate_date", "base_currency", "quote_currency", "rate", "source"]


def rate(**overrides: str) -> dict[str, str]:
    row = {
        "rate_date": "2026-03-02",
        "base_currency": "GBP",
        "quote_currency": "EUR",
        "rate": "1.1712",
        "source": "ECB",
    }
    row.update(overrides)
    return row


def test_rates_are_loaded_and_audited_and_a_second_run_changes_nothing(tmp_path, db):
    path = write_csv(tmp_path / "fx.csv", [rate(), rate(base_currency="USD", rate="0.9213")], header=HEADER)

    first = run_command("import_fx_rates", path)
    again = run_command("import_fx_rates", path)

    assert first.returncode == 0 and again.returncode == 0
    assert dict(FxRate.objects.values_list("base_currency", "rate")) == {
        "GBP": Decimal("1.1712000000"),
        "USD": Decimal("0.9213000000"),
    }
    assert AuditEvent.objects.filter(action="fx_rate.loaded").count() == 2


def test_a_loaded_rate_is_never_rewritten_by_a_file(tmp_path, db):
    path = write_csv(tmp_path / "fx.csv", [rate()], header=HEADER)
    run_command("import_fx_rates", path)
    write_csv(path, [rate(rate="1.5")], header=HEADER)

    result = run_command("import_fx_rates", path)

    assert result.returncode == 1
    [problem] = read_report(tmp_path / "fx.errors.csv")
    assert problem["column"] == "rate" and "already loaded" in problem["message"]
    assert FxRate.objects.get().rate == Decimal("1.1712")


def test_bad_rows_are_reported_and_good_ones_loaded(tmp_path, db):
    rows = [
        rate(base_currency="XXX"),
        rate(quote_currency="GBP"),
        rate(rate="0"),
        rate(rate="abc"),
        rate(rate_date="2026-02-30"),
        rate(base_currency="CHF"),
        rate(base_currency="CHF", rate="2"),  # the same pair and date twice in one file
    ]
    path = write_csv(tmp_path / "fx.csv", rows, header=HEADER)

    result = run_command("import_fx_rates", path)

    assert result.returncode == 1
    report = read_report(tmp_path / "fx.errors.csv")
    assert {int(row["row"]) for row in report} >= {2, 3, 4, 5, 6}
    assert list(FxRate.objects.values_list("base_currency", flat=True)) == ["CHF"]
