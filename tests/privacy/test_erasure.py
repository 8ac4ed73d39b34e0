"""Erasure (GDPR Art. 17) with retention holds (Art. 18), by crypto-shredding."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.db import connection

from apps.core.audit import check_chain
from apps.core.audit_seal import verify_audit_trail
from apps.core.blind_index import blind_index
from apps.core.data_keys import DestroyedKey, open_token
from apps.core.errors import PermissionDenied
from apps.core.models import AuditEvent, DataKey
from apps.customers.models import Customer, IdentityDocument
from apps.customers.visibility import visible_customers
from apps.interactions.models import Interaction
from apps.privacy.models import ErasureRequest
from apps.privacy.services import release_retention_holds, request_erasure
from apps.tasks.models import Task
from tests.accounts.factories import HoldingFactory
from tests.core.sealing import seal_all
from tests.privacy.conftest import PII, pg_tool

pytestmark = pytest.mark.django_db

ENDED = dt.date(2026, 1, 1)


def erase(officer, customer, **kwargs):
    return request_erasure(actor=officer, customer=customer, reference="DSAR-1", **kwargs)


def test_erasure_destroys_the_key_and_clears_every_personal_field(compliance_officer, closed_customer):
    key_id = closed_customer.data_key_id

    request = erase(compliance_officer, closed_customer)

    assert request.status == ErasureRequest.Status.COMPLETED
    customer = Customer.objects.get(pk=closed_customer.pk)
    assert (customer.email, customer.phone, customer.national_id, customer.address) == ("", "", "", "")
    assert customer.date_of_birth is None
    assert "Ada" not in customer.display_name and customer.first_name == ""
    assert DataKey.objects.get(pk=key_id).destroyed_at is not None
    assert not Customer.objects.filter(email_index=blind_index("email", PII["email"])).exists()
    assert not Customer.objects.filter(national_id_index=blind_index("national_id", PII["national_id"])).exists()
    assert not Interaction.objects.filter(customer=customer).exists()
    assert not Task.objects.filter(customer=customer).exists()


def _dump_rows(path: Path, table: str) -> dict[str, dict[str, str]]:
    """{id: {column: text}} of one table's COPY block in a plain pg_dump file."""
    rows, columns = {}, None
    for line in path.read_text().splitlines():
        if line.startswith(f"COPY public.{table} ("):
            columns = line.split("(", 1)[1].split(")", 1)[0].split(", ")
        elif columns is not None:
            if line == "\\.":
                break
            values = dict(zip(columns, line.split("\t"), strict=True))
            rows[values["id"]] = values
    return rows


def _bytea(text: str) -> bytes:
    return bytes.fromhex(text.lstrip("\\").removeprefix("x"))


@pytest.mark.django_db(transaction=True)
def test_erased_pii_is_unreadable_in_a_pg_dump_taken_before_the_erasure(compliance_officer, closed_customer, tmp_path):
    dump = tmp_path / "before.sql"
    # The business-data backup of docs/compliance.md: data keys are backed up apart from it.
    pg_tool(
        "pg_dump", "--data-only", "--table=customers_customer", "--exclude-table-data=core_datakey",
        f"--file={dump}", connection.settings_dict["NAME"],
    )  # fmt: skip
    row = _dump_rows(dump, "customers_customer")[str(closed_customer.pk)]
    assert PII["email"] not in dump.read_text()
    email = _bytea(row["email"])
    assert open_token(email) == b'"ada.lovelace@example.org"'  # readable before the erasure

    erase(compliance_officer, closed_customer)

    for column in ("email", "phone", "national_id", "address", "date_of_birth"):
        with pytest.raises(DestroyedKey):
            open_token(_bytea(row[column]))
    assert Customer.objects.get(pk=closed_customer.pk).email == ""


def test_an_erasure_is_refused_while_the_customer_holds_an_active_product(compliance_officer, closed_customer):
    HoldingFactory(customer=closed_customer)

    request = erase(compliance_officer, closed_customer)

    assert request.status == ErasureRequest.Status.REFUSED
    assert "1 active product" in request.refused_because
    assert Customer.objects.get(pk=closed_customer.pk).email == PII["email"]
    assert AuditEvent.objects.filter(action="customer.erasure_refused", customer_id=closed_customer.pk).exists()


def test_held_records_stay_restricted_and_the_job_releases_them_when_the_hold_ends(
    settings, compliance_officer, manager, customer_with_held_records
):
    settings.FINPULSE_BUSINESS_DATE = "2026-03-01"
    customer = customer_with_held_records

    request = erase(compliance_officer, customer, relationship_ended_on=ENDED)

    assert request.status == ErasureRequest.Status.DEFERRED
    assert {h["record_type"]: h["until"] for h in request.holds} == {
        "kyc_documents": "2031-01-01",
        "holdings": "2032-01-01",
    }
    assert request.erase_after == dt.date(2032, 1, 1)
    kept = Customer.objects.get(pk=customer.pk)
    assert kept.restricted_at is not None and kept.erased_at is None
    assert kept.national_id == PII["national_id"]  # due-diligence data: held
    assert kept.email == "" and kept.phone == ""  # contact details: no hold, erased now
    assert IdentityDocument.objects.get(customer=customer).number == "P1122334"
    assert not Interaction.objects.filter(customer=customer).exists()
    assert not visible_customers(user=manager).filter(pk=customer.pk).exists()
    assert visible_customers(user=compliance_officer).filter(pk=customer.pk).exists()

    settings.FINPULSE_BUSINESS_DATE = "2031-12-31"
    assert release_retention_holds() == []
    assert IdentityDocument.objects.filter(customer=customer).exists()

    settings.FINPULSE_BUSINESS_DATE = "2032-01-01"
    assert release_retention_holds() == [request.pk]

    request.refresh_from_db()
    assert request.status == ErasureRequest.Status.COMPLETED
    erased = Customer.objects.get(pk=customer.pk)
    assert erased.erased_at is not None and erased.national_id == ""
    assert DataKey.objects.get(pk=customer.data_key_id).destroyed_at is not None
    assert not IdentityDocument.objects.filter(customer=customer).exists()
    assert AuditEvent.objects.filter(action="customer.erased", customer_id=customer.pk, actor_label="system").exists()


@pytest.mark.django_db(transaction=True)  # the sealer commits its own transactions
def test_the_audit_chain_verifies_after_erasure_and_holds_no_raw_pii(compliance_officer, closed_customer):
    seal_all()  # the customer's own events are sealed and anchored before the erasure
    erase(compliance_officer, closed_customer)
    seal_all()

    report = check_chain()
    sealed = verify_audit_trail()

    assert report.broken == 0 and report.verified > 0
    assert sealed.ok, sealed.findings
    assert sealed.blocks >= 2 and sealed.unsealed == 0
    about = AuditEvent.objects.filter(customer_id=closed_customer.pk)
    assert about.filter(action="customer.erased").exists()
    stored = " ".join(str((e.changes, e.metadata)) for e in about)
    for value in ("Ada", "Lovelace", PII["email"], PII["national_id"], PII["address"], "1985-12-10"):
        assert value not in stored


@pytest.mark.django_db(transaction=True)  # the sealer commits its own transactions
def test_the_audit_chain_verifies_at_every_step_of_a_deferred_erasure_and_its_release(
    settings, tmp_path, compliance_officer, customer_with_held_records
):
    """Issue 19, "Done when": the chain verifies throughout, not only after a plain erasure."""
    settings.FINPULSE_AUDIT_ANCHOR_DIR = tmp_path / "anchors"  # a sealing test's own anchors
    customer = customer_with_held_records

    def verified() -> int:
        seal_all()
        sealed = verify_audit_trail()
        assert sealed.ok, sealed.findings
        assert sealed.unsealed == 0
        return sealed.blocks

    before = verified()
    settings.FINPULSE_BUSINESS_DATE = "2026-03-01"
    request = erase(compliance_officer, customer, relationship_ended_on=ENDED)
    assert request.status == ErasureRequest.Status.DEFERRED
    restricted = verified()
    settings.FINPULSE_BUSINESS_DATE = "2032-01-01"
    assert release_retention_holds() == [request.pk]
    released = verified()

    assert before < restricted < released  # each step's events were sealed into new blocks
    assert Customer.objects.get(pk=customer.pk).erased_at is not None
    assert check_chain().broken == 0


def test_only_a_compliance_officer_may_erase(manager, closed_customer):
    with pytest.raises(PermissionDenied):
        erase(manager, closed_customer)
    assert Customer.objects.get(pk=closed_customer.pk).erased_at is None
