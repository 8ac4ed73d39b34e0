"""Break-glass: a manager opens a customer outside their book for a stated reason, once a second
person approves; the grant opens only that customer, only for its time, through the one
visibility rule, and notifies the customer's manager and compliance."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.approvals.services import approve_change
from apps.break_glass.services import request_break_glass
from apps.core.errors import DomainError, NotFound, PermissionDenied
from apps.core.models import AuditEvent
from apps.customers.models import BreakGlassGrant
from apps.customers.visibility import customer_for_user, users_who_see, visible_customers
from apps.identity import roles
from apps.notifications.models import Notification
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory

REASON = "Customer is at my counter; their manager is on leave"


@pytest.fixture
def elsewhere(db):
    """Another branch: its manager, its branch manager, and two of its customers."""
    branch = BranchFactory()
    owner = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=branch, username="owner.rm")
    return {
        "owner": owner,
        "boss": UserFactory(roles=[roles.BRANCH_MANAGER], branch=branch, username="owner.bm"),
        "customer": CustomerFactory(assigned_to=owner, branch=branch, external_id="BG-0001"),
        "neighbour": CustomerFactory(assigned_to=owner, branch=branch, external_id="BG-0002"),
    }


def _granted(manager, elsewhere, settings, hours=2):
    settings.FINPULSE_BREAK_GLASS_HOURS = hours
    change = request_break_glass(actor=manager, external_id="BG-0001", reason=REASON)
    approve_change(checker=elsewhere["boss"], change=change)
    return change


def test_nothing_opens_before_approval(manager, elsewhere):
    request_break_glass(actor=manager, external_id="BG-0001", reason=REASON)

    with pytest.raises(NotFound):
        customer_for_user(user=manager, customer_id=elsewhere["customer"].pk)
    assert not BreakGlassGrant.objects.exists()
    assert AuditEvent.objects.filter(action="change_request.proposed", customer_id=elsewhere["customer"].pk).exists()


def test_the_requester_cannot_approve_their_own_break_glass(manager, elsewhere):
    change = request_break_glass(actor=manager, external_id="BG-0001", reason=REASON)

    with pytest.raises(PermissionDenied):
        approve_change(checker=manager, change=change)
    assert not visible_customers(user=manager).filter(pk=elsewhere["customer"].pk).exists()


def test_a_branch_manager_of_another_branch_cannot_approve(manager, branch_manager, elsewhere):
    change = request_break_glass(actor=manager, external_id="BG-0001", reason=REASON)

    with pytest.raises(PermissionDenied, match="not authorised"):
        approve_change(checker=branch_manager, change=change)


def test_an_approved_grant_opens_only_that_customer_and_notifies(
    settings, client, manager, compliance_officer, elsewhere
):
    _granted(manager, elsewhere, settings)

    assert customer_for_user(user=manager, customer_id=elsewhere["customer"].pk) == elsewhere["customer"]
    with pytest.raises(NotFound):
        customer_for_user(user=manager, customer_id=elsewhere["neighbour"].pk)
    assert manager in users_who_see(customer=elsewhere["customer"])
    client.force_login(manager)
    assert client.get(reverse("customers:detail", args=[elsewhere["customer"].pk])).status_code == 200
    assert client.get(reverse("customers:detail", args=[elsewhere["neighbour"].pk])).status_code == 404

    told = set(
        Notification.objects.filter(kind="break_glass", channel="in_app").values_list("recipient_user", flat=True)
    )
    assert {elsewhere["owner"].pk, compliance_officer.pk, manager.pk} <= told
    assert (
        REASON in Notification.objects.filter(recipient_user=compliance_officer).get(channel="in_app").payload["body"]
    )
    granted = AuditEvent.objects.get(action="customer.break_glass_granted")
    assert granted.customer_id == elsewhere["customer"].pk
    assert granted.actor_id == elsewhere["boss"].pk
    assert granted.metadata["user"] == manager.pk


def test_the_grant_expires_by_itself(settings, client, manager, elsewhere):
    _granted(manager, elsewhere, settings, hours=2)
    grant = BreakGlassGrant.objects.get()
    assert grant.expires_at - grant.starts_at == dt.timedelta(hours=2)

    # Two hours later (the clock moved past the grant's end): outside the book again.
    BreakGlassGrant.objects.filter(pk=grant.pk).update(
        starts_at=timezone.now() - dt.timedelta(hours=2, minutes=1),
        expires_at=timezone.now() - dt.timedelta(minutes=1),
    )

    with pytest.raises(NotFound):
        customer_for_user(user=manager, customer_id=elsewhere["customer"].pk)
    assert manager not in users_who_see(customer=elsewhere["customer"])
    client.force_login(manager)
    assert client.get(reverse("customers:detail", args=[elsewhere["customer"].pk])).status_code == 404


def test_a_customer_already_in_the_book_or_unknown_is_refused(manager):
    mine = CustomerFactory(assigned_to=manager, external_id="MINE-1")

    with pytest.raises(DomainError, match="already in your book"):
        request_break_glass(actor=manager, external_id=mine.external_id, reason=REASON)
    with pytest.raises(DomainError, match="No customer"):
        request_break_glass(actor=manager, external_id="NOPE-404", reason=REASON)


def test_compliance_cannot_ask_for_break_glass(compliance_officer, elsewhere):
    with pytest.raises(PermissionDenied):
        request_break_glass(actor=compliance_officer, external_id="BG-0001", reason=REASON)


def test_the_page_sends_a_request_and_lists_it(client, manager, elsewhere):
    client.force_login(manager)

    response = client.post(reverse("break_glass:request"), {"external_id": "BG-0001", "reason": REASON})

    assert response.status_code == 302
    page = client.get(reverse("break_glass:request")).content.decode()
    assert "Waiting for approval" in page
    assert f"customer #{elsewhere['customer'].pk}" in page
    refused = client.post(reverse("break_glass:request"), {"external_id": "BG-0001", "reason": "short"})
    assert refused.status_code == 400


def test_the_customer_page_shows_a_pending_break_glass_request(client, manager, elsewhere):
    change = request_break_glass(actor=manager, external_id="BG-0001", reason=REASON)
    client.force_login(elsewhere["owner"])

    page = client.get(reverse("customers:detail", args=[elsewhere["customer"].pk])).content.decode()

    assert "Waiting for a second approval" in page
    assert change.summary in page
    assert REASON not in page  # the reason goes to approvers and, once granted, to the manager's bell
