"""Meetings with customers and each user's private calendar feed.

A meeting belongs to one customer and is visible to whoever may see that customer (the one
visibility rule); it appears on the calendars of its organiser and attendees. Its invitation
(iCalendar, RFC 5545) goes out through the notification outbox; `uid` and `sequence` let
calendar clients recognise a rescheduled or cancelled meeting as the same one.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from apps.core.text_limits import DESCRIPTION_MAX_LENGTH, bounded_text, text_length_check


def new_uid() -> str:
    return f"{uuid.uuid4()}@finpulse"


class Meeting(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"
        # Logged as having happened: an interaction on the customer's timeline records it.
        HELD = "held", "Held"

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="meetings")
    organiser = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="organised_meetings")
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="meetings")
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True, help_text="A place: branch, office, address.")
    video_url = models.URLField(max_length=500, blank=True, help_text="A video call link (https).")
    agenda = bounded_text(DESCRIPTION_MAX_LENGTH, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    # The customer is sent the invitation too, at the address on file (decrypted at send time
    # by the outbox, never stored with the message), with their consent to service notices.
    customer_invited = models.BooleanField(default=False)
    # RFC 5545: the same UID for the life of the meeting; SEQUENCE grows with each change sent.
    uid = models.CharField(max_length=100, unique=True, default=new_uid, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    interaction = models.OneToOneField(
        "interactions.Interaction", null=True, blank=True, on_delete=models.PROTECT, related_name="meeting"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="meeting_ends_after_start"),
            models.CheckConstraint(condition=~Q(title=""), name="meeting_has_title"),
            models.CheckConstraint(condition=~Q(location="") | ~Q(video_url=""), name="meeting_has_place_or_video"),
            models.CheckConstraint(
                condition=Q(video_url="") | Q(video_url__startswith="https://"), name="meeting_video_https"
            ),
            models.CheckConstraint(
                condition=~Q(status="held") | Q(interaction__isnull=False), name="meeting_held_has_interaction"
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False), name="meeting_cancelled_at"
            ),
            text_length_check("agenda", DESCRIPTION_MAX_LENGTH, name="meeting_agenda_length"),
        ]
        indexes = [
            models.Index(fields=["organiser", "starts_at"], name="meeting_organiser_time_idx"),
            models.Index(fields=["customer", "-starts_at"], name="meeting_customer_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d %H:%M})"

    def get_absolute_url(self) -> str:
        return reverse("calendar:meeting", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.SCHEDULED


class CalendarFeed(models.Model):
    """A user's private iCalendar feed URL: `/calendar/feed/<token>.ics`.

    Only the SHA-256 of the token is stored (as API keys are: 256 random bits need no
    stretching); the token is shown once. Rotating revokes the old row and issues a new one;
    the rows stay so that past reads remain attributable.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="calendar_feed_one_active_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"Calendar feed of user {self.user_id} ({'revoked' if self.revoked_at else 'active'})"
