"""Four eyes: a change proposed by one person does nothing until a second, authorised person
approves it; the maker cannot approve it; it expires; both steps are audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from apps.approvals.models import ChangeRequest
from apps.approvals.selectors import changes_awaiting, pending_changes
from apps.approvals.services import approve_change, expire_changes, reject_change
from apps.core.business_date import business_today
from apps.core.errors import Conflict, DomainError, PermissionDenied
from apps.core.models import AuditEvent
from apps.identity import roles
from apps.products.four_eyes import PRODUCT_TARGET, propose_rate_change
from apps.products.models import ProductRate
from tests.identity.factories import UserFactory
from tests.products.factories import ProductFactory


@pytest.fixture
def second_administrator(db):
    return UserFactory(roles=[roles.ADMINISTRATOR], username="admin.two", is_staff=True)


@pytest.fixture
def product(db):
    return ProductFactory(code="SAVER1")


def _propose(administrator, product, rate="4.1000"):
    return propose_rate_change(
        actor=administrator,
        product=product,
        effective_from=business_today() + dt.timedelta(days=1),
        rate=Decimal(rate),
        reason="Base rate moved",
    )


def test_a_proposed_rate_change_does_nothing_before_approval(administrator, product):
    change = _propose(administrator, product)

    assert change.status == ChangeRequest.Status.PENDING
    assert not ProductRate.objects.filter(product=product).exists()
    assert pending_changes(target_type=PRODUCT_TARGET, target_id=product.pk) == [change]
    assert AuditEvent.objects.filter(action="change_request.proposed", object_id=str(change.pk)).count() == 1
    assert not AuditEvent.objects.filter(action="product_rate.added").exists()  # the dry run rolled back


def test_the_maker_cannot_approve_their_own_change(administrator, product):
    change = _propose(administrator, product)

    with pytest.raises(PermissionDenied, match="second person"):
        approve_change(checker=administrator, change=change)

    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.PENDING
    assert not ProductRate.objects.filter(product=product).exists()
    assert change not in changes_awaiting(user=administrator)


def test_the_database_refuses_an_approval_by_the_maker(administrator, product):
    change = _propose(administrator, product)
    with pytest.raises(IntegrityError), transaction.atomic():
        ChangeRequest.objects.filter(pk=change.pk).update(status="approved", checker=administrator)


def test_a_second_administrator_approves_and_the_rate_applies_audited(administrator, second_administrator, product):
    change = _propose(administrator, product)
    assert change in changes_awaiting(user=second_administrator)

    approve_change(checker=second_administrator, change=change, note="Checked against the board minute")

    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.APPROVED
    assert change.checker == second_administrator
    assert ProductRate.objects.get(product=product).rate == Decimal("4.1000")
    approved = AuditEvent.objects.get(action="change_request.approved", object_id=str(change.pk))
    assert approved.actor_id == second_administrator.pk
    assert approved.metadata["maker"] == administrator.pk
    assert AuditEvent.objects.get(action="product_rate.added").actor_id == administrator.pk
    assert pending_changes(target_type=PRODUCT_TARGET, target_id=product.pk) == []
    with pytest.raises(Conflict, match="already approved"):
        approve_change(checker=second_administrator, change=change)


def test_someone_not_authorised_for_the_action_cannot_approve(administrator, branch_manager, product):
    change = _propose(administrator, product)

    with pytest.raises(PermissionDenied, match="not authorised"):
        approve_change(checker=branch_manager, change=change)
    assert change not in changes_awaiting(user=branch_manager)
    assert not ProductRate.objects.filter(product=product).exists()


def test_a_change_the_service_would_refuse_is_refused_at_proposal(administrator, product):
    with pytest.raises(DomainError, match="between -5% and 100%"):
        _propose(administrator, product, rate="150")
    assert not ChangeRequest.objects.exists()


def test_a_change_expires_and_can_no_longer_be_approved(settings, administrator, second_administrator, product):
    settings.FINPULSE_FOUR_EYES_EXPIRY_HOURS = 1
    change = _propose(administrator, product)
    ChangeRequest.objects.filter(pk=change.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    with pytest.raises(Conflict, match="expired"):
        approve_change(checker=second_administrator, change=change)

    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.EXPIRED
    assert not ProductRate.objects.filter(product=product).exists()
    assert AuditEvent.objects.filter(action="change_request.expired", object_id=str(change.pk)).count() == 1
    assert pending_changes(target_type=PRODUCT_TARGET, target_id=product.pk) == []


def test_the_expiry_job_expires_only_what_is_due(settings, administrator, product):
    settings.FINPULSE_FOUR_EYES_EXPIRY_HOURS = 2
    due = _propose(administrator, product)
    fresh = _propose(administrator, product, rate="4.2000")

    assert expire_changes(now=timezone.now() + dt.timedelta(hours=1)) == 0
    ChangeRequest.objects.filter(pk=due.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert expire_changes() == 1

    due.refresh_from_db()
    fresh.refresh_from_db()
    assert (due.status, fresh.status) == (ChangeRequest.Status.EXPIRED, ChangeRequest.Status.PENDING)


def test_a_checker_rejects_with_a_reason_and_the_maker_may_withdraw(administrator, second_administrator, product):
    rejected = _propose(administrator, product)
    with pytest.raises(DomainError, match="why"):
        reject_change(actor=second_administrator, change=rejected)
    reject_change(actor=second_administrator, change=rejected, note="Wrong date")
    withdrawn = _propose(administrator, product, rate="4.3000")
    reject_change(actor=administrator, change=withdrawn)

    rejected.refresh_from_db()
    withdrawn.refresh_from_db()
    assert rejected.status == ChangeRequest.Status.REJECTED
    assert withdrawn.status == ChangeRequest.Status.WITHDRAWN
    assert not ProductRate.objects.filter(product=product).exists()
    assert AuditEvent.objects.filter(action__in=["change_request.rejected", "change_request.withdrawn"]).count() == 2


def test_the_product_page_shows_a_pending_rate_change(client, manager, administrator, product):
    change = _propose(administrator, product)
    client.force_login(manager)

    page = client.get(reverse("products:detail", args=[product.pk])).content.decode()

    assert "Waiting for a second approval" in page
    assert escape(change.summary) in page
