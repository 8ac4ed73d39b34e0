"""Meeting admin (administrators only): rows from the calendar's visibility selector, read-only."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from apps.agenda.models import Meeting
from tests.admin_support import admin_is_closed_to, admin_ready  # noqa: F401
from tests.agenda.support import a_meeting, tomorrow_at
from tests.customers.factories import CustomerFactory

CHANGELIST = "admin:agenda_meeting_changelist"


def change_url(meeting: Meeting) -> str:
    return reverse("admin:agenda_meeting_change", args=[meeting.pk])


def test_an_administrator_reads_meetings_in_the_admin(client, administrator, manager):
    meeting = a_meeting(manager, CustomerFactory(assigned_to=manager), title="Mortgage renewal")
    client.force_login(administrator)

    changelist = client.get(reverse(CHANGELIST), {"q": "Mortgage"})
    page = client.get(change_url(meeting))

    assert [row.pk for row in changelist.context["cl"].result_list] == [meeting.pk]
    assert page.status_code == 200
    assert "Mortgage renewal" in page.text and "Head office, room 4" in page.text
    assert 'name="_save"' not in page.text


def test_the_meeting_admin_rows_follow_the_selector_behind_the_gate_too(rf, manager, other_manager):
    # Only administrators pass the admin gate; the rows stay scoped anyway (defence in depth).
    mine = a_meeting(manager, CustomerFactory(assigned_to=manager))
    a_meeting(other_manager, CustomerFactory(assigned_to=other_manager))
    request = rf.get("/admin/agenda/meeting/")
    request.user = manager

    rows = admin.site._registry[Meeting].get_queryset(request)

    assert [row.pk for row in rows] == [mine.pk]


def test_meetings_are_not_added_changed_or_deleted_in_the_admin(client, administrator, manager):
    meeting = a_meeting(manager, CustomerFactory(assigned_to=manager))
    client.force_login(administrator)

    assert client.get(reverse("admin:agenda_meeting_add")).status_code == 403
    assert client.post(change_url(meeting), {"title": "Renamed"}).status_code == 403
    assert client.get(reverse("admin:agenda_meeting_delete", args=[meeting.pk])).status_code == 403
    assert "delete_selected" not in client.get(reverse(CHANGELIST)).text
    meeting.refresh_from_db()
    assert meeting.title == "Deposit review"


def test_a_missing_meeting_is_a_404(client, administrator):
    client.force_login(administrator)

    assert client.get(reverse("admin:agenda_meeting_change", args=[999999])).status_code == 404


@pytest.mark.parametrize("role", ["manager", "branch_manager", "compliance_officer"])
def test_managers_and_compliance_see_meetings_in_the_app_not_the_admin(client, request, role, manager):
    meeting = a_meeting(manager, CustomerFactory(assigned_to=manager))
    user = request.getfixturevalue(role)

    assert admin_is_closed_to(client, user, reverse(CHANGELIST))
    assert admin_is_closed_to(client, user, change_url(meeting))


@pytest.mark.parametrize("meetings", [2, 20])
def test_the_meeting_changelist_queries_stay_flat(
    client, administrator, manager, meetings, django_assert_max_num_queries, cache_queries
):
    customer = CustomerFactory(assigned_to=manager)
    for n in range(meetings):
        a_meeting(manager, customer, starts_at=tomorrow_at(8 + n % 10, n), ends_at=tomorrow_at(19, 30))
    client.force_login(administrator)

    with django_assert_max_num_queries(12 + cache_queries):
        response = client.get(reverse(CHANGELIST))

    assert len(response.context["cl"].result_list) == meetings
