"""The audit trail as compliance reads it: search, a page at a time, and an audited CSV export.

Who may read it: compliance officers and administrators (`core.view_audit_trail` and one of
those roles); anyone else gets a 404, as for any object they may not see. The trail holds
events of every customer and of the bank's configuration, so it is not filtered per book.
Pages are keyset-paginated on the id (newest first), so page 1,000 costs what page 1 does on
a table that only grows. Changes and metadata are shown as recorded: PII was masked when the
event was written (apps.core.audit).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.audit import record_audit_event
from apps.core.csv_export import Echo, escape_cell
from apps.core.errors import NotFound
from apps.core.models import AuditEvent
from apps.customers.models import Customer

if TYPE_CHECKING:
    from apps.identity.models import User

AUDIT_PAGE_SIZE = 50
# Events that record someone looking at a customer (not changing it): "who looked at this customer".
READ_ACTIONS = ("customer.viewed", "pii.revealed")
EXPORT_CHUNK_SIZE = 2000
EXPORT_COLUMNS = (
    "id",
    "occurred_at",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "customer_id",
    "request_id",
    "changes",
    "metadata",
)


@dataclass(frozen=True)
class AuditQuery:
    """What compliance searches for; empty fields do not filter."""

    customer: str = ""  # a customer id or the core banking external id
    actor: str = ""  # a username (exact, any case), or "system"
    action: str = ""  # exact ("customer.exported"), or a prefix ending in "." ("customer.")
    looked: bool = False  # only reads of a customer: who looked at them (READ_ACTIONS)
    date_from: dt.date | None = None
    date_to: dt.date | None = None  # inclusive


@dataclass
class AuditPage:
    events: list[AuditEvent]
    next_before: int | None  # the id to pass as `before` for the next page, None on the last


def can_read_audit_trail(*, user: User) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_compliance_officer or user.is_administrator)
        and user.has_perm("core.view_audit_trail")
    )


def _ensure_reader(user: User) -> None:
    if not can_read_audit_trail(user=user):
        raise NotFound("No such page.")


def _customer_ids(term: str) -> list[int]:
    term = term.strip()
    ids = list(Customer.objects.filter(external_id=term).values_list("pk", flat=True))
    if term.isdigit():
        ids.append(int(term))
    return ids


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_events(*, user: User, query: AuditQuery) -> QuerySet[AuditEvent]:
    """Events matching the search, newest first (readers only; anyone else: NotFound)."""
    _ensure_reader(user)
    events = AuditEvent.objects.all()
    if query.customer:
        events = events.filter(customer_id__in=_customer_ids(query.customer))
    if query.actor:
        events = events.filter(actor_label__iexact=query.actor.strip())
    if query.action:
        action = query.action.strip()
        events = events.filter(action__startswith=action) if action.endswith(".") else events.filter(action=action)
    if query.looked:
        events = events.filter(action__in=READ_ACTIONS)
    if query.date_from:
        events = events.filter(occurred_at__gte=_day_start(query.date_from))
    if query.date_to:
        events = events.filter(occurred_at__lt=_day_start(query.date_to + dt.timedelta(days=1)))
    return events.order_by("-id")


def audit_page(*, user: User, query: AuditQuery, before: int | None = None) -> AuditPage:
    events = audit_events(user=user, query=query)
    if before is not None:
        events = events.filter(Q(id__lt=before))
    rows = list(events[: AUDIT_PAGE_SIZE + 1])
    has_more = len(rows) > AUDIT_PAGE_SIZE
    rows = rows[:AUDIT_PAGE_SIZE]
    return AuditPage(events=rows, next_before=rows[-1].pk if has_more else None)


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, ensure_ascii=False)
    elif isinstance(value, dt.datetime):
        value = value.isoformat()
    return escape_cell(value)


@transaction.atomic
def record_audit_export(*, actor: User, query: AuditQuery, rows: int) -> AuditEvent:
    """An export of the trail is itself in the trail: who, which search, how many rows."""
    _ensure_reader(actor)
    filters = {
        key: (value.isoformat() if isinstance(value, dt.date) else value) for key, value in asdict(query).items()
    }
    return record_audit_event(actor=actor, action="audit_trail.exported", metadata={"filters": filters, "rows": rows})


def prepare_audit_export(*, user: User, query: AuditQuery) -> Iterator[str]:
    """Record the export, then return the CSV lines to stream (header first)."""
    events = audit_events(user=user, query=query)
    record_audit_export(actor=user, query=query, rows=events.count())
    return _csv_lines(events.only(*EXPORT_COLUMNS).iterator(chunk_size=EXPORT_CHUNK_SIZE))


def _csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield "\ufeff" + writer.writerow(EXPORT_COLUMNS)
    for event in events:
        yield writer.writerow([_cell(getattr(event, name)) for name in EXPORT_COLUMNS])
