"""Who sees which lead: a manager sees theirs and the unassigned ones of their branch."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.leads.models import Lead
from apps.leads.selectors import inbox, inbox_counts, new_leads_for, time_in_states, visible_leads
from apps.leads.services import record_first_contact
from apps.leads.state import OPEN_STATES
from tests.identity.factories import BranchFactory
from tests.leads.factories import lead_in_state

S = Lead.State


@pytest.fixture
def spread(branch, manager, other_manager):  # type: ignore[no-untyped-def]
    other_branch = BranchFactory()
    return {
        "mine": lead_in_state(S.ASSIGNED, branch=branch, assignee=manager),
        "colleagues": lead_in_state(S.ASSIGNED, branch=branch, assignee=other_manager),
        "pool": lead_in_state(S.QUALIFIED, branch=branch),
        "review": lead_in_state(S.NEEDS_REVIEW, branch=branch),
        "other_branch": lead_in_state(S.QUALIFIED, branch=other_branch),
        "no_branch": lead_in_state(S.QUALIFIED, branch=None),
    }


def _ids(queryset) -> set[int]:  # type: ignore[no-untyped-def]
    return set(queryset.values_list("pk", flat=True))


def test_a_manager_sees_only_leads_assigned_to_them_or_unassigned_in_their_branch(spread, manager):
    assert _ids(visible_leads(user=manager)) == {spread["mine"].pk, spread["pool"].pk, spread["review"].pk}


def test_a_branch_manager_sees_the_branch(spread, branch_manager):
    expected = {spread[name].pk for name in ("mine", "colleagues", "pool", "review")}
    assert _ids(visible_leads(user=branch_manager)) == expected


def test_compliance_and_administrators_see_every_lead(spread, compliance_officer, administrator):
    everything = {lead.pk for lead in spread.values()}
    assert _ids(visible_leads(user=compliance_officer)) == everything
    assert _ids(visible_leads(user=administrator)) == everything


def test_an_inactive_or_roleless_user_sees_none(spread, manager, django_user_model):
    manager.is_active = False
    assert not visible_leads(user=manager).exists()
    assert not visible_leads(user=django_user_model.objects.create(username="nobody")).exists()


def test_inbox_filters_by_state_intent_and_overdue(spread, manager):
    assert _ids(inbox(user=manager, state=S.NEEDS_REVIEW)) == {spread["review"].pk}
    assert _ids(inbox(user=manager, intent="mortgage")) == set()
    later = timezone.now() + timezone.timedelta(days=2)
    assert _ids(inbox(user=manager, overdue=True, now=later)) == {
        spread["mine"].pk,
        spread["pool"].pk,
        spread["review"].pk,
    }
    record_first_contact(actor=manager, lead=spread["mine"])
    assert spread["mine"].pk not in _ids(inbox(user=manager, overdue=True, now=later))
    assert inbox_counts(user=manager, now=later) == {"open": 3, "to_contact": 2, "overdue": 2}


def test_new_leads_for_the_dashboard_are_the_users_own_waiting_ones(spread, manager):
    assert [lead.pk for lead in new_leads_for(user=manager, limit=2)] == [spread["review"].pk, spread["pool"].pk]


def test_time_in_each_state_is_known(branch, manager):
    lead = lead_in_state(S.ASSIGNED, branch=branch, assignee=manager)
    spent = time_in_states(lead=lead)
    assert set(spent) == {"new", "qualifying", "qualified", "assigned"}


@pytest.mark.parametrize("size", [3, 30])
def test_inbox_queries_stay_flat(size, branch, manager, client, django_assert_max_num_queries):
    for _ in range(size):
        lead_in_state(S.ASSIGNED, branch=branch, assignee=manager)
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        response = client.get("/leads/")
    assert response.status_code == 200


@pytest.mark.parametrize("limit", [1, 2, 10])
def test_new_leads_compiled_once_are_the_orms_own_for_every_shape_of_the_rule(
    spread, limit, manager, branch_manager, compliance_officer, django_user_model
):
    """new_leads_for runs a statement compiled once per shape of the rule (decision 149); for each
    viewer it gives what visible_leads gives through the ORM, in the same order."""
    from apps.identity import roles
    from tests.identity.factories import UserFactory

    branchless = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=None, username="manager.nobranch")
    lead_in_state(S.ASSIGNED, branch=None, assignee=branchless)
    roleless = django_user_model.objects.create(username="nobody")
    for viewer in (manager, branch_manager, compliance_officer, branchless, roleless):
        orm = (
            visible_leads(user=viewer)
            .filter(state__in=OPEN_STATES, first_contacted_at__isnull=True)
            .order_by("-received_at", "-id")[:limit]
        )
        shown = new_leads_for(user=viewer, limit=limit)
        assert [(lead.pk, lead.state, lead.received_at) for lead in shown] == [
            (lead.pk, lead.state, lead.received_at) for lead in orm
        ], viewer.username
    assert new_leads_for(user=compliance_officer, limit=10)  # the shapes are not all empty
    assert new_leads_for(user=branchless, limit=10)
