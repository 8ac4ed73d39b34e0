"""import_products (upsert by code, dated rates never overwritten) and import_interactions (immutable)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.identity import roles
from apps.imports.models import ExternalReference
from apps.interactions.models import Interaction
from apps.products.models import Product, ProductRate
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory
from tests.imports.support import read_report, run_command, write_csv, write_jsonl

PRODUCT_HEADER = [
    "code",
    "name",
    "category",
    "currency",
    "min_amount",
    "max_amount",
    "eligible_segments",
    "min_risk_profile",
    "max_risk_profile",
    "for_individuals",
    "for_businesses",
    "branches",
    "rate",
    "rate_effective_from",
]


def product(code: str, **overrides: str) -> dict[str, str]:
    row = {
        "code": code,
        "name": f"Saver {code}",
        "category": "deposit",
        "currency": "GBP",
        "min_amount": "1000",
        "max_amount": "250000",
        "eligible_segments": "mass|affluent",
        "for_individuals": "yes",
        "for_businesses": "no",
        "branches": "",
        "rate": "4.1",
        "rate_effective_from": "2025-01-01",
    }
    row.update(overrides)
    return row


def test_products_are_created_with_branches_and_a_dated_rate_then_left_alone(tmp_path, db):
    BranchFactory(code="LDN01")
    rows = [product("fs12", branches="LDN01"), product("BAD", min_amount="900", max_amount="100")]
    path = write_csv(tmp_path / "products.csv", rows, header=PRODUCT_HEADER)

    first = run_command("import_products", path)

    assert first.returncode == 1
    created = Product.objects.get(code="FS12")
    assert created.eligible_segments == ["mass", "affluent"]
    assert list(created.branches.values_list("code", flat=True)) == ["LDN01"]
    assert list(ProductRate.objects.filter(product=created).values_list("rate", "effective_from")) == [
        (Decimal("4.1000"), dt.date(2025, 1, 1))
    ]
    assert [(r["row"], r["column"]) for r in read_report(tmp_path / "products.errors.csv")] == [("3", "max_amount")]

    events = AuditEvent.objects.count()
    second = run_command("import_products", path, allow_partial=True)

    assert "unchanged 1" in second.stdout
    assert AuditEvent.objects.count() == events + 1


def test_a_rate_is_never_overwritten_by_an_import(tmp_path, db):
    path = write_csv(tmp_path / "products.csv", [product("FS12")], header=PRODUCT_HEADER)
    run_command("import_products", path)
    write_csv(path, [product("FS12", rate="4.5")], header=PRODUCT_HEADER)

    overwrite = run_command("import_products", path)

    assert overwrite.returncode == 1
    [problem] = read_report(tmp_path / "products.errors.csv")
    assert problem["column"] == "rate" and "never overwritten" in problem["message"]
    write_csv(path, [product("FS12", rate="4.5", rate_effective_from="2025-07-01")], header=PRODUCT_HEADER)

    new_date = run_command("import_products", path)

    assert new_date.returncode == 0
    rates = ProductRate.objects.filter(product__code="FS12").order_by("effective_from").values_list("rate", flat=True)
    assert list(rates) == [Decimal("4.1000"), Decimal("4.5000")]


@pytest.fixture
def interaction_world(branch, manager):  # type: ignore[no-untyped-def]
    customer = CustomerFactory(external_id="CUST-1", assigned_to=manager)
    compliance = UserFactory(roles=[roles.COMPLIANCE_OFFICER], username="auditor")
    return customer, compliance


def call(n: int, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "external_id": f"CALL-{n}",
        "customer_external_id": "CUST-1",
        "author_username": "manager.a",
        "channel": "phone",
        "occurred_at": "2025-10-01T10:30:00+01:00",
        "subject": "Deposit maturing",
        "body": "Customer Jane Doe, born 1970, asked about rates.",
        "is_confidential": False,
    }
    row.update(overrides)
    return row


def test_interactions_are_imported_once_and_never_rewritten(tmp_path, interaction_world, manager):
    customer, _ = interaction_world
    future = (timezone.now() + dt.timedelta(days=2)).isoformat()
    rows = [
        call(1),
        call(2, channel="pigeon"),
        call(3, author_username="auditor"),
        call(4, occurred_at=future),
        call(5, customer_external_id="CUST-404"),
        call(6, subject=""),
    ]
    path = write_jsonl(tmp_path / "calls.jsonl", rows)

    first = run_command("import_interactions", path)

    assert first.returncode == 1
    interaction = Interaction.objects.get()
    assert (interaction.customer, interaction.author, interaction.channel) == (customer, manager, "phone")
    assert ExternalReference.objects.get(external_id="CALL-1").object_id == interaction.pk
    report = read_report(tmp_path / "calls.errors.csv")
    assert {(int(r["row"]), r["column"]) for r in report} == {
        (2, "channel"),
        (3, "author_username"),
        (4, "occurred_at"),
        (5, "customer_external_id"),
        (6, "subject"),
    }
    assert "Jane Doe" not in (tmp_path / "calls.errors.csv").read_text()
    event = AuditEvent.objects.get(action="interaction.imported")
    assert "Jane" not in str(event.changes) + str(event.metadata)

    write_jsonl(path, [call(1), call(7)])
    second = run_command("import_interactions", path)

    assert second.returncode == 0 and "created 1, updated 0, unchanged 1" in second.stdout
    write_jsonl(path, [call(1, subject="Rewritten")])
    rewrite = run_command("import_interactions", path)

    assert rewrite.returncode == 1
    assert Interaction.objects.get(pk=interaction.pk).subject == "Deposit maturing"
