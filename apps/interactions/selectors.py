"""Reads of interactions, attachments and the customer timeline, scoped to what a user may see.

Everything starts from the customer selector. Confidential interactions are readable only
by their author, the customer's primary manager and compliance officers; for everyone else
they do not exist (404, and absent from timelines and dashboards).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_noop

from apps.core.compiled import CompiledQuery, correlate
from apps.core.errors import DomainError, NotFound
from apps.core.models import AuditEvent
from apps.customers.models import Customer, IdentityDocument
from apps.customers.visibility import CustomerScope, customer_scope, visible_customers
from apps.interactions.models import Attachment, Interaction

if TYPE_CHECKING:
    from apps.identity.models import User

TIMELINE_PAGE_SIZE = 20

# System events shown on a customer's timeline, in the bank's words. Interaction events are
# left out (the interaction itself is on the timeline, and a confidential one must not leak
# through its audit event); so are PII reveals, which belong to the audit trail.
EVENT_LABELS: dict[str, str] = {
    "customer.created": gettext_noop("Customer record created"),
    "customer.updated": gettext_noop("Customer details updated"),
    "customer.reassigned": gettext_noop("Relationship manager changed"),
    "document.added": gettext_noop("Identity document added"),
    "relationship.created": gettext_noop("Relationship linked"),
    "consent.recorded": gettext_noop("Consent recorded"),
    "holding.opened": gettext_noop("Holding opened"),
    "holding.updated": gettext_noop("Holding updated"),
    "holding.matured": gettext_noop("Holding matured"),
    "holding.renewed": gettext_noop("Holding renewed"),
    "holding.closed": gettext_noop("Holding closed"),
    "task.created": gettext_noop("Task created"),
    "task.completed": gettext_noop("Task completed"),
    "task.rescheduled": gettext_noop("Task rescheduled"),
    "task.reassigned": gettext_noop("Task reassigned"),
    "alert.sent": gettext_noop("Alert sent"),
    "notification.sent": gettext_noop("Notification sent"),
}
# Later issues add alert and notification actions; they appear without a change here. The labels
# are English data (gettext_noop); the timeline template translates them on display.
EVENT_PREFIXES: dict[str, str] = {"alert.": "Alert", "notification.": "Notification", "maturity.": "Maturity alert"}

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
EVENT_RANK, INTERACTION_RANK = 0, 1


def _sees_confidential_of_everyone(user: User) -> bool:
    return bool(getattr(user, "is_compliance_officer", False))


def visible_interactions(*, user: User, scope: CustomerScope | None = None) -> QuerySet[Interaction]:
    """Interactions on customers the user may see; confidential ones only for the author,
    the customer's primary manager and compliance.

    `scope`: the user's customer_scope when the caller has already decided it (the dashboard
    filters several tables by the same one).
    """
    return readable_by(Interaction.objects.filter(_scope_of(user, scope).rows()), user=user)


def _scope_of(user: User, scope: CustomerScope | None) -> CustomerScope:
    if scope is not None and scope.user_id not in (None, getattr(user, "pk", None)):
        raise ValueError("That customer scope was decided for another user.")
    return scope or customer_scope(user=user)


def readable_by(interactions: QuerySet[Interaction], *, user: User) -> QuerySet[Interaction]:
    """The confidentiality rule, its one home: of these interactions, those the user may read.

    Confidential ones only for their author, the customer's primary manager and compliance.
    The primary manager is asked as an EXISTS on the customer, which PostgreSQL evaluates only
    for a confidential row someone else wrote (the OR stops at its first true term), so a
    read of many interactions does not join each one's customer (decision 145).
    """
    if not getattr(user, "is_authenticated", False):
        return interactions.none()
    if _sees_confidential_of_everyone(user):
        return interactions
    return interactions.filter(_readable_to(user.pk))


def _readable_to(user_id: int) -> Q:
    """readable_by's filter for a signed-in user who is not a compliance officer."""
    primary_manager = Exists(Customer.objects.filter(pk=OuterRef("customer_id"), primary_manager=user_id))
    return Q(is_confidential=False) | Q(author=user_id) | Q(primary_manager)


def interaction_for_user(*, user: User, interaction_id: Any) -> Interaction:
    try:
        return (
            visible_interactions(user=user)
            .select_related("customer", "author", "corrects")
            .prefetch_related("attachments")
            .get(pk=int(interaction_id))
        )
    except (Interaction.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such interaction.") from None


def corrections_of(*, user: User, interaction: Interaction) -> QuerySet[Interaction]:
    return (
        visible_interactions(user=user)
        .filter(corrects=interaction)
        .select_related("author")
        .order_by("occurred_at", "id")
    )


def attachment_for_user(*, user: User, attachment_id: Any) -> Attachment:
    """An attachment is visible exactly when its interaction is."""
    try:
        return (
            Attachment.objects.filter(interaction__in=visible_interactions(user=user))
            .select_related("interaction")
            .get(pk=int(attachment_id))
        )
    except (Attachment.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such attachment.") from None


@dataclass(frozen=True)
class BookIndex:
    """Where the interactions of a manager's own customers are listed (the dashboard's book dates,
    kept by triggers in apps/workspace, decision 176), as SQL with its parameters.

    `managed`: ids of customers every interaction of which `listed` holds; `listed`: (interaction
    id, its time) of those, one index range in time order. They only name candidates: each is read
    from the interactions table and must pass readable_by's filter and the scope there.
    """

    managed: RawSQL
    listed: RawSQL


@dataclass(frozen=True)
class RecentInteraction:
    """One of the dashboard's recent interactions: what it shows of the interaction, its customer
    and its author, read as values (decision 186: 31 model instances a page before)."""

    pk: int
    customer_id: int
    customer_name: str
    channel: str
    subject: str
    occurred_at: dt.datetime
    next_step: str
    author_first_name: str
    author_last_name: str
    author_username: str

    @property
    def author_name(self) -> str:
        """The author as the person_name filter names an employee: the full name as
        AbstractUser.get_full_name writes it, else the username."""
        return f"{self.author_first_name} {self.author_last_name}".strip() or self.author_username


# What the dashboard reads of each recent interaction, in RecentInteraction's order.
_RECENT_FIELDS = (
    "id",
    "customer_id",
    "customer__display_name",
    "channel",
    "subject",
    "occurred_at",
    "next_step",
    "author__first_name",
    "author__last_name",
    "author__username",
)


def recent_interactions(
    *, user: User, limit: int = 10, scope: CustomerScope | None = None, book: BookIndex | None = None
) -> list[RecentInteraction]:
    """The latest interactions across the customers the user sees (dashboard), as values.

    A manager's own book is read customer by customer (_latest_of_book), or, given the `book`
    index, its listed interactions newest first and customer by customer only those it does not
    list: its cost follows the book, not the bank, and the outer read of those ids is compiled
    once per process (_latest_of_book_read). Everyone else takes the ORM's plan over
    visible_interactions.
    """
    scope = _scope_of(user, scope)
    if scope.sees_all or scope.sees_none or scope.branch_id is not None or not user.is_authenticated:
        rows = list(_recent_shape(visible_interactions(user=user, scope=scope), limit))
    else:
        chosen = _latest_of_book(user=user, scope=scope, limit=limit, book=book)
        _, rows = _latest_of_book_read(limit).values(ids=chosen)
    return [RecentInteraction(*row) for row in rows]


def _recent_shape(interactions: QuerySet[Interaction], limit: int) -> QuerySet[Interaction, Any]:  # Any: rows
    """What the dashboard reads of each recent interaction (RecentInteraction's fields), newest
    first, at most `limit`."""
    return interactions.order_by("-occurred_at", "-id").values_list(*_RECENT_FIELDS)[:limit]


# Stands for the ids _latest_of_book chose while the outer read is compiled (no row has it).
_MARK_IDS = -45_045_047
_latest_read: dict[int, CompiledQuery[Interaction]] = {}


def _latest_of_book_read(limit: int) -> CompiledQuery[Interaction]:
    """The outer read of a manager's recent interactions, by the ids _latest_of_book chose (which
    applied readable_by's filter), as _recent_shape reads them: one text per process and limit,
    the ids spliced in at each call (building and compiling it was about 0.5 ms a dashboard)."""
    read = _latest_read.get(limit)
    if read is None:
        read = _latest_read.setdefault(
            limit,
            CompiledQuery(
                Interaction,
                # `ids` is a marker the chosen ids' SQL replaces at each run, not SQL from anyone.
                lambda ids: _recent_shape(Interaction.objects.filter(pk__in=RawSQL("%s", (ids,))), limit),  # nosec B611
                ids=_MARK_IDS,
            ),
        )
    return read


# Stand for each customer of the book and for the viewer while the per-customer read is compiled.
_MARK_CUSTOMER, _MARK_USER = -45_045_045, -45_045_046
_per_customer: dict[int, tuple[str, tuple[Any, ...]]] = {}


def _latest_of_book(*, user: User, scope: CustomerScope, limit: int, book: BookIndex | None = None) -> RawSQL:
    """Ids of the latest `limit` interactions the user may read across their own book, as SQL.

    For each customer of the book (the scope's held ids, read once), its latest `limit` readable
    interactions from the (customer, time) index, which carries what the rule reads, so no row
    is fetched from the table; the newest `limit` of those. A book of 500 costs 500 short index
    reads whether the bank has 100,000 customers or a million; walking the bank's time index
    until ten of the book's turn up costs what the bank holds beside the book, and for a quiet
    book the whole index (decision 145). Only a manager's own book comes here, never compliance:
    the rule is readable_by's filter for a user who is not compliance (_readable_to).

    Given `book` (decision 176), the customers it manages are not walked: its listed interactions
    are read newest first, each by id with the same rule and the scope, until `limit` pass; only
    the held customers it does not manage (shared, break-glass) are read customer by customer.

    The limits are written into the text, not passed as parameters: with a LIMIT parameter
    PostgreSQL never chose a generic plan for the prepared statement and planned it on every
    dashboard (about 0.7 ms of database CPU, decision 186); the text is one per limit anyway.
    """
    sql, template = _per_customer_read(limit)
    inner_params = [user.pk if value == _MARK_USER else value for value in template]
    held = scope.held_ids_sql
    if book is None:
        outer = (
            f"SELECT latest.id FROM ({held.sql}) book(id) CROSS JOIN LATERAL ({sql}) latest(occurred_at, id)"  # noqa: S608  # nosec B608 - the ORM's compiled text, values are parameters
            f" ORDER BY latest.occurred_at DESC, latest.id DESC LIMIT {int(limit)}"
        )
        return RawSQL(outer, (*held.params, *inner_params))  # noqa: S611  # nosec B611
    one_sql, one_template = _per_interaction_read()
    one_params = [user.pk if value == _MARK_USER else value for value in one_template]
    outer = (
        f"WITH held_ids(id) AS MATERIALIZED ({held.sql}), managed(id) AS MATERIALIZED ({book.managed.sql})"  # noqa: S608  # nosec B608 - compiled texts of ours, values are parameters
        " SELECT x.id FROM ("
        f"(SELECT one.occurred_at, one.id FROM ({book.listed.sql}) listed(id, moment)"
        # OFFSET 0: a read per listed row in the index's order, stopping at the limit, not a join
        # the planner could start from the interactions of every held customer.
        f" CROSS JOIN LATERAL ({one_sql} OFFSET 0) one(occurred_at, id, customer_id)"
        # The held ids as one array, read once: a filter, not a join the planner could start from.
        " WHERE one.customer_id = ANY(ARRAY(SELECT id FROM held_ids))"
        f" ORDER BY listed.moment DESC, listed.id DESC LIMIT {int(limit)})"
        " UNION ALL (SELECT latest.occurred_at, latest.id"
        # The held customers not managed: an anti-join (a set difference cost twice as much).
        " FROM (SELECT h.id FROM held_ids h WHERE NOT EXISTS (SELECT FROM managed m WHERE m.id = h.id)) book(id)"
        f" CROSS JOIN LATERAL ({sql}) latest(occurred_at, id))"
        f") x ORDER BY x.occurred_at DESC, x.id DESC LIMIT {int(limit)}"
    )
    params = (*held.params, *book.managed.params, *book.listed.params, *one_params, *inner_params)
    return RawSQL(outer, params)  # noqa: S611  # nosec B611


_MARK_INTERACTION = -45_045_048
_per_interaction: list[tuple[str, tuple[Any, ...]]] = []


def _per_interaction_read() -> tuple[str, tuple[Any, ...]]:
    """One listed interaction, if the viewer may read it (readable_by's filter for a user who is not
    compliance), with its customer: compiled once per process with marker values; the interaction
    is the listed column (correlate), the viewer a parameter."""
    if not _per_interaction:
        query = (
            Interaction.objects.filter(_readable_to(_MARK_USER), pk=_MARK_INTERACTION)
            .order_by()  # one row: no sort
            .values_list("occurred_at", "id", "customer_id")
        )
        sql, params = correlate(*query.query.sql_with_params(), marker=_MARK_INTERACTION, column="listed.id")
        if _MARK_USER not in params:
            raise RuntimeError("The compiled read no longer carries the viewer as a parameter.")
        _per_interaction.append((sql, tuple(params)))
    return _per_interaction[0]


def _per_customer_read(limit: int) -> tuple[str, tuple[Any, ...]]:
    """One customer's latest readable interactions, compiled once per process by the ORM with
    marker values; the customer is the book's column (correlate), the viewer a parameter."""
    compiled = _per_customer.get(limit)
    if compiled is None:
        query = (
            Interaction.objects.filter(_readable_to(_MARK_USER), customer_id=_MARK_CUSTOMER)
            .order_by("-occurred_at", "-id")
            .values_list("occurred_at", "id")[:limit]
        )
        sql, params = correlate(*query.query.sql_with_params(), marker=_MARK_CUSTOMER, column="book.id")
        if _MARK_USER not in params:
            raise RuntimeError("The compiled read no longer carries the viewer as a parameter.")
        compiled = _per_customer[limit] = (sql, tuple(params))
    return compiled


# --- the customer timeline -------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Position in a timeline ordered newest first by (time, rank, id)."""

    at: dt.datetime
    rank: int
    pk: int

    def encode(self) -> str:
        return f"{(self.at - _EPOCH) // _MICROSECOND}-{self.rank}-{self.pk}"

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            micros, rank, pk = (int(part) for part in value.split("-"))
            if rank not in (EVENT_RANK, INTERACTION_RANK) or pk < 0:
                raise ValueError(value)
            return cls(at=_EPOCH + dt.timedelta(microseconds=micros), rank=rank, pk=pk)
        except (ValueError, OverflowError):
            raise DomainError("That link to older entries is not valid.", field="before") from None

    def older_than(self, *, rank: int, time_field: str) -> Q:
        """Rows of the source with this rank that come after the cursor (are older)."""
        earlier = Q(**{f"{time_field}__lt": self.at})
        same_time = Q(**{time_field: self.at})
        if rank < self.rank:
            return earlier | same_time
        if rank == self.rank:
            return earlier | (same_time & Q(pk__lt=self.pk))
        return earlier


@dataclass
class TimelineEntry:
    at: dt.datetime
    rank: int
    pk: int
    interaction: Interaction | None = None
    label: str = ""
    actor_label: str = ""
    detail: str = ""
    # When it happened at the bank (a holding's opened date), when that differs from `at`, the
    # time the row was recorded (an import or the demo seed records years of history at once).
    happened_on: dt.date | None = None

    @property
    def is_interaction(self) -> bool:
        return self.interaction is not None

    @property
    def cursor(self) -> str:
        return Cursor(self.at, self.rank, self.pk).encode()


@dataclass
class TimelinePage:
    customer: Customer
    entries: list[TimelineEntry] = field(default_factory=list)
    next_cursor: str = ""


def event_label(action: str) -> str:
    if action in EVENT_LABELS:
        return EVENT_LABELS[action]
    for prefix, noun in EVENT_PREFIXES.items():
        if action.startswith(prefix):
            return f"{noun} {action.removeprefix(prefix).replace('_', ' ')}".strip()
    return action


def _timeline_actions() -> Q:
    query = Q(action__in=list(EVENT_LABELS))
    for prefix in EVENT_PREFIXES:
        query |= Q(action__startswith=prefix)
    return query


def _holdings_of(event_rows: list[AuditEvent]) -> dict[str, tuple[str, dt.date | None]]:
    """Product name and opened date of the holdings the events name (one query)."""
    from apps.accounts.models import Holding

    ids = {e.object_id for e in event_rows if e.object_type == "accounts.holding" and e.object_id.isdigit()}
    if not ids:
        return {}
    rows = Holding.objects.filter(pk__in=[int(i) for i in ids]).values_list("pk", "product__name", "opened_on")
    return {str(pk): (name or "", opened_on) for pk, name, opened_on in rows}


def _event_detail(
    event: AuditEvent, task_titles: Mapping[str, str], holdings: Mapping[str, tuple[str, dt.date | None]]
) -> str:
    """A short, PII-free description: only fields known to be safe are ever shown."""
    if event.object_type == "tasks.task":
        return task_titles.get(event.object_id, "")
    if event.object_type == "accounts.holding" and event.object_id in holdings:
        return holdings[event.object_id][0]  # the product's name, not its code
    if event.action.startswith("holding.") and isinstance(event.metadata.get("product"), str):
        return f"Product {event.metadata['product']}"
    if event.action == "document.added":
        document_type = (event.changes.get("document_type") or [None, None])[-1]
        if document_type in IdentityDocument.DocumentType.values:
            return str(IdentityDocument.DocumentType(document_type).label)
        return ""
    if event.action == "consent.recorded":
        granted = event.metadata.get("granted")
        channel, purpose = event.metadata.get("channel", ""), event.metadata.get("purpose", "")
        if isinstance(granted, bool) and isinstance(channel, str) and isinstance(purpose, str):
            return f"{purpose} by {channel}: {'granted' if granted else 'withdrawn'}"
    if event.changes and event.action.endswith(".updated"):
        return "Changed: " + ", ".join(sorted(str(name).replace("_", " ") for name in event.changes))
    return ""


def _interactions_for_timeline(*, user: User, customer: Customer) -> QuerySet[Interaction]:
    return readable_by(Interaction.objects.filter(customer=customer), user=user)


def customer_timeline(
    *, user: User, customer_id: Any, before: str = "", limit: int = TIMELINE_PAGE_SIZE
) -> TimelinePage:
    """Interactions and system events of one customer, newest first, a page at a time.

    Each source is read once (limit + 1 rows past the cursor), so the number of queries does
    not depend on how long the customer's history is.
    """
    customer = (
        visible_customers(user=user)
        .only("id", "display_name", "primary_manager_id", "branch_id")
        .filter(pk=_int_or_404(customer_id))
        .first()
    )
    if customer is None:
        raise NotFound("No such customer.")
    cursor = Cursor.decode(before) if before else None

    interactions = (
        _interactions_for_timeline(user=user, customer=customer)
        .select_related("author", "corrects")
        .annotate(is_corrected=Exists(Interaction.objects.filter(corrects=OuterRef("pk"))))
        .prefetch_related("attachments")
        .order_by("-occurred_at", "-id")
    )
    events = AuditEvent.objects.filter(_timeline_actions(), customer_id=customer.pk).order_by("-occurred_at", "-id")
    if cursor:
        interactions = interactions.filter(cursor.older_than(rank=INTERACTION_RANK, time_field="occurred_at"))
        events = events.filter(cursor.older_than(rank=EVENT_RANK, time_field="occurred_at"))
    events = events.only(
        "id", "occurred_at", "action", "actor_label", "object_type", "object_id", "metadata", "changes"
    )

    entries = [
        TimelineEntry(at=item.occurred_at, rank=INTERACTION_RANK, pk=item.pk, interaction=item)
        for item in interactions[: limit + 1]
    ]
    event_rows = list(events[: limit + 1])
    task_ids = {
        event.object_id for event in event_rows if event.object_type == "tasks.task" and event.object_id.isdigit()
    }
    task_titles: dict[str, str] = {}
    if task_ids:
        from apps.tasks.models import Task

        task_titles = {
            str(pk): title
            for pk, title in Task.objects.filter(customer=customer, pk__in=[int(i) for i in task_ids]).values_list(
                "pk", "title"
            )
        }
    holdings = _holdings_of(event_rows)
    entries += [
        TimelineEntry(
            at=event.occurred_at,
            rank=EVENT_RANK,
            pk=event.pk,
            label=event_label(event.action),
            actor_label=event.actor_label,
            detail=_event_detail(event, task_titles, holdings),
            happened_on=holdings[event.object_id][1]
            if event.action == "holding.opened" and event.object_id in holdings
            else None,
        )
        for event in event_rows
    ]
    entries.sort(key=lambda entry: (entry.at, entry.rank, entry.pk), reverse=True)
    page = TimelinePage(customer=customer, entries=entries[:limit])
    if len(entries) > limit:
        page.next_cursor = page.entries[-1].cursor
    return page


def _int_or_404(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound("No such customer.") from None
