from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.notifications.models import Channel, Kind, Notification, NotificationPreference
from apps.notifications.selectors import chosen_channels, unread_count, unread_notifications
from apps.notifications.services import build_user_notifications, enqueue_notifications

pytestmark = pytest.mark.django_db


def _in_app(user, n: int = 1) -> list[Notification]:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        rows = []
        for i in range(n):
            rows += build_user_notifications(
                user_id=user.pk,
                channels_on=[Channel.IN_APP],
                kind=Kind.MATURITY,
                obj=f"accounts.holding:{i}",
                threshold=7,
                on="2026-03-02",
                subject=f"Deposit {i} matures",
                body="Offer a renewal.",
                url="/customers/1/",
            )
        return enqueue_notifications(rows)


def test_the_bell_counts_only_my_unread_notifications(client, manager, other_manager):
    mine = _in_app(manager, 3)
    _in_app(other_manager, 2)
    client.force_login(manager)
    client.post(reverse("notifications:read", args=[mine[0].pk]))

    response = client.get(reverse("notifications:bell"))

    assert response.status_code == 200
    assert response.context["count"] == 2
    assert unread_count(user=manager) == 2
    assert [n.pk for n in unread_notifications(user=manager)] == [mine[2].pk, mine[1].pk]


def test_another_users_notification_is_a_404(client, manager, other_manager):
    theirs = _in_app(other_manager)[0]
    client.force_login(manager)

    assert client.post(reverse("notifications:read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_opens_the_customer_page(client, manager):
    note = _in_app(manager)[0]
    client.force_login(manager)

    response = client.post(reverse("notifications:read", args=[note.pk]))

    assert response.status_code == 302
    assert response["Location"] == "/customers/1/"


def test_mark_all_read_empties_the_bell(client, manager):
    _in_app(manager, 4)
    client.force_login(manager)

    client.post(reverse("notifications:read_all"))

    assert unread_count(user=manager) == 0


@pytest.mark.parametrize("size", [3, 30])
def test_the_list_and_bell_queries_stay_flat(client, manager, size, django_assert_max_num_queries):
    _in_app(manager, size)
    client.force_login(manager)

    with django_assert_max_num_queries(12):
        assert client.get(reverse("notifications:list")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("notifications:bell")).status_code == 200


def test_a_user_chooses_channels_per_kind_of_alert(client, manager):
    client.force_login(manager)

    response = client.post(reverse("notifications:preferences"), {"maturity:sms": "on", "maturity:in_app": "on"})

    assert response.status_code == 302
    chosen = chosen_channels(user_ids=[manager.pk], kinds=[Kind.MATURITY, Kind.KYC_REVIEW])
    assert chosen[(manager.pk, Kind.MATURITY)] == {"sms", "in_app"}
    assert chosen[(manager.pk, Kind.KYC_REVIEW)] == set()  # every box unticked
    assert NotificationPreference.objects.filter(user=manager, enabled=True).count() == 2
    assert AuditEvent.objects.filter(action="notification_preferences.changed").count() == 1
    assert client.get(reverse("notifications:preferences")).status_code == 200


def test_failed_notifications_show_up_for_administrators(client, administrator, manager):
    note = _in_app(manager)[0]
    Notification.objects.filter(pk=note.pk).update(status=Notification.Status.FAILED, last_error="SMTP down")
    client.force_login(administrator)

    response = client.get(reverse("admin:notifications_failednotification_changelist"))

    assert response.status_code == 200
    assert "SMTP down" in response.content.decode()


def test_managers_do_not_see_the_outbox_in_admin(client, manager):
    client.force_login(manager)

    response = client.get(reverse("admin:notifications_notification_changelist"))

    assert response.status_code in (302, 403)


def test_the_unread_list_is_the_orms_own_for_each_user_and_length(manager, other_manager):
    from apps.notifications.selectors import user_notifications

    mine = _in_app(manager, 4)
    _in_app(other_manager, 2)
    Notification.objects.filter(pk=mine[1].pk).update(read_at=mine[1].created_at)
    Notification.objects.filter(pk=mine[3].pk).update(channel=Channel.EMAIL)

    for user in (manager, other_manager):
        for limit in (1, 5, 10):
            expected = list(user_notifications(user=user).filter(read_at__isnull=True)[:limit])
            got = unread_notifications(user=user, limit=limit)
            assert [(n.pk, n.subject, n.payload, n.created_at) for n in got] == [
                (n.pk, n.subject, n.payload, n.created_at) for n in expected
            ]
    assert [n.pk for n in unread_notifications(user=manager)] == [mine[2].pk, mine[0].pk]
