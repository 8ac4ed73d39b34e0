"""The state machine: every legal move succeeds with one transition row and one audit event;
every illegal one is refused with a clear message and writes nothing."""

from __future__ import annotations

import itertools

import pytest

from apps.core.errors import Conflict
from apps.core.models import AuditEvent
from apps.leads.models import Lead, LeadTransition
from apps.leads.services import (
    approve_lead,
    assign_lead,
    convert_lead,
    flag_for_review,
    qualify_lead,
    reject_lead,
    start_qualification,
)
from apps.leads.state import TRANSITIONS, check_transition, is_legal
from tests.customers.factories import CustomerFactory
from tests.leads.factories import confident, doubtful, lead_in_state

S = Lead.State
STATES = list(S.values)
PAIRS = list(itertools.product(STATES, STATES))
EXPECTED_LEGAL = {
    (S.NEW, S.QUALIFYING),
    (S.NEW, S.REJECTED),
    (S.QUALIFYING, S.QUALIFIED),
    (S.QUALIFYING, S.NEEDS_REVIEW),
    (S.QUALIFIED, S.ASSIGNED),
    (S.QUALIFIED, S.NEEDS_REVIEW),
    (S.QUALIFIED, S.REJECTED),
    (S.NEEDS_REVIEW, S.QUALIFYING),
    (S.NEEDS_REVIEW, S.QUALIFIED),
    (S.NEEDS_REVIEW, S.ASSIGNED),
    (S.NEEDS_REVIEW, S.REJECTED),
    (S.ASSIGNED, S.CONVERTED),
    (S.ASSIGNED, S.REJECTED),
}


def test_the_table_is_the_documented_machine():
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == EXPECTED_LEGAL
    assert set(TRANSITIONS) == set(STATES)


def _drive(lead: Lead, to_state: str, *, actor, manager, customer) -> Lead:  # type: ignore[no-untyped-def]
    """Ask for the move through the service that makes it (system or a person, as in real life)."""
    if to_state == S.NEW:
        check_transition(lead.state, S.NEW)  # no service moves a lead back to new
        raise AssertionError("unreachable: nothing goes back to new")
    if to_state == S.QUALIFYING:
        return start_qualification(actor=None if lead.state == S.NEW else actor, lead=lead)
    if to_state == S.QUALIFIED:
        if lead.state == S.QUALIFYING:
            return qualify_lead(actor=None, lead=lead, extraction=confident())
        return approve_lead(actor=actor, lead=lead)
    if to_state == S.NEEDS_REVIEW:
        if lead.state == S.QUALIFYING:
            return qualify_lead(actor=None, lead=lead, extraction=doubtful())
        return flag_for_review(actor=actor, lead=lead, reason="Check the income")
    if to_state == S.ASSIGNED:
        return assign_lead(actor=actor, lead=lead, assignee=manager)
    if to_state == S.CONVERTED:
        return convert_lead(actor=actor, lead=lead, customer=customer)
    return reject_lead(actor=actor, lead=lead, reason="Off-topic")


@pytest.mark.parametrize(("from_state", "to_state"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_pair_of_states(from_state, to_state, administrator, manager, branch):
    lead = lead_in_state(from_state, branch=branch, assignee=manager, actor=administrator)
    assert lead.state == from_state
    customer = CustomerFactory(branch=branch, assigned_to=manager)
    events_before = AuditEvent.objects.count()
    lead_events_before = AuditEvent.objects.filter(object_type="leads.lead", object_id=str(lead.pk)).count()
    moves_before = LeadTransition.objects.filter(lead=lead).count()

    if (from_state, to_state) in EXPECTED_LEGAL:
        assert is_legal(from_state, to_state)
        moved = _drive(lead, to_state, actor=administrator, manager=manager, customer=customer)
        assert moved.state == to_state
        lead.refresh_from_db()
        assert lead.state == to_state
        new_moves = LeadTransition.objects.filter(lead=lead).order_by("id")[moves_before:]
        assert [(m.from_state, m.to_state) for m in new_moves] == [(from_state, to_state)]
        lead_events = AuditEvent.objects.filter(object_type="leads.lead", object_id=str(lead.pk)).order_by("id")
        assert lead_events.count() == lead_events_before + 1
        assert lead_events.last().changes["state"] == [from_state, to_state]
    else:
        assert not is_legal(from_state, to_state)
        with pytest.raises(Conflict) as refused:
            _drive(lead, to_state, actor=administrator, manager=manager, customer=customer)
        assert str(refused.value)  # a message a person can act on
        lead.refresh_from_db()
        assert lead.state == from_state
        assert LeadTransition.objects.filter(lead=lead).count() == moves_before
        assert AuditEvent.objects.count() == events_before


def test_an_illegal_move_names_both_states_and_the_way_out():
    with pytest.raises(Conflict, match=r"cannot go from 'Converted' to 'Assigned'\. That is a final state\."):
        check_transition(S.CONVERTED, S.ASSIGNED)
    with pytest.raises(Conflict, match="From there it can go to: Qualifying, Rejected"):
        check_transition(S.NEW, S.QUALIFIED)
