"""The bell's contents are kept per user until a notification service changes them (decision 157)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.identity.models import User
from apps.notifications.bell import bell_contents
from apps.notifications.models import Channel, Kind, Notification
from apps.notifications.services import build_user_notifications, enqueue_notifications

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _redis(redis_url):  # type: ignore[no-untyped-def]
    """The bell is kept only with Redis (a database cache read would be a query too)."""


def _notify(user, subject: str, channels=(Channel.IN_APP,)) -> list[Notification]:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        return enqueue_notifications(
            build_user_notifications(
                user_id=user.pk,
                channels_on=channels,
                kind=Kind.MATURITY,
                obj=f"accounts.holding:{subject}",
                threshold=7,
                on="2026-03-02",
                subject=subject,
                body="Offer a renewal.",
                url="/customers/1/",
            )
        )


def _bell(client) -> tuple[str, bool]:  # type: ignore[no-untyped-def]
    """The bell's HTML, and whether serving it read the notifications table."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("notifications:bell"))
    assert response.status_code == 200
    asked = any("notifications_notification" in query["sql"] for query in queries.captured_queries)
    return response.content.decode(), asked


def test_the_bell_stops_asking_until_a_notification_arrives_or_is_read(client, manager):
    _notify(manager, "Deposit A matures")
    client.force_login(manager)

    first, asked_first = _bell(client)
    second, asked_second = _bell(client)
    assert (asked_first, asked_second) == (True, False)
    for shown in (first, second):
        assert "Deposit A matures" in shown and "Notifications: 1 unread" in shown

    arrived = _notify(manager, "Deposit B matures")[0]  # shown at once
    shown, asked = _bell(client)
    assert asked and "Deposit B matures" in shown and "Notifications: 2 unread" in shown

    client.post(reverse("notifications:read", args=[arrived.pk]), HTTP_HX_REQUEST="true")
    shown, _ = _bell(client)
    assert "Deposit B matures" not in shown and "Notifications: 1 unread" in shown

    client.post(reverse("notifications:read_all"))
    shown, _ = _bell(client)
    assert "Notifications: 0 unread" in shown and "Nothing unread." in shown
    assert not _bell(client)[1]


def test_one_users_bell_is_never_anothers(client, manager, other_manager):
    _notify(manager, "Mine")
    _notify(other_manager, "Theirs")
    client.force_login(manager)
    _bell(client)
    client.force_login(other_manager)
    _bell(client)

    _notify(other_manager, "Theirs again")  # changes only the other manager's bell
    client.force_login(manager)
    mine, asked = _bell(client)

    assert not asked
    assert "Mine" in mine and "Theirs" not in mine
    client.force_login(other_manager)
    theirs, _ = _bell(client)
    assert "Theirs again" in theirs and "Mine" not in theirs


def test_email_only_notifications_leave_the_bell_kept(client, manager):
    client.force_login(manager)
    _bell(client)

    _notify(manager, "By email", channels=(Channel.EMAIL,))

    assert not _bell(client)[1]


def test_an_evicted_version_is_never_matched_by_an_older_entry(manager):
    _notify(manager, "Kept")
    assert bell_contents(user=manager)["count"] == 1
    # A write the services did not see (as if the entry outlived its version in an eviction).
    Notification.objects.filter(recipient_user=manager).update(read_at=dt.datetime.now(dt.UTC))
    cache.delete(f"bell:version:{manager.pk}")

    assert bell_contents(user=manager) == {"count": 0, "latest": []}


def test_an_entry_never_outlives_its_user_into_another_with_the_same_id(manager):
    _notify(manager, "The first user's")
    assert bell_contents(user=manager)["count"] == 1
    # A rebuilt database gives the id to someone else, who joined at another instant.
    Notification.objects.filter(recipient_user=manager).delete()
    User.objects.filter(pk=manager.pk).update(date_joined=manager.date_joined + dt.timedelta(seconds=1))
    manager.refresh_from_db()

    assert bell_contents(user=manager) == {"count": 0, "latest": []}


def test_more_unread_than_the_bell_lists_are_counted(manager):
    for n in range(7):
        _notify(manager, f"Deposit {n} matures")

    contents = bell_contents(user=manager)

    assert contents["count"] == 7
    assert [row["subject"] for row in contents["latest"]] == [f"Deposit {n} matures" for n in (6, 5, 4, 3, 2)]


def test_an_empty_bell_speaks_the_viewers_language(client, manager, settings):
    client.force_login(manager)
    english, _ = _bell(client)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    italian, _ = _bell(client)

    assert "Nothing unread." in english
    assert "Nessuna notifica da leggere." in italian and "Nothing unread." not in italian
    assert 'hx-get="/notifications/bell/"' in italian
