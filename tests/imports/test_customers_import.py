"""import_customers: good rows in, every bad row reported, duplicates caught, re-runs change nothing."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from apps.core.blind_index import blind_index
from apps.core.masking import mask_email, mask_national_id, mask_phone
from apps.core.models import AuditEvent
from apps.customers.models import Customer, CustomerAssignment, CustomerUserObjectPermission
from apps.imports.models import ImportRowError, ImportRun
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory
from tests.imports.support import CUSTOMER_HEADER, customer_row, read_report, run_command, write_csv, write_jsonl


@pytest.fixture
def existing(branch):  # type: ignore[no-untyped-def]
    return CustomerFactory(
        external_id="EXISTING1",
        branch=branch,
        national_id="QQ900001A",
        email="taken@mail.example",
        phone="+44 7700 900999",
    )


def mixed_rows(branch_code: str, manager: str) -> list[dict[str, str]]:
    """Rows 2-4 are good; each later row has one kind of problem (the comment says which)."""
    row = lambda n, **kw: customer_row(n, branch_code=branch_code, **kw)  # noqa: E731
    return [
        row(1, manager=manager),  # 2 good, assigned
        row(2, kind="business", first_name="", last_name="", company_name="Engines Ltd"),  # 3 good
        row(3),  # 4 good
        row(4, external_id=""),  # 5 missing required field
        row(5, date_of_birth="1980-02-31"),  # 6 bad date
        row(6, income_currency="XYZ"),  # 7 unknown currency
        row(7, segment="gold"),  # 8 bad enum
        row(8, manager_username="nobody"),  # 9 unknown manager
        row(9, annual_income="-100.00"),  # 10 negative income (model rule)
        row(10, national_id="QQ 900001 A"),  # 11 duplicate national id of EXISTING1
        row(11, email="Taken@Mail.example"),  # 12 duplicate email of EXISTING1
        row(12, phone="0044 7700 900999"),  # 13 duplicate phone of EXISTING1
        row(13, email="ada1@mail.example"),  # 14 duplicate, inside the file, of row 2
        row(14, first_name="", last_name=""),  # 15 an individual without a name (model rule)
    ]


EXPECTED_PROBLEMS = {
    (5, "external_id"),
    (6, "date_of_birth"),
    (7, "income_currency"),
    (8, "segment"),
    (9, "manager_username"),
    (10, "annual_income"),
    (11, "national_id"),
    (12, "email"),
    (13, "phone"),
    (14, "email"),
    (15, "last_name"),
}


@pytest.fixture
def mixed_file(tmp_path, branch, manager, existing):  # type: ignore[no-untyped-def]
    return write_csv(tmp_path / "customers.csv", mixed_rows(branch.code, manager.username), header=CUSTOMER_HEADER)


def test_a_mixed_file_imports_the_good_rows_and_reports_every_bad_one(mixed_file, manager):
    result = run_command("import_customers", mixed_file)

    assert result.returncode == 1
    assert "created 3" in result.stdout and "failed 11" in result.stdout and "4 probable duplicates" in result.stdout
    imported = set(Customer.objects.exclude(external_id="EXISTING1").values_list("external_id", flat=True))
    assert imported == {"IMP000001", "IMP000002", "IMP000003"}
    report = read_report(mixed_file.with_name("customers.errors.csv"))
    assert {(int(r["row"]), r["column"]) for r in report} == EXPECTED_PROBLEMS
    assert len(report) == len(EXPECTED_PROBLEMS)
    assert result.stdout.count("Error report:") == 1
    run = ImportRun.objects.get()
    assert run.counts == {"rows": 14, "created": 3, "updated": 0, "unchanged": 0, "failed": 11, "duplicates": 4}
    assert run.status == ImportRun.Status.COMPLETED


def test_the_report_says_why_and_masks_personal_data(mixed_file):
    run_command("import_customers", mixed_file)

    report = {int(r["row"]): r for r in read_report(mixed_file.with_name("customers.errors.csv"))}
    assert report[11]["message"] == "Probable duplicate of customer EXISTING1: same national id."
    assert report[11]["value"] == "••••01A"
    assert report[12]["value"] == "T***@Mail.example"
    assert report[13]["value"] == "••••999"
    assert report[14]["message"] == "Probable duplicate of customer IMP000001: same email."
    assert report[6]["value"] == "[redacted]"  # a date of birth is personal data
    assert report[7]["value"] == "XYZ" and report[7]["message"] == "Not a currency code we deal in (ISO 4217)."
    assert report[9]["message"] == "No employee with the username 'nobody'."
    assert report[10]["message"] == "Income cannot be negative."
    text = mixed_file.with_name("customers.errors.csv").read_text()
    for secret in ("QQ 900001 A", "Taken@Mail.example", "0044 7700 900999", "1980-02-31"):
        assert secret not in text
    assert not ImportRowError.objects.filter(value__contains="@Mail.example").exclude(value__startswith="T***").exists()


def test_imported_customers_carry_what_the_service_writes(mixed_file, manager):
    run_command("import_customers", mixed_file)

    imported = Customer.objects.get(external_id="IMP000001")
    assert str(imported.date_of_birth) == "1985-12-10"
    assert (imported.email, imported.phone, imported.national_id) == (
        "ada1@mail.example",
        "+44 7800 000001",
        "AB000001C",
    )
    assert imported.address == "1 Analytical Row, London"
    assert imported.display_name == "Ada Lovelace1"
    assert (imported.national_id_hint, imported.email_hint, imported.phone_hint) == (
        mask_national_id("AB000001C"),
        mask_email("ada1@mail.example"),
        mask_phone("+44 7800 000001"),
    )
    assert imported.national_id_index == blind_index("national_id", "AB000001C")
    assert imported.email_index == blind_index("email", "ada1@mail.example")
    assert imported.phone_index == blind_index("phone", "+44 7800 000001")
    assert imported.primary_manager == manager
    assert CustomerUserObjectPermission.objects.filter(content_object=imported, user=manager).count() == 2
    assert CustomerAssignment.objects.filter(customer=imported, manager=manager, ended_at__isnull=True).exists()
    assert Customer.objects.get(external_id="IMP000002").display_name == "Engines Ltd"


def test_pii_is_encrypted_at_rest(mixed_file):
    run_command("import_customers", mixed_file)

    with connection.cursor() as cursor:
        cursor.execute("SELECT email, national_id FROM customers_customer WHERE external_id = 'IMP000001'")
        email, national_id = cursor.fetchone()
    assert b"ada1@mail.example" not in bytes(email) and b"AB000001C" not in bytes(national_id)


def test_the_run_and_every_imported_customer_are_audited(mixed_file, manager):
    before = AuditEvent.objects.count()

    run_command("import_customers", mixed_file)

    events = AuditEvent.objects.order_by("id")[before:]
    actions = [e.action for e in events]
    assert actions.count("customer.imported") == 3
    # A new customer is created with its manager: its creation event says so (no reassignment).
    assert actions.count("customer.reassigned") == 0
    assigned = [e for e in events if e.action == "customer.imported" and "primary_manager" in e.changes]
    assert [e.changes["primary_manager"] for e in assigned] == [[None, manager.pk]]
    assert actions.count("import.completed") == 1
    imported = next(e for e in events if e.action == "customer.imported")
    assert imported.changes["email"] == ["", "[redacted]"]  # as create_customer records it
    assert imported.metadata["operation"] == "created"
    completed = AuditEvent.objects.get(action="import.completed")
    run = ImportRun.objects.get()
    assert completed.metadata["sha256"] == run.sha256
    assert completed.metadata["counts"]["created"] == 3
    assert completed.actor_label == "system"


def test_a_second_run_changes_nothing_and_says_so(mixed_file):
    run_command("import_customers", mixed_file)
    events_before = AuditEvent.objects.count()
    stored_before = {c.external_id: (c.updated_at, c.email) for c in Customer.objects.all()}

    result = run_command("import_customers", mixed_file, allow_partial=True)

    assert result.returncode == 0
    second = ImportRun.objects.order_by("-id").first()
    assert second.counts == {"rows": 14, "created": 0, "updated": 0, "unchanged": 3, "failed": 11, "duplicates": 4}
    assert "created 0, updated 0, unchanged 3" in result.stdout
    new_events = list(AuditEvent.objects.order_by("id")[events_before:].values_list("action", flat=True))
    assert new_events == ["import.completed"]
    assert {c.external_id: (c.updated_at, c.email) for c in Customer.objects.all()} == stored_before


def test_allow_partial_exits_zero_with_failed_rows(mixed_file):
    result = run_command("import_customers", mixed_file, allow_partial=True)

    assert result.returncode == 0
    assert "failed 11" in result.stdout


def test_a_changed_row_is_updated_and_only_its_changes_are_audited(tmp_path, branch, manager):
    path = write_csv(tmp_path / "c.csv", [customer_row(1, branch_code=branch.code)], header=CUSTOMER_HEADER)
    run_command("import_customers", path)
    changed = customer_row(1, branch_code=branch.code, email="ada.new@mail.example", segment="premium")
    write_csv(path, [changed], header=CUSTOMER_HEADER)

    result = run_command("import_customers", path)

    assert result.returncode == 0 and "updated 1" in result.stdout
    customer = Customer.objects.get(external_id="IMP000001")
    assert (customer.email, customer.segment, customer.email_hint) == (
        "ada.new@mail.example",
        "premium",
        "a***@mail.example",
    )
    assert customer.email_index == blind_index("email", "ada.new@mail.example")
    event = AuditEvent.objects.filter(action="customer.imported").order_by("-id").first()
    assert event.changes == {"email": ["[redacted]", "[redacted]"], "segment": ["affluent", "premium"]}
    assert event.metadata["operation"] == "updated"


def test_columns_left_out_of_the_file_keep_their_stored_values(tmp_path, branch):
    full = write_csv(tmp_path / "full.csv", [customer_row(1, branch_code=branch.code)], header=CUSTOMER_HEADER)
    run_command("import_customers", full)
    partial = write_csv(
        tmp_path / "partial.csv",
        [{"external_id": "IMP000001", "segment": "private"}],
        header=["external_id", "segment"],
    )

    result = run_command("import_customers", partial)

    assert result.returncode == 0
    customer = Customer.objects.get(external_id="IMP000001")
    assert (customer.segment, customer.email, customer.branch_id) == ("private", "ada1@mail.example", branch.pk)


def test_the_same_external_id_twice_in_a_file_ends_with_the_later_row(tmp_path, branch):
    rows = [customer_row(1, branch_code=branch.code), customer_row(1, branch_code=branch.code, segment="premium")]
    path = write_csv(tmp_path / "twice.csv", rows, header=CUSTOMER_HEADER)

    result = run_command("import_customers", path)

    assert result.returncode == 0 and "created 1, updated 1" in result.stdout
    assert Customer.objects.get(external_id="IMP000001").segment == "premium"


def test_a_dry_run_validates_everything_and_writes_nothing(mixed_file):
    audit_before = AuditEvent.objects.count()
    customers_before = Customer.objects.count()

    result = run_command("import_customers", mixed_file, dry_run=True)

    assert result.returncode == 1
    assert "Dry run (nothing written)" in result.stdout and "created 3" in result.stdout
    assert "4 probable duplicates" in result.stdout  # the duplicate inside the file too
    assert Customer.objects.count() == customers_before
    assert AuditEvent.objects.count() == audit_before
    assert not ImportRun.objects.exists() and not ImportRowError.objects.exists()
    report = read_report(mixed_file.with_name("customers.errors.csv"))
    assert {(int(r["row"]), r["column"]) for r in report} == EXPECTED_PROBLEMS


def test_json_lines_are_imported_like_csv(tmp_path, branch, manager):
    rows = [
        {
            **customer_row(1, branch_code=branch.code, manager=manager.username),
            "risk_profile": 4,
            "annual_income": 1200.5,
        },
        {"external_id": "IMP000002", "kind": "business", "company_name": "Looms plc", "branch_code": branch.code},
        {"external_id": "IMP000003", "branch_code": branch.code, "last_name": "X", "segment": None, "bogus": 1},
    ]
    path = write_jsonl(tmp_path / "customers.jsonl", rows)

    result = run_command("import_customers", path)

    assert result.returncode == 1
    first = Customer.objects.get(external_id="IMP000001")
    assert (first.risk_profile, str(first.annual_income), first.primary_manager) == (4, "1200.50", manager)
    assert Customer.objects.get(external_id="IMP000002").display_name == "Looms plc"
    report = read_report(tmp_path / "customers.errors.csv")
    assert [(r["row"], r["column"], r["message"]) for r in report] == [("3", "bogus", "Unknown column.")]


@pytest.mark.parametrize("customers", [3, 30])
def test_queries_do_not_grow_with_the_number_of_rows(
    tmp_path, branch, manager, customers, django_assert_max_num_queries
):
    rows = [customer_row(n, branch_code=branch.code, manager=manager.username) for n in range(customers)]
    path = write_csv(tmp_path / "c.csv", rows, header=CUSTOMER_HEADER)

    with django_assert_max_num_queries(40):
        result = run_command("import_customers", path)

    assert result.returncode == 0
    assert Customer.objects.filter(primary_manager=manager).count() == customers


def _commit_once_the_import_waits_for_it(branch) -> None:  # type: ignore[no-untyped-def]
    """A concurrent writer (another system writing straight to the table, so it holds no lock
    the import needs before its COPY): insert a customer with national id QQ900001A, keep the
    transaction open until the import's COPY waits on that row's unique index entry, commit."""
    try:
        with transaction.atomic():
            customer = Customer(external_id="EXISTING1", branch=branch, first_name="Early", last_name="Writer")
            customer.set_pii("national_id", "QQ900001A")
            customer.display_name = customer.compose_display_name()
            customer.save()
            _writer_ready.set()
            deadline = time.monotonic() + 60
            with connection.cursor() as cursor:
                while time.monotonic() < deadline:
                    # Another backend waiting for this transaction to end: the COPY's unique check.
                    cursor.execute(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted "
                        "AND transactionid = (txid_current() % 4294967296)::text::xid"
                    )
                    if cursor.fetchone()[0]:
                        _writer_saw.append("the import waited")
                        return  # commits: the waiting COPY now fails on the unique index
                    time.sleep(0.05)
            raise AssertionError("the import never waited for the concurrent writer")
    finally:
        connection.close()


_writer_ready = threading.Event()
_writer_saw: list[str] = []


@pytest.mark.django_db(transaction=True)
def test_a_row_a_concurrent_writer_takes_after_the_checks_fails_alone(tmp_path, branch, manager):
    """A concurrent writer takes a national id between the duplicate check and the COPY: the
    batch is then retried row by row, the refused row is reported, the others go in."""
    taken = customer_row(2, branch_code=branch.code, manager=manager.username, national_id="QQ900001A")
    rows = [customer_row(1, branch_code=branch.code, manager=manager.username), taken]
    rows.append(customer_row(3, branch_code=branch.code, manager=manager.username))
    path = write_csv(tmp_path / "race.csv", rows, header=CUSTOMER_HEADER)
    _writer_ready.clear()
    _writer_saw.clear()
    # The writer's customer is in another branch: its row would otherwise hold the import's
    # branch row (foreign-key share lock) and the import would wait before its checks.
    writer = threading.Thread(target=_commit_once_the_import_waits_for_it, args=(BranchFactory(),))
    writer.start()
    assert _writer_ready.wait(30)

    result = run_command("import_customers", path, allow_partial=True)
    writer.join(60)

    assert _writer_saw == ["the import waited"]  # the COPY met the uncommitted row: a real race
    assert result.returncode == 0
    run = ImportRun.objects.get()
    assert (run.created, run.failed) == (2, 1)
    error = ImportRowError.objects.get(run=run)
    # Retried alone after the refused COPY, the row meets the now committed customer.
    assert error.row_number == 3 and "duplicate of customer EXISTING1" in error.message
    assert set(Customer.objects.values_list("external_id", flat=True)) == {"EXISTING1", "IMP000001", "IMP000003"}
    # The refused batch was rolled back whole: each customer has its rows once, from the retry.
    assert CustomerAssignment.objects.filter(manager=manager).count() == 2
    assert CustomerUserObjectPermission.objects.filter(user=manager).count() == 4
