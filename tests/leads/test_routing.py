"""Routing: specialists by intent, then the branch's managers, by open-lead load; the advisor is notified."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from apps.core.errors import DomainError, PermissionDenied
from apps.identity import roles
from apps.leads.models import Lead
from apps.leads.services import assign_lead, process_lead
from apps.notifications.models import Notification
from tests.identity.factories import BranchFactory, UserFactory
from tests.leads.factories import lead_in_state, new_lead

S = Lead.State


def _rm(branch, **kwargs):  # type: ignore[no-untyped-def]
    return UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=branch, **kwargs)


def test_a_qualified_lead_goes_to_the_intents_specialist_in_its_branch(branch, settings):
    group = Group.objects.create(name="Mortgage specialists")
    generalist = _rm(branch)
    specialist = _rm(branch)
    specialist.groups.add(group)
    settings.FINPULSE_LEAD_SPECIALISTS = {"mortgage": "Mortgage specialists"}
    lead = lead_in_state(S.QUALIFIED, branch=branch)
    Lead.objects.filter(pk=lead.pk).update(intent="mortgage")
    lead = assign_lead(actor=None, lead=lead)
    assert lead.assignee_id == specialist.pk != generalist.pk


def test_specialists_can_be_listed_by_username(branch, settings):
    _rm(branch, username="aaa")
    _rm(branch, username="zed.cards")
    settings.FINPULSE_LEAD_SPECIALISTS = {"personal_loan": ["zed.cards"]}
    lead = assign_lead(actor=None, lead=lead_in_state(S.QUALIFIED, branch=branch))
    assert lead.assignee.username == "zed.cards"


def test_without_specialists_the_least_loaded_manager_of_the_branch_gets_it(branch):
    busy, free = _rm(branch), _rm(branch)
    lead_in_state(S.ASSIGNED, branch=branch, assignee=busy)
    elsewhere = _rm(BranchFactory())
    lead = assign_lead(actor=None, lead=lead_in_state(S.QUALIFIED, branch=branch))
    assert lead.assignee_id == free.pk
    assert lead.assignee_id != elsewhere.pk


def test_a_central_specialist_takes_what_the_branch_cannot(settings, db):
    empty_branch = BranchFactory()
    central = _rm(BranchFactory(), username="central.loans")
    settings.FINPULSE_LEAD_SPECIALISTS = {"personal_loan": ["central.loans"]}
    lead = assign_lead(actor=None, lead=lead_in_state(S.QUALIFIED, branch=empty_branch))
    assert lead.assignee_id == central.pk


def test_with_nobody_to_route_to_the_lead_stays_qualified_in_the_branch_pool(db):
    lead = new_lead(branch=BranchFactory(), text="Personal loan of £5,000 for a kitchen, income £3,000 a month.")
    process_lead(lead_id=lead.pk)
    lead.refresh_from_db()
    assert lead.state == S.QUALIFIED and lead.assignee is None
    with pytest.raises(DomainError, match="No advisor"):
        assign_lead(actor=None, lead=lead)


def test_the_worker_routes_a_qualified_lead_and_the_advisor_is_notified(branch, manager):
    lead = new_lead(branch=branch, text="Personal loan of £5,000 for a kitchen, income £3,000 a month.")
    process_lead(lead_id=lead.pk)
    lead.refresh_from_db()
    assert lead.state == S.ASSIGNED and lead.assignee_id == manager.pk
    notes = Notification.objects.filter(recipient_user=manager, kind="lead_assigned")
    # A new lead has a first-contact target: in-app and email by default (users may change it).
    assert sorted(n.channel for n in notes) == ["email", "in_app"]
    for note in notes:
        assert note.url == lead.get_absolute_url()
        assert "@" not in note.subject + note.body  # no contact details in notifications


def test_a_manager_may_take_an_unassigned_lead_but_not_give_it_to_a_colleague(branch, manager, other_manager):
    lead = lead_in_state(S.QUALIFIED, branch=branch)
    with pytest.raises(PermissionDenied):
        assign_lead(actor=manager, lead=lead, assignee=other_manager)
    assert assign_lead(actor=manager, lead=lead, assignee=manager).assignee_id == manager.pk


def test_a_branch_manager_assigns_within_the_branch_only(branch, branch_manager):
    lead = lead_in_state(S.QUALIFIED, branch=branch)
    outsider = _rm(BranchFactory())
    with pytest.raises(DomainError):
        assign_lead(actor=branch_manager, lead=lead, assignee=outsider)
    local = _rm(branch)
    assert assign_lead(actor=branch_manager, lead=lead, assignee=local).assignee_id == local.pk
