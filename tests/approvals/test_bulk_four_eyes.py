"""Four eyes on bulk reassignment and on exports with personal data of many customers
(issue 19): proposed by one person, nothing happens before a second authorised person approves,
the maker can never approve, requests expire; an approved export is downloaded once, by its
maker, in time."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.approvals.models import ChangeRequest
from apps.approvals.services import approve_change
from apps.core.errors import Conflict, PermissionDenied
from apps.core.models import AuditEvent
from apps.customers.four_eyes import PII_EXPORT, REASSIGN
from apps.customers.models import Customer
from apps.identity import roles
from tests.customers.factories import CustomerFactory
from tests.identity.factories import UserFactory
from tests.workspace.support import (
    pinned_today,  # noqa: F401  (fixture)
    plain_static_files,  # noqa: F401  (fixture)
    role_permissions,  # noqa: F401  (fixture)
)
from tests.workspace.test_portfolio import bulk_customers, preview_and_confirm, stepped_up

pytestmark = pytest.mark.usefixtures("plain_static_files", "pinned_today", "role_permissions")
EXPORT = reverse("customers:export")
PII = {"include_pii": "1", "reason": "Regulator's sample"}


@pytest.fixture
def second_administrator(db):  # type: ignore[no-untyped-def]
    return UserFactory(roles=[roles.ADMINISTRATOR], username="admin.two", is_staff=True)


@pytest.fixture
def second_officer(db):  # type: ignore[no-untyped-def]
    return UserFactory(roles=[roles.COMPLIANCE_OFFICER], username="compliance.two")


@pytest.fixture
def threshold(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_FOUR_EYES_EXPORT_THRESHOLD = 3
    return 3


def _csv_rows(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content[:300]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


# --- exports with personal data -------------------------------------------------------------


def test_a_pii_export_up_to_the_threshold_downloads_at_once(client, compliance_officer, manager, threshold):
    for _ in range(threshold):
        CustomerFactory(assigned_to=manager)
    stepped_up(client, compliance_officer)

    rows = _csv_rows(client.get(EXPORT, PII))

    assert len(rows) == threshold + 1
    assert not ChangeRequest.objects.exists()


def test_a_pii_export_over_the_threshold_is_proposed_and_exports_nothing(
    client, compliance_officer, manager, threshold
):
    ids = {CustomerFactory(assigned_to=manager).pk for _ in range(threshold + 1)}
    stepped_up(client, compliance_officer)

    response = client.get(EXPORT, PII, follow=True)

    assert not getattr(response, "streaming", False)
    change = ChangeRequest.objects.get(action=PII_EXPORT)
    assert change.status == ChangeRequest.Status.PENDING
    assert set(change.payload["customer_ids"]) == ids
    assert f"request #{change.pk}" in response.content.decode()
    assert "Waiting for a second approval" in response.content.decode()  # shown where it applies
    assert not AuditEvent.objects.filter(action="customer.exported").exists()  # nothing left
    with pytest.raises(PermissionDenied, match="second person"):
        approve_change(checker=compliance_officer, change=change)
    # Before approval the download is refused: not approved.
    refused = client.get(reverse("customers:approved_export", args=[change.pk]), follow=True)
    assert "not approved" in refused.content.decode()
    assert not AuditEvent.objects.filter(action="customer.exported").exists()


def test_an_approved_export_is_downloaded_once_by_its_maker(
    client, compliance_officer, second_officer, manager, threshold
):
    for _ in range(threshold + 2):
        CustomerFactory(assigned_to=manager, email="plain.text@mail.example")
    stepped_up(client, compliance_officer)
    client.get(EXPORT, PII)
    change = ChangeRequest.objects.get(action=PII_EXPORT)

    approve_change(checker=second_officer, change=change, note="Sample agreed with the regulator")
    listed = client.get(reverse("customers:list")).content.decode()
    rows = _csv_rows(client.get(reverse("customers:approved_export", args=[change.pk])))
    again = client.get(reverse("customers:approved_export", args=[change.pk]), follow=True)

    assert "Download it (once)" in listed
    assert len(rows) == threshold + 3
    assert "plain.text@mail.example" in rows[1]
    assert "already been used" in again.content.decode()
    event = AuditEvent.objects.get(action="customer.exported")
    assert (event.actor, event.metadata["rows"], event.metadata["four_eyes_request"]) == (
        compliance_officer,
        threshold + 2,
        change.pk,
    )
    assert AuditEvent.objects.filter(action="change_request.consumed", object_id=str(change.pk)).count() == 1


def _asks_for_exports(client) -> bool:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("customers:list"))
    return any("approvals_changerequest" in query["sql"] for query in queries.captured_queries)


def test_the_list_stops_asking_for_exports_until_the_maker_proposes_one(
    client, compliance_officer, second_officer, manager, threshold, redis_url
):
    """The "none" is remembered in Redis only (decision 134): the database cache would cost the query it saves."""
    for _ in range(threshold + 1):
        CustomerFactory(assigned_to=manager)
    stepped_up(client, compliance_officer)
    asked = [_asks_for_exports(client) for _ in range(3)]
    assert asked[-1] is False  # by the third page the cache holds "none" (decision 134)
    assert "Waiting for a second approval" not in client.get(reverse("customers:list")).content.decode()

    client.get(EXPORT, PII)  # proposed: the maker's "none" is out of date at once
    change = ChangeRequest.objects.get(action=PII_EXPORT)
    waiting = client.get(reverse("customers:list")).content.decode()
    approve_change(checker=second_officer, change=change)
    ready = client.get(reverse("customers:list")).content.decode()

    assert f"request #{change.pk}" in waiting
    assert "Download it (once)" in ready
    assert _asks_for_exports(client)


def test_one_makers_proposal_leaves_another_makers_none_alone(client, compliance_officer, second_officer, threshold):
    from apps.customers.four_eyes import exports_of, propose_pii_export

    exports_of(user=second_officer)
    exports_of(user=second_officer)  # "none" remembered for the second officer
    ids = [CustomerFactory().pk for _ in range(threshold + 1)]

    propose_pii_export(actor=compliance_officer, customer_ids=ids, filters={}, reason="Sample", via="test")

    assert [c.pk for c in exports_of(user=compliance_officer)["waiting"]] == list(
        ChangeRequest.objects.filter(maker=compliance_officer).values_list("pk", flat=True)
    )
    assert exports_of(user=second_officer) == {"waiting": [], "ready": []}


def test_only_the_maker_may_download_an_approved_export(client, compliance_officer, second_officer, manager, threshold):
    for _ in range(threshold + 1):
        CustomerFactory(assigned_to=manager)
    stepped_up(client, compliance_officer)
    client.get(EXPORT, PII)
    change = ChangeRequest.objects.get(action=PII_EXPORT)
    approve_change(checker=second_officer, change=change)

    stepped_up(client, second_officer)

    assert client.get(reverse("customers:approved_export", args=[change.pk])).status_code == 404
    change.refresh_from_db()
    assert change.consumed_at is None


def test_an_approval_lapses_after_the_download_window(
    client, settings, compliance_officer, second_officer, manager, threshold
):
    settings.FINPULSE_FOUR_EYES_EXPORT_DOWNLOAD_HOURS = 2
    for _ in range(threshold + 1):
        CustomerFactory(assigned_to=manager)
    stepped_up(client, compliance_officer)
    client.get(EXPORT, PII)
    change = ChangeRequest.objects.get(action=PII_EXPORT)
    approve_change(checker=second_officer, change=change)
    ChangeRequest.objects.filter(pk=change.pk).update(decided_at=timezone.now() - dt.timedelta(hours=3))

    response = client.get(reverse("customers:approved_export", args=[change.pk]), follow=True)

    assert "lapsed" in response.content.decode()
    assert not AuditEvent.objects.filter(action="customer.exported").exists()


def test_an_export_whose_customers_changed_since_approval_is_refused_and_stays_unspent(
    client, compliance_officer, second_officer, manager, threshold
):
    customers = [CustomerFactory(assigned_to=manager) for _ in range(threshold + 1)]
    stepped_up(client, compliance_officer)
    client.get(EXPORT, PII)
    change = ChangeRequest.objects.get(action=PII_EXPORT)
    approve_change(checker=second_officer, change=change)
    Customer.objects.filter(pk=customers[0].pk).delete()

    response = client.get(reverse("customers:approved_export", args=[change.pk]), follow=True)

    assert "changed since it was approved" in response.content.decode()
    change.refresh_from_db()
    assert change.consumed_at is None
    assert not AuditEvent.objects.filter(action="customer.exported").exists()


def test_a_pending_export_expires_and_can_no_longer_be_approved(
    client, compliance_officer, second_officer, manager, threshold
):
    for _ in range(threshold + 1):
        CustomerFactory(assigned_to=manager)
    stepped_up(client, compliance_officer)
    client.get(EXPORT, PII)
    change = ChangeRequest.objects.get(action=PII_EXPORT)
    ChangeRequest.objects.filter(pk=change.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    with pytest.raises(Conflict, match="expired"):
        approve_change(checker=second_officer, change=change)

    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.EXPIRED
    assert client.get(reverse("customers:approved_export", args=[change.pk])).status_code == 302


def test_the_export_command_proposes_then_writes_once_approved(
    tmp_path, compliance_officer, second_officer, manager, threshold
):
    for _ in range(threshold + 1):
        CustomerFactory(assigned_to=manager, email="plain.text@mail.example")
    out = tmp_path / "customers.csv"
    args = ["export_customers", "--actor", compliance_officer.username, "--include-pii", "--reason", "Sample"]

    with pytest.raises(CommandError, match="approval") as proposed:
        call_command(*args, "--output", str(out))
    change = ChangeRequest.objects.get(action=PII_EXPORT)
    assert proposed.value.returncode == 3
    assert not out.exists()
    assert not AuditEvent.objects.filter(action="customer.exported").exists()

    approve_change(checker=second_officer, change=change)
    call_command(*args, "--output", str(out), "--approved-request", str(change.pk))
    with pytest.raises(CommandError, match="already been used"):
        call_command(*args, "--output", str(tmp_path / "again.csv"), "--approved-request", str(change.pk))

    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == threshold + 2
    assert "plain.text@mail.example" in rows[1]
    assert AuditEvent.objects.get(action="customer.exported").metadata["four_eyes_request"] == change.pk


# --- bulk reassignment ----------------------------------------------------------------------


def test_a_bulk_assignment_is_proposed_and_moves_nothing_before_approval(
    client, administrator, second_administrator, manager, branch
):
    unassigned = bulk_customers(3, branch=branch, segment="premium")
    stepped_up(client, administrator)
    data = {"current_manager": "unassigned", "segment": "premium", "to_manager": manager.pk, "reason": "New book"}

    done = preview_and_confirm(client, reverse("portfolio:assign"), data)

    change = ChangeRequest.objects.get(action="portfolio.assign")
    assert done.status_code == 302
    assert not Customer.objects.filter(primary_manager=manager).exists()
    assert "Waiting for a second approval" in client.get(reverse("portfolio:index")).content.decode()
    with pytest.raises(PermissionDenied, match="second person"):
        approve_change(checker=administrator, change=change)

    approve_change(checker=second_administrator, change=change)

    assert set(Customer.objects.filter(primary_manager=manager).values_list("pk", flat=True)) == set(unassigned)
    moved = AuditEvent.objects.filter(action="customer.reassigned", metadata__reason="New book")
    assert moved.count() == 3 and {e.actor for e in moved} == {administrator}  # the maker's change


def test_a_bulk_assignment_needs_a_recent_second_factor(client, administrator, manager, branch):
    bulk_customers(1, branch=branch)
    client.force_login(administrator)

    response = client.post(reverse("portfolio:assign"), {"to_manager": manager.pk, "reason": "x"})

    assert response.status_code == 302 and reverse("step_up") in response["Location"]
    assert not ChangeRequest.objects.exists()


def test_the_admin_reassign_action_proposes_and_a_second_person_applies(
    client, administrator, second_administrator, manager, other_manager, settings
):
    settings.FINPULSE_ADMIN_REQUIRE_TOTP = False
    moving = [CustomerFactory(assigned_to=manager) for _ in range(2)]
    ids = [c.pk for c in moving]
    client.force_login(administrator)

    client.post(
        reverse("admin:customers_customer_changelist"),
        {
            "action": "reassign_to_manager",
            "_selected_action": ids,
            "select_across": 0,
            "apply": "Reassign",
            "manager": other_manager.pk,
            "reason": "Portfolio rebalancing",
        },
    )

    change = ChangeRequest.objects.get(action=REASSIGN)
    assert Customer.objects.filter(pk__in=ids, primary_manager=manager).count() == 2
    page = client.get(reverse("customers:detail", args=[ids[0]])).content.decode()
    assert "Reassign 2 customer(s)" in page  # pending, on the customer's own page

    approve_change(checker=second_administrator, change=change)

    assert Customer.objects.filter(pk__in=ids, primary_manager=other_manager).count() == 2


def test_a_reassignment_expires_without_moving_anyone(
    administrator, second_administrator, manager, other_manager, client, settings
):
    from apps.customers.four_eyes import propose_reassignment

    customer = CustomerFactory(assigned_to=manager)
    change = propose_reassignment(
        actor=administrator, customer_ids=[customer.pk], manager=other_manager, reason="Cover"
    )
    ChangeRequest.objects.filter(pk=change.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    with pytest.raises(Conflict, match="expired"):
        approve_change(checker=second_administrator, change=change)

    customer.refresh_from_db()
    assert customer.primary_manager == manager


def test_the_list_bulk_assign_is_proposed(client, branch_manager, manager, other_manager):
    customers = [CustomerFactory(assigned_to=manager, branch=manager.branch) for _ in range(2)]
    client.force_login(branch_manager)

    response = client.post(
        reverse("workspace:bulk_action"),
        {"action": "assign", "customer": [c.pk for c in customers], "manager": other_manager.pk},
        follow=True,
    )

    assert "a second person approves" in response.content.decode()
    assert ChangeRequest.objects.get(action=REASSIGN).payload["customers"] == 2
    assert not other_manager.primary_customers.exists()
