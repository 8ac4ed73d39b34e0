"""The batch import command: CSV and JSON Lines, every bad row reported, re-runs skip known rows."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from apps.leads.models import Lead


def _csv(tmp_path, rows: list[str]):  # type: ignore[no-untyped-def]
    path = tmp_path / "leads.csv"
    path.write_text("inquiry,full_name,email,phone,branch,external_ref\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_csv_file_is_imported_and_a_rerun_skips_what_is_known(tmp_path, branch, capsys):
    path = _csv(
        tmp_path,
        [
            f'"Loan of 5k for a car, I earn 2k a month",Ann Lee,ann@mail.example,,{branch.code},c-1',
            f'"Mortgage of £250,000",Bob Ray,,+44 7700 900001,{branch.code},c-2',
        ],
    )
    call_command("import_leads", str(path))
    assert Lead.objects.filter(source="import").count() == 2
    call_command("import_leads", str(path))
    assert Lead.objects.count() == 2
    out = capsys.readouterr().out
    assert "2 already imported before were skipped" in out
    assert "ann@mail.example" not in out


def test_every_bad_row_is_reported_and_nothing_is_imported(tmp_path, branch, capsys):
    path = _csv(
        tmp_path,
        [
            f"A loan please,Ann Lee,ann@mail.example,,{branch.code},r-1",
            f",Bob Ray,bob@mail.example,,{branch.code},r-2",
            "Card please,Cy Dee,not-an-email,,,r-3",
            "Savings,Di Eve,di@mail.example,,NOPE,r-4",
        ],
    )
    with pytest.raises(CommandError) as failed:
        call_command("import_leads", str(path))
    assert failed.value.returncode == 1
    err = capsys.readouterr().err
    assert "row 3:" in err and "row 4:" in err and "row 5:" in err and "row 2:" not in err
    assert not Lead.objects.exists()


def test_a_json_lines_file_is_imported(tmp_path, db):
    path = tmp_path / "leads.jsonl"
    path.write_text(
        "\n".join(json.dumps({"inquiry": f"Invest {n}0k", "email": f"p{n}@mail.example"}) for n in range(3)) + "\n",
        encoding="utf-8",
    )
    call_command("import_leads", str(path))
    assert Lead.objects.count() == 3


def test_a_missing_file_is_a_clear_error(tmp_path, db):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_leads", str(tmp_path / "nope.csv"))
