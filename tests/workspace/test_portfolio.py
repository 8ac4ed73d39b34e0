"""Portfolio management: bulk assignment and whole-portfolio transfer, through the services."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from apps.approvals.models import ChangeRequest
from apps.approvals.services import approve_change
from apps.core.models import AuditEvent
from apps.customers.models import Customer, CustomerAssignment, CustomerUserObjectPermission
from apps.customers.services import assign_customers
from apps.identity import roles
from apps.identity.step_up import SECOND_FACTOR_SESSION_KEY
from tests.identity.factories import BranchFactory, UserFactory


def stepped_up(client, user):  # type: ignore[no-untyped-def]
    """Signed in with a second factor verified just now (the step-up tests check how)."""
    client.force_login(user)
    session = client.session
    session[SECOND_FACTOR_SESSION_KEY] = {"at": time.time(), "method": "totp"}
    session.save()
    return client


def approve_pending_transfer(*, by, action: str = "portfolio.transfer"):  # type: ignore[no-untyped-def]
    change = ChangeRequest.objects.get(action=action, status="pending")
    return approve_change(checker=by, change=change)


def bulk_customers(count: int, *, branch, manager=None, segment: str = "mass", tag: str = "") -> list[int]:  # type: ignore[no-untyped-def]
    """`count` customers in one INSERT, then one assignment call (permissions, history, audit)."""
    rows = []
    for n in range(count):
        customer = Customer(
            external_id=f"BULK{tag}{branch.code}{segment}{n:06d}",
            first_name="Bulk",
            last_name=f"Customer {n}",
            branch=branch,
            segment=segment,
        )
        customer.set_pii("email", f"bulk{n}@mail.example")
        customer.display_name = customer.compose_display_name()
        rows.append(customer)
    ids = [customer.pk for customer in Customer.objects.bulk_create(rows)]
    if manager is not None:
        assign_customers(actor=None, customer_ids=ids, manager=manager, reason="Initial book")
    return ids


def preview_and_confirm(client, url: str, data: dict):  # type: ignore[no-untyped-def, type-arg]
    """Post the form (the preview: nothing moves), then confirm what it showed."""
    preview = client.post(url, data)
    assert preview.status_code == 200, preview.content.decode()[:500]
    fingerprint = preview.context["preview"].fingerprint
    return client.post(url, {**data, "confirm": "1", "fingerprint": fingerprint})


@pytest.mark.parametrize("size", [3, 1000])
def test_a_portfolio_transfer_moves_every_customer_and_permission_in_constant_queries(
    client, administrator, manager, other_manager, branch, size, django_assert_max_num_queries
):
    ids = bulk_customers(size, branch=branch, manager=manager)
    stepped_up(client, administrator)

    data = {"from_manager": manager.pk, "to_manager": other_manager.pk, "reason": "Manager leaving the bank"}
    preview = client.post(reverse("portfolio:transfer"), data)
    fingerprint = preview.context["preview"].fingerprint

    with django_assert_max_num_queries(60):
        response = client.post(reverse("portfolio:transfer"), {**data, "confirm": "1", "fingerprint": fingerprint})

    assert response.status_code == 302
    # Four eyes: nothing has moved until a second person approves.
    assert Customer.objects.filter(pk__in=ids, primary_manager=manager).count() == size
    second = UserFactory(roles=[roles.ADMINISTRATOR], is_staff=True, username="admin.second")
    with django_assert_max_num_queries(60):
        approve_pending_transfer(by=second)
    assert Customer.objects.filter(pk__in=ids, primary_manager=other_manager).count() == size
    permissions = CustomerUserObjectPermission.objects.filter(content_object_id__in=ids)
    assert not permissions.filter(user=manager).exists()
    assert permissions.filter(user=other_manager).count() == size * 2  # view + change
    assert (
        CustomerAssignment.objects.filter(customer_id__in=ids, manager=other_manager, ended_at__isnull=True).count()
        == size
    )
    moved = AuditEvent.objects.filter(action="customer.reassigned", metadata__reason="Manager leaving the bank")
    assert moved.count() == size
    transfer = AuditEvent.objects.get(action="portfolio.transferred")
    assert transfer.actor == administrator  # the maker's change, approved by the second person
    assert transfer.metadata["customers"] == size
    assert AuditEvent.objects.get(action="change_request.approved").actor == second


def test_bulk_assign_moves_the_filtered_customers_only(client, administrator, manager, branch):
    unassigned = bulk_customers(4, branch=branch, segment="premium")
    other_segment = bulk_customers(2, branch=branch, segment="mass")
    stepped_up(client, administrator)

    response = preview_and_confirm(
        client,
        reverse("portfolio:assign"),
        {"current_manager": "unassigned", "segment": "premium", "to_manager": manager.pk, "reason": "New book"},
    )
    approve_pending_transfer(
        by=UserFactory(roles=[roles.ADMINISTRATOR], is_staff=True, username="admin.second"), action="portfolio.assign"
    )

    assert response.status_code == 302
    assert set(Customer.objects.filter(primary_manager=manager).values_list("pk", flat=True)) == set(unassigned)
    assert not Customer.objects.filter(pk__in=other_segment, primary_manager__isnull=False).exists()
    assert AuditEvent.objects.filter(action="customer.reassigned", metadata__reason="New book").count() == 4


def test_a_branch_manager_sees_and_moves_only_their_branch(client, branch_manager, manager, other_manager, branch):
    elsewhere = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=BranchFactory(), username="far.away")
    bulk_customers(2, branch=branch, manager=manager)
    stepped_up(client, branch_manager)

    page = client.get(reverse("portfolio:index"))
    refused = client.post(
        reverse("portfolio:transfer"), {"from_manager": manager.pk, "to_manager": elsewhere.pk, "reason": "x"}
    )
    done = preview_and_confirm(
        client,
        reverse("portfolio:transfer"),
        {"from_manager": manager.pk, "to_manager": other_manager.pk, "reason": "Cover"},
    )

    usernames = [m.username for m in page.context["managers"]]
    assert sorted(usernames) == sorted(["manager.a", "manager.b", "branch.boss"])
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()
    assert done.status_code == 302
    assert Customer.objects.filter(primary_manager=other_manager).count() == 0
    approve_pending_transfer(by=UserFactory(roles=[roles.BRANCH_MANAGER], branch=branch, username="deputy.boss"))
    assert Customer.objects.filter(primary_manager=other_manager).count() == 2


def test_a_transfer_without_a_recent_second_factor_is_refused(client, administrator, manager, other_manager, branch):
    bulk_customers(2, branch=branch, manager=manager)
    client.force_login(administrator)

    response = client.post(
        reverse("portfolio:transfer"), {"from_manager": manager.pk, "to_manager": other_manager.pk, "reason": "Cover"}
    )

    assert response.status_code == 302 and response["Location"].startswith(reverse("step_up"))
    assert not ChangeRequest.objects.exists()
    assert Customer.objects.filter(primary_manager=manager).count() == 2


def test_the_maker_cannot_approve_the_transfer_and_the_page_shows_it_pending(
    client, administrator, manager, other_manager, branch
):
    from apps.core.errors import PermissionDenied

    bulk_customers(2, branch=branch, manager=manager)
    preview_and_confirm(
        stepped_up(client, administrator),
        reverse("portfolio:transfer"),
        {"from_manager": manager.pk, "to_manager": other_manager.pk, "reason": "Cover"},
    )

    with pytest.raises(PermissionDenied):
        approve_pending_transfer(by=administrator)
    page = client.get(reverse("portfolio:index")).content.decode()
    assert "Waiting for a second approval" in page
    assert "Transfer the portfolio of manager.a" in page
    assert Customer.objects.filter(primary_manager=manager).count() == 2


def test_the_portfolio_page_lists_managers_with_their_counts(client, administrator, manager, branch):
    bulk_customers(3, branch=branch, manager=manager)
    client.force_login(administrator)

    page = client.get(reverse("portfolio:index"))

    counts = {m.username: m.customer_count for m in page.context["managers"]}
    assert counts["manager.a"] == 3
    assert "Transfer a portfolio" in page.content.decode()


def test_transferring_to_the_same_manager_is_a_clear_error(client, administrator, manager):
    stepped_up(client, administrator)

    response = client.post(
        reverse("portfolio:transfer"), {"from_manager": manager.pk, "to_manager": manager.pk, "reason": "x"}
    )

    assert response.status_code == 400
    assert "Choose a different manager" in response.content.decode()


@pytest.mark.parametrize("who", ["manager", "compliance_officer"])
def test_managers_and_compliance_cannot_manage_portfolios(client, who, request):
    client.force_login(request.getfixturevalue(who))

    assert client.get(reverse("portfolio:index")).status_code == 403
    assert client.post(reverse("portfolio:transfer"), {}).status_code == 403


def test_the_transfer_query_count_does_not_grow_with_the_portfolio(administrator, branch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.customers.services import transfer_portfolio

    counts = []
    for size in (1, 3, 1000):  # the first run warms per-process caches (content types)
        leaving = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=branch)
        taking_over = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=branch)
        bulk_customers(size, branch=branch, manager=leaving, tag=str(size))
        with CaptureQueriesContext(connection) as queries:
            assert transfer_portfolio(actor=administrator, from_manager=leaving, to_manager=taking_over) == size
        counts.append(len(queries))

    assert counts[1] == counts[2]


def _alert_for(customer, manager):  # type: ignore[no-untyped-def]
    import datetime as dt

    from apps.alerts.models import Alert

    return Alert.objects.create(
        customer=customer,
        rule=Alert.Rule.KYC_REVIEW,
        threshold=30,
        object_type="customers.customer",
        object_id=customer.pk,
        fires_on=dt.date(2026, 3, 1),
        due_on=dt.date(2026, 3, 20),
        reason="KYC review due soon.",
        manager=manager,
    )


@pytest.fixture
def leaving_book(manager, other_manager):  # type: ignore[no-untyped-def]
    """Two customers of `manager`, with an open task and an alert each, a done task, a colleague's task."""
    from apps.tasks.services import complete_task
    from tests.customers.factories import CustomerFactory
    from tests.tasks.factories import TaskFactory

    first = CustomerFactory(assigned_to=manager, first_name="Ada", last_name="Moving")
    second = CustomerFactory(assigned_to=manager, first_name="Bea", last_name="Moving")
    open_tasks = [TaskFactory(customer=first, title="Call Ada"), TaskFactory(customer=second, title="Call Bea")]
    done = complete_task(actor=None, task=TaskFactory(customer=first, title="Old call"), outcome="Called")
    colleague = TaskFactory(customer=first, title="Colleague's task", assignee=other_manager)
    alerts = [_alert_for(first, manager), _alert_for(second, manager)]
    return {"customers": [first, second], "tasks": open_tasks, "done": done, "colleague": colleague, "alerts": alerts}


def test_the_preview_lists_customers_open_tasks_and_alerts_and_changes_nothing(
    client, administrator, manager, other_manager, leaving_book
):
    stepped_up(client, administrator)
    events_before = AuditEvent.objects.count()

    response = client.post(
        reverse("portfolio:transfer"),
        {"from_manager": manager.pk, "to_manager": other_manager.pk, "reason": "Manager leaving"},
    )

    assert response.status_code == 200
    preview = response.context["preview"]
    assert (preview.customer_count, preview.task_count, preview.alert_count) == (2, 2, 2)
    body = response.content.decode()
    for text in ("Ada Moving", "Bea Moving", "Call Ada", "Call Bea", "KYC review due soon.", "Confirm the move"):
        assert text in body
    assert "Old call" not in body and "Colleague&#x27;s task" not in body
    assert "Nothing has changed yet" in body
    assert Customer.objects.filter(primary_manager=manager).count() == 2
    assert AuditEvent.objects.count() == events_before


def test_confirming_moves_the_customers_with_their_open_tasks_and_alerts_audited(
    client, administrator, manager, other_manager, leaving_book
):
    stepped_up(client, administrator)

    response = preview_and_confirm(
        client,
        reverse("portfolio:transfer"),
        {"from_manager": manager.pk, "to_manager": other_manager.pk, "reason": "Manager leaving"},
    )

    assert response.status_code == 302
    assert all(task.assignee == manager for task in leaving_book["tasks"])  # proposed: nothing moved yet
    approve_pending_transfer(by=UserFactory(roles=[roles.ADMINISTRATOR], is_staff=True, username="admin.second"))
    for task in leaving_book["tasks"]:
        task.refresh_from_db()
        assert task.assignee == other_manager
    leaving_book["done"].refresh_from_db()
    assert leaving_book["done"].assignee == manager  # history stays with who did it
    for alert in leaving_book["alerts"]:
        alert.refresh_from_db()
        assert alert.manager == other_manager
    assert AuditEvent.objects.filter(action="task.reassigned", actor=administrator).count() == 2
    assert AuditEvent.objects.filter(action="alert.reassigned", actor=administrator).count() == 2
    assert AuditEvent.objects.filter(action="portfolio.transferred").count() == 1


def test_a_confirm_for_a_book_that_changed_since_the_preview_moves_nothing(
    client, administrator, manager, other_manager, leaving_book
):
    from tests.customers.factories import CustomerFactory

    stepped_up(client, administrator)
    data = {"from_manager": manager.pk, "to_manager": other_manager.pk, "reason": "Manager leaving"}
    fingerprint = client.post(reverse("portfolio:transfer"), data).context["preview"].fingerprint
    CustomerFactory(assigned_to=manager, first_name="Cy", last_name="Late")

    response = client.post(reverse("portfolio:transfer"), {**data, "confirm": "1", "fingerprint": fingerprint})

    assert response.status_code == 200
    assert "changed since the preview" in response.content.decode()
    assert response.context["preview"].customer_count == 3
    assert Customer.objects.filter(primary_manager=manager).count() == 3
    assert not AuditEvent.objects.filter(action="customer.reassigned", metadata__reason="Manager leaving").exists()
    assert not ChangeRequest.objects.exists()


def test_an_approval_after_the_book_changed_moves_nothing(client, administrator, manager, other_manager, leaving_book):
    from apps.core.errors import Conflict
    from tests.customers.factories import CustomerFactory

    stepped_up(client, administrator)
    preview_and_confirm(
        client,
        reverse("portfolio:transfer"),
        {"from_manager": manager.pk, "to_manager": other_manager.pk, "reason": "Manager leaving"},
    )
    CustomerFactory(assigned_to=manager, first_name="Cy", last_name="Late")

    with pytest.raises(Conflict, match="changed since the preview"):
        approve_pending_transfer(by=UserFactory(roles=[roles.ADMINISTRATOR], is_staff=True, username="admin.second"))
    assert Customer.objects.filter(primary_manager=manager).count() == 3


def test_assign_previews_only_the_filtered_customers_then_moves_them(
    client, administrator, manager, other_manager, leaving_book
):
    stepped_up(client, administrator)
    data = {"current_manager": str(manager.pk), "to_manager": other_manager.pk, "reason": "Rebalance"}

    preview = client.post(reverse("portfolio:assign"), data)
    done = preview_and_confirm(client, reverse("portfolio:assign"), data)
    approve_pending_transfer(
        by=UserFactory(roles=[roles.ADMINISTRATOR], is_staff=True, username="admin.second"), action="portfolio.assign"
    )

    assert preview.context["preview"].task_count == 2
    assert done.status_code == 302
    assert Customer.objects.filter(primary_manager=other_manager).count() == 2
    assert {a.manager_id for a in leaving_book["alerts"][0].__class__.objects.all()} == {other_manager.pk}
