"""Core admin: the audit trail is read-only and for administrators (compliance reads it on its
own page, tests/core/test_audit_trail.py); the business
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
from tests.admin_support import admin_is_closed_to, admin_ready  # noqa: F401
from tests.customers.factories import CustomerFactory
from tests.identity.factories import UserFactory


@pytest.fixture
def superuser(db):  # type: ignore[no-untyped-def]
    return UserFactory(is_superuser=True, is_staff=True, username="root")


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


def test_an_administrator_reads_the_audit_trail_in_the_admin(client, administrator, event):
    client.force_login(administrator)

    response = client.get(reverse("admin:core_auditevent_changelist"), {"q": "customer.created"})

    assert response.status_code == 200
    assert event in response.context["cl"].result_list


@pytest.mark.parametrize("role", ["manager", "branch_manager", "compliance_officer"])
def test_managers_and_compliance_are_kept_out_of_the_admin(client, role, event, request):
    user = request.getfixturevalue(role)
    for url in (
        reverse("admin:index"),
        reverse("admin:core_auditevent_changelist"),
        reverse("admin:core_auditevent_change", args=[event.pk]),
        reverse("admin:customers_customer_changelist"),
    ):
        assert admin_is_closed_to(client, user, url), (role, url)


def test_a_stale_staff_flag_does_not_open_the_admin_to_a_manager(client, manager, event):
    manager.is_staff = True  # set by hand, or left over from before decisions.md 37
    manager.save(update_fields=["is_staff"])

    assert admin_is_closed_to(client, manager, reverse("admin:customers_customer_changelist"))


def test_a_missing_audit_event_is_a_404(client, administrator):
    client.force_login(administrator)

    assert client.get(reverse("admin:core_auditevent_change", args=[99999999])).status_code == 404


@pytest.mark.parametrize("events", [3, 30])
def test_the_audit_changelist_queries_stay_flat(client, administrator, manager, events, django_assert_max_num_queries):
    for _ in range(events):
        CustomerFactory(assigned_to=manager)
    client.force_login(administrator)

    with django_assert_max_num_queries(13):  # the admin gate reads the user's roles once
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


# What the admin never adds by hand: records that only a service, a scan or an import writes.
WRITTEN_ONLY_BY_THE_SYSTEM = {
    ("agenda", "meeting"),  # scheduled on the calendar pages by its organiser, invitations sent
    ("alerts", "alert"),
    ("axes", "accessattempt"),  # django-axes' sign-in records
    ("axes", "accessfailurelog"),
    ("axes", "accesslog"),
    ("core", "auditevent"),
    ("customers", "customerassignment"),
    ("leads", "lead"),
    ("notifications", "failednotification"),
    ("notifications", "notification"),
    ("notifications", "notificationpreference"),
    ("opportunities", "opportunity"),  # opened from the board, a customer, an alert or advice
    ("recommendations", "recommendation"),
    ("recommendations", "recommendationfeedback"),
}


def test_every_admin_page_renders_for_an_administrator(client, administrator, manager):
    CustomerFactory(assigned_to=manager)
    client.force_login(administrator)

    registered = {(model._meta.app_label, model._meta.model_name) for model in admin.site._registry}
    assert registered >= WRITTEN_ONLY_BY_THE_SYSTEM
    for info in sorted(registered):
        changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert changelist.status_code == 200, info
        add = client.get(reverse("admin:{}_{}_add".format(*info)))
        assert add.status_code == (403 if info in WRITTEN_ONLY_BY_THE_SYSTEM else 200), info


def test_a_user_without_a_role_cannot_use_the_admin(client, db):
    user = UserFactory(roles=[], is_staff=True)

    assert admin_is_closed_to(client, user, reverse("admin:customers_customer_changelist"))
