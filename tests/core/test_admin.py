"""Core admin: the audit trail is read-only and for compliance/administrators; the business
calendar is pinned through its service; every admin page of the project renders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.urls import reverse

from apps.core.business_date import business_today
from apps.core.errors import PermissionDenied
from apps.core.models import AuditEvent, BusinessCalendar
from apps.core.services import set_business_date
from tests.admin_support import admin_ready  # noqa: F401
from tests.customers.factories import CustomerFactory
from tests.identity.factories import UserFactory


@pytest.fixture
def superuser(db):  # type: ignore[no-untyped-def]
    return UserFactory(is_superuser=True, username="root")


@pytest.fixture
def event(manager):  # type: ignore[no-untyped-def]
    customer = CustomerFactory(assigned_to=manager)
    return AuditEvent.objects.get(customer_id=customer.pk, action="customer.created")


def test_the_audit_trail_has_no_add_change_or_delete_even_for_a_superuser(client, superuser, event):
    client.force_login(superuser)

    assert client.get(reverse("admin:core_auditevent_add")).status_code == 403
    page = client.get(reverse("admin:core_auditevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert client.post(reverse("admin:core_auditevent_change", args=[event.pk]), {"action": "x"}).status_code == 403
    assert client.get(reverse("admin:core_auditevent_delete", args=[event.pk])).status_code == 403
    changelist = client.get(reverse("admin:core_auditevent_changelist"))
    assert "delete_selected" not in changelist.text
    event.refresh_from_db()
    assert event.action == "customer.created"


def test_compliance_reads_the_audit_trail(client, compliance_officer, event):
    client.force_login(compliance_officer)

    response = client.get(reverse("admin:core_auditevent_changelist"), {"q": "customer.created"})

    assert response.status_code == 200
    assert event in response.context["cl"].result_list


def test_managers_do_not_see_the_audit_trail_in_the_admin(client, manager, branch_manager, event):
    for user in (manager, branch_manager):
        client.force_login(user)
        assert client.get(reverse("admin:core_auditevent_changelist")).status_code == 403
        assert client.get(reverse("admin:core_auditevent_change", args=[event.pk])).status_code == 403


def test_a_missing_audit_event_is_a_404(client, compliance_officer):
    client.force_login(compliance_officer)

    assert client.get(reverse("admin:core_auditevent_change", args=[99999999])).status_code == 404


@pytest.mark.parametrize("events", [3, 30])
def test_the_audit_changelist_queries_stay_flat(
    client, compliance_officer, manager, events, django_assert_max_num_queries
):
    for _ in range(events):
        CustomerFactory(assigned_to=manager)
    client.force_login(compliance_officer)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:core_auditevent_changelist"))

    assert len(response.context["cl"].result_list) >= events


def test_pinning_the_business_date_in_the_admin_goes_through_the_service(client, administrator):
    client.force_login(administrator)

    response = client.post(reverse("admin:core_businesscalendar_add"), {"pinned_date": "2026-03-31"})

    assert response.status_code == 302
    assert business_today() == dt.date(2026, 3, 31)
    event = AuditEvent.objects.get(action="business_date.pinned")
    assert event.actor_id == administrator.pk
    assert event.changes == {"pinned_date": [None, "2026-03-31"]}


def test_unpinning_the_business_date_returns_to_the_calendar(client, administrator):
    set_business_date(actor=administrator, pinned_date=dt.date(2026, 1, 2))
    client.force_login(administrator)

    response = client.post(reverse("admin:core_businesscalendar_change", args=[1]), {"pinned_date": ""})

    assert response.status_code == 302
    assert BusinessCalendar.objects.get(pk=1).pinned_date is None
    assert business_today() != dt.date(2026, 1, 2)
    assert AuditEvent.objects.filter(action="business_date.unpinned").count() == 1


def test_only_an_administrator_may_pin_the_business_date(manager, compliance_officer):
    for user in (manager, compliance_officer):
        with pytest.raises(PermissionDenied):
            set_business_date(actor=user, pinned_date=dt.date(2026, 1, 2))
    assert not BusinessCalendar.objects.exists()


def test_the_business_calendar_is_a_singleton_in_the_admin(client, administrator):
    set_business_date(actor=None, pinned_date=None)
    client.force_login(administrator)

    assert client.get(reverse("admin:core_businesscalendar_add")).status_code == 403


def test_every_admin_page_renders_for_an_administrator(client, administrator, manager):
    CustomerFactory(assigned_to=manager)
    client.force_login(administrator)

    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert changelist.status_code == 200, info
        add = client.get(reverse("admin:{}_{}_add".format(*info)))
        assert add.status_code in (200, 403), info


def test_a_relationship_manager_sees_only_the_admin_they_need(client, manager):
    client.force_login(manager)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    models = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert "Customer" in models
    assert {"AuditEvent", "BusinessCalendar", "User"}.isdisjoint(models)


def test_a_user_without_a_role_cannot_use_the_admin(client, db):
    client.force_login(UserFactory(roles=[], is_staff=True))

    response = client.get(reverse("admin:customers_customer_changelist"))

    assert response.status_code == 403
