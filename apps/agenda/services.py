"""Every write to the calendar: meetings and their invitations, logging them, feed tokens.

Rules enforced here:
- a meeting is with one customer the organiser may see, ahead of time, with a place or an
  https video link, ending after it starts (and within MAX_DURATION); its attendees are
  managers who may open the customer, so an invitation never names a customer to someone
  outside its book;
- invitations (iTIP METHOD:REQUEST) go to the organiser and every attendee through the
  notification outbox, in the same transaction; a change bumps SEQUENCE and sends REQUEST
  again (CANCEL to anyone taken off), a cancellation sends METHOD:CANCEL to everyone;
- the customer is sent the invitation only when the organiser asks, at the address on file,
  which the outbox decrypts at send time (never stored with the message, never audited) and
  only with the customer's consent to service notices by email;
- only the organiser changes or cancels a meeting; the organiser or an attendee logs it once it
  has started, which records an interaction (apps.interactions' service) linked to it;
- free text (title, agenda, notes) may hold personal data: the audit trail records that it
  changed, never what it says;
- a feed token is shown once and stored hashed; a user issues, rotates and revokes their own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.agenda import ics
from apps.agenda.models import CalendarFeed, Meeting
from apps.agenda.selectors import meeting_attendee_choices
from apps.core.audit import record_audit_event
from apps.core.errors import Conflict, DomainError, PermissionDenied, raise_as_domain_error
from apps.customers.book import OUTSIDE_BOOK
from apps.customers.models import Customer
from apps.customers.visibility import ensure_can_edit, users_who_see
from apps.interactions.models import Interaction
from apps.interactions.services import log_interaction
from apps.notifications.models import Channel, Kind
from apps.notifications.services import (
    build_customer_notifications,
    build_user_notifications,
    enqueue_notifications,
)

if TYPE_CHECKING:
    from apps.identity.models import User

MAX_DURATION = dt.timedelta(hours=12)
# Clocks drift: a meeting "starting now" typed a minute late is still ahead.
PAST_TOLERANCE = dt.timedelta(minutes=5)
PLACE_FIELDS = ("starts_at", "ends_at", "location", "video_url")
TEXT_FIELDS = ("title", "agenda")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _validate(meeting: Meeting) -> None:
    if not meeting.location and not meeting.video_url:
        raise DomainError("Give a place or a video call link.", field="location")
    if meeting.video_url and not meeting.video_url.lower().startswith("https://"):
        raise DomainError("A video call link must start with https://.", field="video_url")
    if meeting.starts_at and meeting.ends_at:
        if meeting.ends_at <= meeting.starts_at:
            raise DomainError("The meeting must end after it starts.", field="ends_at")
        if meeting.ends_at - meeting.starts_at > MAX_DURATION:
            hours = int(MAX_DURATION.total_seconds() // 3600)
            raise DomainError(f"A meeting lasts at most {hours} hours.", field="ends_at")
    try:
        meeting.full_clean(exclude=["customer", "organiser", "interaction", "uid"])
    except ValidationError as error:
        raise_as_domain_error(error)


def _ahead(starts_at: dt.datetime) -> None:
    if starts_at < timezone.now() - PAST_TOLERANCE:
        raise DomainError(
            "A meeting is scheduled ahead of time; to record one that happened, log an interaction.",
            field="starts_at",
        )


def _check_attendees(*, customer: Customer, attendees: Iterable[User], organiser: User) -> list[User]:
    chosen = {person.pk: person for person in attendees if person.pk != organiser.pk}
    if not chosen:
        return []
    allowed = set(meeting_attendee_choices(customer=customer).filter(pk__in=chosen).values_list("pk", flat=True))
    refused = [person for pk, person in chosen.items() if pk not in allowed]
    if refused:
        raise DomainError(
            "These people cannot open this customer, so they cannot be invited: "
            + ", ".join(person.get_full_name() or person.get_username() for person in refused)
            + ".",
            field="attendees",
        )
    return sorted(chosen.values(), key=lambda person: person.pk)


def _require_organiser(actor: User, meeting: Meeting) -> None:
    ensure_can_edit(actor)
    if meeting.organiser_id != getattr(actor, "pk", None):
        raise PermissionDenied("Only the meeting's organiser can change or cancel it.")


def _invite(meeting: Meeting, *, method: str, recipients: Sequence[User], everyone: Sequence[User]) -> None:
    """One outbox email per recipient, its .ics attached; the dedupe key carries the SEQUENCE,
    so a retried request never sends the same version twice."""
    if not recipients:
        return
    sees = set(
        users_who_see(customer=meeting.customer).filter(pk__in=[p.pk for p in recipients]).values_list("pk", flat=True)
    )
    path = reverse("calendar:meeting", args=[meeting.pk])
    link = settings.FINPULSE_SITE_URL.rstrip("/") + path
    when = timezone.localtime(meeting.starts_at)
    verb = "Cancelled" if method == ics.CANCEL else ("Updated" if meeting.sequence else "Invitation")
    subject = f"{verb}: {meeting.title} ({when:%d %b %Y %H:%M})"
    rows = []
    for person in recipients:
        if not person.email:
            continue
        label = meeting.customer.display_name if person.pk in sees else OUTSIDE_BOOK
        document = ics.invitation(meeting, method=method, customer_label=label, link=link, attendees=everyone)
        body = (
            f"{verb}: {meeting.title}\n"
            f"When: {when:%A %d %B %Y, %H:%M}-{timezone.localtime(meeting.ends_at):%H:%M} ({when.tzname()})\n"
            f"Where: {meeting.location or meeting.video_url}\n"
            f"Customer: {label}\n\n"
            "The calendar invitation is attached."
        )
        rows += build_user_notifications(
            user_id=person.pk,
            channels_on={Channel.EMAIL},
            kind=Kind.MEETING_INVITATION,
            obj=f"agenda.meeting:{meeting.pk}",
            threshold=f"{method.lower()}-{meeting.sequence}",
            on=when.date(),
            subject=subject,
            body=body,
            url=link,
            extra={"path": path, "ics": document, "ics_method": method},
        )
    enqueue_notifications(rows)


def _invite_customer(meeting: Meeting, *, method: str, everyone: Sequence[User]) -> None:
    """The customer's copy: to their address on file, which the outbox decrypts at send time
    (the address is never written with the message) and only with their recorded consent to
    service notices by email, outside quiet hours. It lists the bank's people (organiser and
    attendees) and carries no link into FinPulse."""
    when = timezone.localtime(meeting.starts_at)
    verb = "Cancelled" if method == ics.CANCEL else ("Updated" if meeting.sequence else "Invitation")
    document = ics.invitation(
        meeting, method=method, customer_label=meeting.customer.display_name, link="", attendees=everyone
    )
    organiser = meeting.organiser.get_full_name() or meeting.organiser.get_username()
    body = (
        f"{verb}: {meeting.title}\n"
        f"When: {when:%A %d %B %Y, %H:%M}-{timezone.localtime(meeting.ends_at):%H:%M} ({when.tzname()})\n"
        f"Where: {meeting.location or meeting.video_url}\n"
        f"With: {organiser}\n\n"
        "The calendar invitation is attached."
    )
    enqueue_notifications(
        build_customer_notifications(
            customer_id=meeting.customer_id,
            channels_on={Channel.EMAIL},
            kind=Kind.MEETING_INVITATION,
            obj=f"agenda.meeting:{meeting.pk}",
            threshold=f"{method.lower()}-{meeting.sequence}",
            on=when.date(),
            subject=f"{verb}: {meeting.title} ({when:%d %b %Y %H:%M})",
            body=body,
            extra={"ics": document, "ics_method": method},
        )
    )


def _customer_reachable(customer: Customer) -> None:
    # The blind index says whether an address is on file without decrypting it.
    if not customer.email_index:
        raise DomainError("This customer has no email address on file.", field="invite_customer")


def _people(meeting: Meeting) -> list[User]:
    """Organiser first, then the attendees: everyone the invitation lists."""
    return [meeting.organiser, *sorted(meeting.attendees.all(), key=lambda person: person.pk)]


@transaction.atomic
def schedule_meeting(
    *,
    actor: User,
    customer: Customer,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    location: str = "",
    video_url: str = "",
    agenda: str = "",
    attendees: Iterable[User] = (),
    invite_customer: bool = False,
) -> Meeting:
    """Schedule a meeting with a customer (the caller found it through the visibility selector)
    and send its invitation to the organiser and every attendee, and to the customer if asked."""
    ensure_can_edit(actor)
    if getattr(actor, "pk", None) is None:
        raise DomainError("A meeting is always organised by a person.")
    meeting = Meeting(
        customer=customer,
        organiser=actor,
        title=(title or "").strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        location=(location or "").strip(),
        video_url=(video_url or "").strip(),
        agenda=(agenda or "").strip(),
        customer_invited=bool(invite_customer),
    )
    _validate(meeting)
    _ahead(starts_at)
    invited = _check_attendees(customer=customer, attendees=attendees, organiser=actor)
    if meeting.customer_invited:
        _customer_reachable(customer)
    meeting.save()
    meeting.attendees.set(invited)
    everyone = [actor, *invited]
    _invite(meeting, method=ics.REQUEST, recipients=everyone, everyone=everyone)
    if meeting.customer_invited:
        _invite_customer(meeting, method=ics.REQUEST, everyone=everyone)
    record_audit_event(
        actor=actor,
        action="meeting.scheduled",
        target=meeting,
        customer_id=customer.pk,
        metadata={
            "starts_at": meeting.starts_at.isoformat(),
            "ends_at": meeting.ends_at.isoformat(),
            "attendees": [person.pk for person in invited],
            "video": bool(meeting.video_url),
            "customer_invited": meeting.customer_invited,
        },
    )
    return meeting


def _locked(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().select_related("customer", "organiser").get(pk=meeting.pk)


@transaction.atomic
def reschedule_meeting(
    *,
    actor: User,
    meeting: Meeting,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    location: str = "",
    video_url: str = "",
    agenda: str = "",
    attendees: Iterable[User] | None = None,
    invite_customer: bool | None = None,
) -> Meeting:
    """Change a scheduled meeting: SEQUENCE grows and everyone gets the new version (REQUEST);
    anyone taken off the list gets a CANCEL."""
    _require_organiser(actor, meeting)
    meeting = _locked(meeting)
    if meeting.status != Meeting.Status.SCHEDULED:
        raise Conflict(f"This meeting is {meeting.get_status_display().lower()}; it cannot be changed.")
    before_people = _people(meeting)
    before = {name: getattr(meeting, name) for name in (*PLACE_FIELDS, *TEXT_FIELDS)}
    meeting.title = (title or "").strip()
    meeting.starts_at, meeting.ends_at = starts_at, ends_at
    meeting.location, meeting.video_url = (location or "").strip(), (video_url or "").strip()
    meeting.agenda = (agenda or "").strip()
    _validate(meeting)
    if starts_at != before["starts_at"]:
        _ahead(starts_at)
    invited = (
        before_people[1:]
        if attendees is None
        else _check_attendees(customer=meeting.customer, attendees=attendees, organiser=actor)
    )
    was_invited = meeting.customer_invited
    if invite_customer is not None:
        meeting.customer_invited = bool(invite_customer)
    if meeting.customer_invited and not was_invited:
        _customer_reachable(meeting.customer)
    changed = [name for name in before if getattr(meeting, name) != before[name]]
    if meeting.customer_invited != was_invited:
        changed.append("customer_invited")
    removed = [person for person in before_people[1:] if person.pk not in {p.pk for p in invited}]
    added = [person for person in invited if person.pk not in {p.pk for p in before_people}]
    if not changed and not removed and not added:
        return meeting
    meeting.sequence += 1
    meeting.save()
    meeting.attendees.set(invited)
    everyone = [meeting.organiser, *invited]
    _invite(meeting, method=ics.REQUEST, recipients=everyone, everyone=everyone)
    _invite(meeting, method=ics.CANCEL, recipients=removed, everyone=removed)
    if meeting.customer_invited:
        _invite_customer(meeting, method=ics.REQUEST, everyone=everyone)
    elif was_invited:
        _invite_customer(meeting, method=ics.CANCEL, everyone=everyone)
    record_audit_event(
        actor=actor,
        action="meeting.rescheduled",
        target=meeting,
        customer_id=meeting.customer_id,
        changes={
            name: [str(before[name]), str(getattr(meeting, name))]
            for name in changed
            if name in ("starts_at", "ends_at")
        },
        metadata={
            "sequence": meeting.sequence,
            "changed": changed,
            "added": [person.pk for person in added],
            "removed": [person.pk for person in removed],
        },
    )
    return meeting


@transaction.atomic
def cancel_meeting(*, actor: User, meeting: Meeting) -> Meeting:
    """Cancel a scheduled meeting: everyone on it gets METHOD:CANCEL with the next SEQUENCE."""
    _require_organiser(actor, meeting)
    meeting = _locked(meeting)
    if meeting.status != Meeting.Status.SCHEDULED:
        raise Conflict(f"This meeting is already {meeting.get_status_display().lower()}.")
    meeting.status = Meeting.Status.CANCELLED
    meeting.cancelled_at = timezone.now()
    meeting.sequence += 1
    meeting.save(update_fields=["status", "cancelled_at", "sequence", "updated_at"])
    everyone = _people(meeting)
    _invite(meeting, method=ics.CANCEL, recipients=everyone, everyone=everyone)
    if meeting.customer_invited:
        _invite_customer(meeting, method=ics.CANCEL, everyone=everyone)
    record_audit_event(
        actor=actor,
        action="meeting.cancelled",
        target=meeting,
        customer_id=meeting.customer_id,
        metadata={"sequence": meeting.sequence, "starts_at": meeting.starts_at.isoformat()},
    )
    return meeting


@transaction.atomic
def log_meeting(*, actor: User, meeting: Meeting, notes: str, outcome: str = "", next_step: str = "") -> Interaction:
    """ "It happened": the organiser or an attendee records the meeting, once it has started, as an
    interaction on the customer's timeline (apps.interactions' service), linked to the meeting."""
    ensure_can_edit(actor)
    meeting = _locked(meeting)
    on_it = meeting.organiser_id == actor.pk or meeting.attendees.filter(pk=actor.pk).exists()
    if not on_it:
        raise PermissionDenied("Only the organiser or an attendee can log this meeting.")
    if meeting.status != Meeting.Status.SCHEDULED:
        raise Conflict(f"This meeting is {meeting.get_status_display().lower()}; it cannot be logged.")
    if meeting.starts_at > timezone.now():
        raise DomainError("A meeting can be logged once it has started.")
    interaction = log_interaction(
        actor=actor,
        customer=meeting.customer,
        channel=Interaction.Channel.MEETING,
        occurred_at=meeting.starts_at,
        subject=meeting.title,
        body=notes,
        outcome=outcome,
        next_step=next_step,
    )
    meeting.interaction = interaction
    meeting.status = Meeting.Status.HELD
    meeting.save(update_fields=["interaction", "status", "updated_at"])
    record_audit_event(
        actor=actor,
        action="meeting.logged",
        target=meeting,
        customer_id=meeting.customer_id,
        metadata={"interaction": interaction.pk},
    )
    return interaction


def _own(actor: User, user: User) -> None:
    if getattr(actor, "pk", None) is None or actor.pk != user.pk:
        raise PermissionDenied("A calendar feed is managed by its owner only.")


@transaction.atomic
def issue_calendar_feed(*, actor: User, user: User) -> tuple[CalendarFeed, str]:
    """A new private feed URL token for `user` (shown once); any previous one stops working."""
    _own(actor, user)
    now = timezone.now()
    rotated = CalendarFeed.objects.filter(user_id=user.pk, revoked_at__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(user=user, token_hash=hash_token(token))
    record_audit_event(actor=actor, action="calendar_feed.rotated" if rotated else "calendar_feed.issued", target=feed)
    return feed, token


@transaction.atomic
def revoke_calendar_feed(*, actor: User, user: User) -> int:
    """Stop the user's feed URL at once; the row stays for the record."""
    _own(actor, user)
    revoked = CalendarFeed.objects.filter(user_id=user.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if not revoked:
        raise Conflict("There is no calendar feed to revoke.")
    record_audit_event(actor=actor, action="calendar_feed.revoked", target=user)
    return revoked


@transaction.atomic
def record_feed_read(*, feed: CalendarFeed, meetings: int, tasks: int) -> None:
    """A feed read is a read of customer names by a calendar client: audited as the 360 page is."""
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    metadata: dict[str, Any] = {"meetings": meetings, "tasks": tasks}
    record_audit_event(actor=feed.user, action="calendar_feed.read", target=feed, metadata=metadata)
