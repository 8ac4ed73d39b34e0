"""Compliance's audit-trail page: search, keyset pages, an audited CSV export; nobody else."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.core.audit import record_audit_event
from apps.core.models import AuditEvent
from tests.customers.factories import CustomerFactory


def _rows(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def _listed(response) -> list[int]:  # type: ignore[no-untyped-def]
    return [event.pk for event in response.context["page"].events]


@pytest.fixture
def trail(manager, other_manager):  # type: ignore[no-untyped-def]
    """Two customers' creation events, by two different actors."""
    mine = CustomerFactory(assigned_to=manager, external_id="CB-AUDIT-1")
    theirs = CustomerFactory(assigned_to=other_manager, external_id="CB-AUDIT-2")
    with transaction.atomic():
        record_audit_event(actor=manager, action="customer.updated", target=mine, changes={"segment": ["a", "b"]})
    return mine, theirs


def test_compliance_searches_the_trail_by_customer_actor_and_action(client, compliance_officer, manager, trail):
    mine, _ = trail
    client.force_login(compliance_officer)
    url = reverse("audit:trail")

    by_customer = client.get(url, {"customer": "CB-AUDIT-1"})
    by_actor = client.get(url, {"customer": str(mine.pk), "actor": manager.username.upper()})
    by_prefix = client.get(url, {"customer": "CB-AUDIT-1", "action": "customer."})
    by_action = client.get(url, {"action": "customer.updated"})

    assert by_customer.status_code == 200
    assert {AuditEvent.objects.get(pk=pk).customer_id for pk in _listed(by_customer)} == {mine.pk}
    assert [AuditEvent.objects.get(pk=pk).action for pk in _listed(by_actor)] == ["customer.updated"]
    assert len(_listed(by_prefix)) >= 2
    assert [AuditEvent.objects.get(pk=pk).customer_id for pk in _listed(by_action)] == [mine.pk]


def test_compliance_answers_who_looked_at_this_customer(client, compliance_officer, manager, other_manager, trail):
    from apps.core.audit import record_pii_reveal

    mine, theirs = trail
    client.force_login(manager)
    client.get(mine.get_absolute_url(), {"purpose": "Mortgage call"})
    record_pii_reveal(actor=manager, target=mine, fields=["email"], reason="Send the offer")
    client.force_login(other_manager)
    client.get(theirs.get_absolute_url())  # another customer: not in the answer
    client.force_login(compliance_officer)

    response = client.get(reverse("audit:trail"), {"customer": "CB-AUDIT-1", "looked": "on"})

    looked = [AuditEvent.objects.get(pk=pk) for pk in _listed(response)]
    assert [(e.action, e.actor_label, e.metadata.get("purpose") or e.metadata.get("reason")) for e in looked] == [
        ("pii.revealed", manager.username, "Send the offer"),
        ("customer.viewed", manager.username, "Mortgage call"),
    ]
    assert "Who looked at this customer" in response.content.decode()


def test_the_date_range_is_inclusive_and_a_reversed_range_is_a_form_error(client, compliance_officer, trail):
    client.force_login(compliance_officer)
    today = timezone.localdate()
    url = reverse("audit:trail")

    today_only = client.get(url, {"date_from": today.isoformat(), "date_to": today.isoformat()})
    yesterday = client.get(url, {"date_to": (today - dt.timedelta(days=1)).isoformat()})
    reversed_range = client.get(url, {"date_from": today.isoformat(), "date_to": "2000-01-01"})

    assert len(_listed(today_only)) == AuditEvent.objects.count()
    assert _listed(yesterday) == []
    assert reversed_range.context["page"] is None
    assert "The end date is before the start date." in reversed_range.text


def test_the_trail_is_paged_newest_first_with_a_keyset_cursor(client, compliance_officer, db):
    with transaction.atomic():
        for n in range(60):
            record_audit_event(actor=None, action="probe.recorded", metadata={"n": n})
    client.force_login(compliance_officer)

    first = client.get(reverse("audit:trail"), {"action": "probe.recorded"})
    second = client.get(reverse("audit:trail"), {"action": "probe.recorded", "before": _listed(first)[-1]})

    assert len(_listed(first)) == 50
    assert 'rel="next"' in first.text
    assert len(_listed(second)) == 10
    assert 'rel="next"' not in second.text
    assert _listed(first) + _listed(second) == sorted(_listed(first) + _listed(second), reverse=True)


@pytest.mark.parametrize("events", [5, 50])
def test_the_trail_page_queries_stay_flat(client, compliance_officer, events, django_assert_max_num_queries):
    with transaction.atomic():
        for n in range(events):
            record_audit_event(actor=None, action="probe.recorded", metadata={"n": n})
    client.force_login(compliance_officer)

    with django_assert_max_num_queries(9):
        client.get(reverse("audit:trail"))


def test_the_csv_export_is_itself_recorded_in_the_trail(client, compliance_officer, trail):
    mine, _ = trail
    with transaction.atomic():
        record_audit_event(actor=None, action="probe.recorded", target=mine, metadata={"note": "=HYPERLINK(1)"})
    client.force_login(compliance_officer)

    response = client.get(reverse("audit:export"), {"customer": "CB-AUDIT-1"})

    assert response["Content-Type"].startswith("text/csv")
    rows = _rows(response)
    assert {row["customer_id"] for row in rows} == {str(mine.pk)}
    assert any(row["metadata"].startswith("'{") or "HYPERLINK" in row["metadata"] for row in rows)
    export = AuditEvent.objects.get(action="audit_trail.exported")
    assert export.actor_id == compliance_officer.pk
    assert export.metadata["filters"]["customer"] == "CB-AUDIT-1"
    assert export.metadata["rows"] == len(rows)


def test_a_cell_a_spreadsheet_would_run_is_neutralised(client, compliance_officer, db):
    with transaction.atomic():
        record_audit_event(actor=None, action="=cmd|calc", metadata={})
    client.force_login(compliance_officer)

    rows = _rows(client.get(reverse("audit:export"), {"action": "=cmd|calc"}))

    assert [row["action"] for row in rows] == ["'=cmd|calc"]


@pytest.mark.parametrize("role", ["manager", "branch_manager"])
def test_managers_have_no_audit_trail_page_or_export(client, request, role, trail):
    client.force_login(request.getfixturevalue(role))

    assert client.get(reverse("audit:trail")).status_code == 404
    assert client.get(reverse("audit:export")).status_code == 404
    assert not AuditEvent.objects.filter(action="audit_trail.exported").exists()


def test_the_nav_links_the_audit_trail_for_compliance_only(client, compliance_officer, manager):
    client.force_login(compliance_officer)
    assert reverse("audit:trail") in client.get(reverse("customers:list")).text

    client.force_login(manager)
    assert reverse("audit:trail") not in client.get(reverse("customers:list")).text


def test_the_trail_shows_changes_and_details_as_key_value_lines_with_pii_masked(client, compliance_officer):
    from apps.core.masking import AUDIT_PII_KEYS
    from apps.customers.models import PII_FIELDS

    record_audit_event(
        actor=None,
        action="customer.updated",
        changes={"segment": ["mass", "premium"], "email": ["[redacted]", "[redacted]"]},
        metadata={"reason": "Annual review", "phone": "+447700900059", "filters": {"branch": "LON"}},
    )
    client.force_login(compliance_officer)

    body = client.get(reverse("audit:trail")).content.decode()

    assert "<dt>Segment:</dt><dd>mass → premium</dd>" in body
    assert "<dt>Reason:</dt><dd>Annual review</dd>" in body
    assert "<dt>Filters:</dt><dd>Branch: LON</dd>" in body
    assert "<dt>Phone:</dt><dd>[redacted]</dd>" in body
    assert "+447700900059" not in body
    assert "{&#x27;" not in body and "{'" not in body and "['mass'" not in body
    assert set(PII_FIELDS) <= AUDIT_PII_KEYS
