"""Saved views of the customer list, pins on the dashboard, and bulk actions on ticked rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from apps.approvals.services import approve_change
from apps.core.errors import DomainError, NotFound, PermissionDenied
from apps.core.models import AuditEvent
from apps.identity import roles
from apps.tasks.models import Task
from apps.workspace.models import SavedView
from apps.workspace.selectors import pinned_views, view_for_user, visible_views
from apps.workspace.services import create_tasks_for, delete_view, pin_view, propose_selected_assignment, save_view
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory

DUE = dt.datetime(2026, 12, 24, 17, 0, tzinfo=dt.UTC)


def test_a_saved_view_keeps_the_filters_and_is_audited(manager):
    view = save_view(
        actor=manager, name="  Private  maturing ", params={"segment": "private", "maturing": "on"}, sharing="private"
    )

    assert view.name == "Private maturing"
    assert view.params == {"segment": "private", "maturing": "on"}
    assert AuditEvent.objects.filter(action="saved_view.created", object_id=str(view.pk)).count() == 1


def test_saving_a_name_again_replaces_the_view(manager):
    first = save_view(actor=manager, name="Mine", params={"segment": "mass"}, sharing="private")

    second = save_view(actor=manager, name="Mine", params={"segment": "private"}, sharing="private")

    assert first.pk == second.pk and SavedView.objects.get().params == {"segment": "private"}


@pytest.mark.parametrize(
    ("name", "params", "sharing"),
    [
        ("", {}, "private"),
        ("x" * 81, {}, "private"),
        ("View", {}, "everyone"),
        ("View", {"is_superuser": "1"}, "private"),
        ("View", {"q": "jane@mail.example"}, "private"),  # personal data is never kept
    ],
)
def test_a_view_that_cannot_be_saved_says_why(manager, name, params, sharing):
    with pytest.raises(DomainError):
        save_view(actor=manager, name=name, params=params, sharing=sharing)
    assert not SavedView.objects.exists()


def test_compliance_may_not_save_views(compliance_officer):
    with pytest.raises(PermissionDenied):
        save_view(actor=compliance_officer, name="Audit", params={}, sharing="private")


def test_a_shared_view_is_seen_in_the_branch_and_a_private_one_only_by_its_owner(manager, other_manager):
    shared = save_view(actor=manager, name="Branch view", params={"segment": "private"}, sharing="branch")
    private = save_view(actor=manager, name="Mine", params={}, sharing="private")
    elsewhere = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=BranchFactory())

    assert set(visible_views(user=other_manager)) == {shared}
    assert set(visible_views(user=elsewhere)) == set()
    with pytest.raises(NotFound):
        view_for_user(user=other_manager, view_id=private.pk)


def test_a_colleague_pins_a_shared_view_and_only_the_owner_deletes_it(manager, other_manager):
    shared = save_view(actor=manager, name="Branch view", params={}, sharing="branch")

    pin_view(actor=other_manager, view=shared, pinned=True)

    assert pinned_views(user=other_manager) == [shared]
    assert pinned_views(user=manager) == []
    with pytest.raises(PermissionDenied):
        delete_view(actor=other_manager, view=shared)
    delete_view(actor=manager, view=shared)
    assert pinned_views(user=other_manager) == []


def test_bulk_tasks_are_created_one_per_customer_through_the_task_service(manager):
    customers = [CustomerFactory(assigned_to=manager) for _ in range(3)]

    tasks = create_tasks_for(
        actor=manager, customer_ids=[c.pk for c in customers], title="Call about rates", due_at=DUE
    )

    assert sorted(t.customer_id for t in tasks) == sorted(c.pk for c in customers)
    assert all(t.assignee_id == manager.pk for t in tasks)
    assert AuditEvent.objects.filter(action="task.created").count() == 3
    assert AuditEvent.objects.filter(action="tasks.bulk_created").count() == 1


def test_a_bulk_action_with_a_customer_outside_the_book_writes_nothing(manager, other_manager):
    mine = CustomerFactory(assigned_to=manager)
    theirs = CustomerFactory(assigned_to=UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=BranchFactory()))

    with pytest.raises(NotFound):
        create_tasks_for(actor=manager, customer_ids=[mine.pk, theirs.pk], title="Call", due_at=DUE)

    assert not Task.objects.exists()


def test_assigning_ticked_customers_goes_through_the_assignment_rule(manager, other_manager, branch_manager):
    customers = [CustomerFactory(assigned_to=manager) for _ in range(2)]
    ids = [c.pk for c in customers]

    with pytest.raises(PermissionDenied):
        # a manager may not reassign: refused at proposal by the dry run
        propose_selected_assignment(actor=manager, customer_ids=ids, manager=other_manager)
    change = propose_selected_assignment(actor=branch_manager, customer_ids=ids, manager=other_manager)
    assert not other_manager.primary_customers.exists()  # four eyes: nothing before approval
    second = UserFactory(roles=[roles.BRANCH_MANAGER], branch=branch_manager.branch, username="branch.two")
    approve_change(checker=second, change=change)

    assert set(other_manager.primary_customers.all()) == set(customers)


# --- pages ---------------------------------------------------------------------------------


def test_saving_the_current_filters_from_the_list(client, manager):
    client.force_login(manager)

    response = client.post(
        reverse("workspace:save_view"),
        {"name": "Private", "sharing": "private", "segment": "private", "maturing": "on"},
    )

    assert response.status_code == 200
    assert "Saved the view" in response.content.decode()
    view = SavedView.objects.get()
    assert view.params == {"segment": "private", "maturing": "on"}
    opened = client.get(reverse("workspace:open_view", args=[view.pk]))
    assert opened.status_code == 302 and "segment=private" in opened["Location"]


def test_a_pinned_view_is_on_the_dashboard(client, manager):
    view = save_view(actor=manager, name="My premium", params={"segment": "premium"}, sharing="private")
    client.force_login(manager)

    client.post(reverse("workspace:pin_view", args=[view.pk]), {"pinned": "on", "next": "/"})

    assert "My premium" in client.get(reverse("workspace:dashboard")).content.decode()


def test_bulk_task_creation_from_the_list(client, manager):
    customers = [CustomerFactory(assigned_to=manager) for _ in range(2)]
    client.force_login(manager)

    response = client.post(
        reverse("workspace:bulk_action"),
        {"action": "task", "customer": [c.pk for c in customers], "title": "Renewal call", "due_on": "2026-12-24"},
        follow=True,
    )

    assert "Created 2 tasks" in response.content.decode()
    assert Task.objects.filter(title="Renewal call").count() == 2


@pytest.mark.parametrize(
    "data",
    [
        {"action": "task", "customer": ["abc"], "title": "x", "due_on": "2026-12-24"},
        {"action": "task", "title": "x", "due_on": "2026-12-24"},
        {"action": "task", "customer": ["1"], "title": "", "due_on": "tomorrow"},
        {"action": "explode", "customer": ["1"]},
    ],
)
def test_bad_bulk_input_is_a_message_never_a_500(client, manager, data):
    client.force_login(manager)

    response = client.post(reverse("workspace:bulk_action"), data, follow=True)

    assert response.status_code == 200
    assert not Task.objects.exists()


def test_exporting_ticked_rows_uses_the_audited_export(client, manager):
    wanted, other = CustomerFactory(assigned_to=manager), CustomerFactory(assigned_to=manager)
    client.force_login(manager)

    response = client.post(reverse("workspace:bulk_action"), {"action": "export", "customer": [wanted.pk]}, follow=True)

    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert wanted.external_id in body and other.external_id not in body
    event = AuditEvent.objects.get(action="customer.exported")
    assert event.metadata["filters"]["customers"] == [wanted.pk]


def test_the_pinned_views_are_the_orms_own_with_and_without_a_branch(manager, other_manager):
    shared = save_view(actor=manager, name="B shared", params={}, sharing="branch")
    private = save_view(actor=manager, name="A private", params={}, sharing="private")
    theirs = save_view(actor=other_manager, name="C theirs", params={}, sharing="private")
    elsewhere = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=BranchFactory())
    far = save_view(actor=elsewhere, name="D far", params={}, sharing="branch")
    no_branch = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=None, username="manager.nobranch")
    alone = save_view(actor=no_branch, name="E alone", params={}, sharing="private")
    assert no_branch.branch_id is None  # the other statement
    for user in (manager, other_manager, elsewhere, no_branch):
        for view in (shared, private, theirs, far, alone):
            view.pinned_by.add(user)  # pinned by all, even where the rule hides it

    for user in (manager, other_manager, elsewhere, no_branch):
        expected = list(visible_views(user=user).filter(pinned_by=user).order_by("name", "pk"))
        assert pinned_views(user=user) == expected
        assert [v.params for v in pinned_views(user=user)] == [v.params for v in expected]
    assert pinned_views(user=manager) == [private, shared]
    assert pinned_views(user=other_manager) == [shared, theirs]
    assert pinned_views(user=no_branch) == [alone]
