from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from apps.core.models import AuditEvent
from apps.opportunities.models import Opportunity, Stage
from apps.opportunities.services import (
    close_opportunity,
    create_opportunity,
    move_opportunity,
    open_opportunities_for_customers,
    save_stage,
    update_opportunity,
)
from tests.customers.factories import CustomerFactory
from tests.opportunities.factories import default_stages, opportunity
from tests.products.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _create(actor, customer, **overrides):  # type: ignore[no-untyped-def]
    values = {
        "product": ProductFactory(),
        "amount": "15000.50",
        "currency": "eur",
        "expected_close": dt.date(2026, 11, 30),
        **overrides,
    }
    return create_opportunity(actor=actor, customer=customer, **values)


def test_an_opportunity_opens_in_the_first_stage_with_its_probability_and_one_audit_event(manager):
    stages = default_stages()
    customer = CustomerFactory(assigned_to=manager)

    created = _create(manager, customer, next_step="Send the offer")

    assert created.stage == stages["Prospecting"]
    assert created.probability == 10
    assert created.amount == Decimal("15000.50")
    assert created.currency == "EUR"
    assert created.owner == manager
    event = AuditEvent.objects.get(action="opportunity.created", object_id=str(created.pk))
    assert event.customer_id == customer.pk
    assert "Send the offer" not in str(event.metadata)


def test_another_managers_customer_is_not_found(manager, other_manager):
    default_stages()
    theirs = CustomerFactory(assigned_to=other_manager)

    with pytest.raises(NotFound):
        _create(manager, theirs)
    assert not Opportunity.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", "0"), ("amount", "-5"), ("amount", "1.001"), ("amount", "abc"), ("currency", "XXX")],
)
def test_bad_figures_are_refused_on_their_field(manager, field, value):
    default_stages()
    customer = CustomerFactory(assigned_to=manager)

    with pytest.raises(DomainError) as refused:
        _create(manager, customer, **{field: value})

    assert refused.value.field == field
    assert not Opportunity.objects.exists()


def test_the_owner_must_see_the_customer(manager, other_manager):
    default_stages()
    customer = CustomerFactory(assigned_to=manager)
    outsider = CustomerFactory(assigned_to=other_manager).primary_manager

    with pytest.raises(DomainError) as refused:
        _create(manager, customer, owner=outsider)

    assert refused.value.field == "owner"


def test_compliance_reads_but_cannot_open_one(compliance_officer):
    default_stages()
    with pytest.raises(PermissionDenied):
        _create(compliance_officer, CustomerFactory())


def test_a_move_takes_the_stages_probability_and_is_audited(manager):
    stages = default_stages()
    opened = opportunity(owner=manager)

    moved = move_opportunity(actor=manager, opportunity=opened, stage=stages["Proposal"])

    assert (moved.stage, moved.probability, moved.outcome) == (stages["Proposal"], 50, "open")
    event = AuditEvent.objects.get(action="opportunity.moved", object_id=str(opened.pk))
    assert event.changes["stage"] == [stages["Prospecting"].pk, stages["Proposal"].pk]


def test_moving_to_won_without_a_reason_is_refused_and_changes_nothing(manager):
    stages = default_stages()
    opened = opportunity(owner=manager)

    with pytest.raises(DomainError) as refused:
        move_opportunity(actor=manager, opportunity=opened, stage=stages["Won"])

    assert refused.value.field == "reason"
    opened.refresh_from_db()
    assert (opened.stage, opened.outcome) == (stages["Prospecting"], "open")


def test_winning_closes_with_the_reason_and_a_closed_one_cannot_move(manager):
    stages = default_stages()
    opened = opportunity(owner=manager)

    won = close_opportunity(actor=manager, opportunity=opened, won=True, reason="Best rate in town")

    assert (won.outcome, won.stage, won.probability) == ("won", stages["Won"], 100)
    assert won.closed_at is not None and won.close_reason == "Best rate in town"
    assert AuditEvent.objects.filter(action="opportunity.won", object_id=str(opened.pk)).count() == 1
    with pytest.raises(Conflict):
        move_opportunity(actor=manager, opportunity=won, stage=stages["Qualified"])
    with pytest.raises(Conflict):
        update_opportunity(actor=manager, opportunity=won, amount="1")


def test_losing_records_the_reason(manager):
    default_stages()
    lost = close_opportunity(actor=manager, opportunity=opportunity(owner=manager), won=False, reason="Went elsewhere")

    assert (lost.outcome, lost.probability, lost.close_reason) == ("lost", 0, "Went elsewhere")


def test_an_update_records_what_changed_but_not_the_next_steps_words(manager):
    default_stages()
    opened = opportunity(owner=manager)

    changed = update_opportunity(
        actor=manager, opportunity=opened, amount="30000", probability=40, next_step="Call Mrs Smith on Monday"
    )

    assert (changed.amount, changed.probability) == (Decimal("30000"), 40)
    event = AuditEvent.objects.get(action="opportunity.updated", object_id=str(opened.pk))
    assert event.changes["amount"] == ["25000.00", "30000"]
    assert "Mrs Smith" not in str(event.changes)


def test_one_source_object_opens_one_open_opportunity(manager):
    default_stages()
    customer = CustomerFactory(assigned_to=manager)
    _create(manager, customer, source="maturity", source_object="alert:1")

    with pytest.raises(Conflict):
        _create(manager, customer, source="maturity", source_object="alert:1")


def test_the_database_refuses_an_opportunity_on_both_a_customer_and_nothing(manager):
    stages = default_stages()
    with pytest.raises(IntegrityError), transaction.atomic():
        Opportunity.objects.create(
            product=ProductFactory(),
            amount=1,
            currency="GBP",
            stage=stages["Prospecting"],
            probability=10,
            expected_close=dt.date(2026, 1, 1),
            owner=manager,
        )


def test_the_bulk_action_opens_one_per_ticked_customer_with_an_event_each(manager):
    default_stages()
    mine = [CustomerFactory(assigned_to=manager) for _ in range(3)]

    created = open_opportunities_for_customers(
        actor=manager,
        customer_ids=[c.pk for c in mine],
        product=ProductFactory(),
        amount="1000",
        currency="GBP",
        expected_close=dt.date(2026, 12, 1),
    )

    assert sorted(o.customer_id for o in created) == sorted(c.pk for c in mine)
    assert {o.source for o in created} == {"customer_list"}
    assert AuditEvent.objects.filter(action="opportunity.created").count() == 3


def test_the_bulk_action_with_a_customer_outside_the_book_writes_nothing(manager, other_manager):
    default_stages()
    mine = CustomerFactory(assigned_to=manager)
    theirs = CustomerFactory(assigned_to=other_manager)

    with pytest.raises(NotFound):
        open_opportunities_for_customers(
            actor=manager,
            customer_ids=[mine.pk, theirs.pk],
            product=ProductFactory(),
            amount="1000",
            currency="GBP",
            expected_close=dt.date(2026, 12, 1),
        )

    assert not Opportunity.objects.exists()


def test_a_stage_is_won_or_lost_not_both(administrator):
    with pytest.raises(DomainError):
        save_stage(
            actor=administrator,
            stage=Stage(name="Broken", position=55, default_probability=50, is_won=True, is_lost=True),
        )
    assert not Stage.objects.filter(name="Broken").exists()


def test_a_stage_in_use_keeps_its_meaning(administrator, manager):
    stages = default_stages()
    opened = opportunity(owner=manager)
    move_opportunity(actor=manager, opportunity=opened, stage=stages["Proposal"])
    proposal = stages["Proposal"]
    proposal.is_won = True

    with pytest.raises(Conflict):
        save_stage(actor=administrator, stage=proposal)

    assert Stage.objects.get(pk=proposal.pk).is_won is False


def test_an_administrator_adds_a_stage_with_an_audit_event(administrator):
    default_stages()
    stage = save_stage(actor=administrator, stage=Stage(name="Credit check", position=35, default_probability=60))

    assert AuditEvent.objects.filter(action="opportunity_stage.created", object_id=str(stage.pk)).exists()
