"""The manager's day: what is due, what is about to mature or expire, what was said lately.

Every list starts from what the user may see, is capped at SECTION_LIMIT rows and costs one
query, so the page costs the same for a manager with 50 customers and a compliance officer
who sees a million. Who sees which customer is decided once per page (customer_scope: the
same rule as visible_customers, in the form that is cheap to put on five tables) and every
section filters by that one scope. Each row says why it is there: the rule (in the bank's
words and as its code) and the date that put it there.

Interactions, notifications and leads come from their own apps' selectors.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from django.contrib.auth import get_user_model
from django.core.signals import setting_changed
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext

from apps.accounts.models import Holding, HoldingParty
from apps.core.business_date import business_today
from apps.core.compiled import CompiledQuery
from apps.core.errors import NotFound
from apps.core.presentation import choice_labels
from apps.core.windows import (
    DOCUMENT_EXPIRED_LOOKBACK_DAYS,
    document_expiry_days,
    documents_expiring_within,
    kyc_review_days,
    kyc_review_due_by,
    maturing_days,
    maturing_within,
)
from apps.customers.models import Customer, IdentityDocument
from apps.customers.visibility import CustomerScope, customer_scope
from apps.interactions.selectors import BookIndex, RecentInteraction, recent_interactions
from apps.leads.models import Lead
from apps.leads.selectors import new_leads_for
from apps.notifications.models import Notification
from apps.notifications.selectors import unread_notifications
from apps.tasks.models import Task
from apps.workspace.customer_360 import Money
from apps.workspace.customer_list import kyc_review_due
from apps.workspace.models import BookDate, SavedView

if TYPE_CHECKING:
    from apps.identity.models import User

SECTION_LIMIT = 10  # a day's list to act on; each section links to the full list
RECENT_INTERACTIONS = 10


@dataclass(frozen=True)
class WorkItem:
    """One line of the day: which customer, what, why (rule and date)."""

    customer_id: int
    customer_name: str
    title: str
    rule: str
    rule_code: str
    date: dt.date | dt.datetime
    date_label: str
    is_overdue: bool = False
    amount: Money | None = None


@dataclass
class Section:
    title: str
    items: list[WorkItem]
    has_more: bool = False


@dataclass
class MyDay:
    today: dt.date
    tasks: Section
    maturing_holdings: Section
    expiring_documents: Section
    kyc_reviews: Section
    recent_interactions: list[RecentInteraction]
    unread_notifications: list[Notification]
    new_leads: list[Lead]


def _capped(rows: list[Any]) -> tuple[list[Any], bool]:
    return rows[:SECTION_LIMIT], len(rows) > SECTION_LIMIT


def _day_bounds(today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    return start, start + dt.timedelta(days=1)


# --- the four work sections: one statement, one round trip --------------------------------
#
# Each section is a SELECT of the same columns; my_day sends the four as one UNION ALL (one
# round trip instead of four, and no ORM query to build and compile per section: measured, that
# was four fifths of a section's web CPU). Who sees which customer is still decided by
# customer_scope: its id subquery is compiled by the ORM (CustomerScope.row_ids; a manager's own
# customers are the text compiled once per process, decision 114), put once at the head of the
# statement as the CTE `visible`, and every section filters by it; the KYC section is the ORM's
# own query over scope.customers() with the list's rule (kyc_review_due), wrapped. Each section's
# rows come back in its order (sorted again here, as a UNION ALL does not promise to keep it).
#
# The shape is chosen by EXPLAIN (ANALYZE, BUFFERS) on 100,000 customers (decision 127).
# PostgreSQL expects a manager's book to be a handful of rows (see CustomerScope.assigned_ids),
# so left to itself it walks every section from each of the manager's 500 customers: 13,000
# buffer reads for 43 rows. Here the user's own due tasks are read first from their index
# (MATERIALIZED: the planner may not turn them back into a walk over the book) and matched to
# the book by hash; a customer's name is joined to the at most SECTION_LIMIT + 1 rows kept, not
# to every row looked at. Maturing holdings: a manager's book checks each of its holdings in an
# index of the holdings that mature (decision 147: what the book holds, not what the bank has
# maturing), a branch matches the bank's maturing holdings to its parties by hash, and someone
# who sees every customer has no `visible` and reads maturities in date order up to the cap.

_COLUMNS = "section, customer_id, customer_name, a, b, c, d, day, moment, amount, n, row_id"  # what _Row reads


class _Row(NamedTuple):  # a tuple: made from each fetched row at C speed
    section: str
    customer_id: int
    customer_name: str
    a: str | None
    b: str | None
    c: str | None
    d: str | None
    day: dt.date | None
    moment: dt.datetime | None
    amount: Decimal | None
    n: int | None
    row_id: int


@dataclass(frozen=True)
class _Part:
    """One section's SELECT (the columns of _Row, in its order, at most SECTION_LIMIT + 1 rows)."""

    name: str
    sql: str
    params: list[Any]
    # Common table expressions the SELECT reads ("name AS MATERIALIZED (...)", its parameters):
    # _fetch puts them at the head of the statement, after `visible`.
    ctes: tuple[tuple[str, list[Any]], ...] = ()


def _visible_ids(scope: CustomerScope) -> tuple[str, list[Any]] | None:
    """The ids of the customers the scope sees, as SQL (None: every customer), compiled once per scope."""
    if scope.sees_all:
        return None
    compiled = scope.__dict__.get("_row_ids_sql")
    if compiled is None and scope.branch_id is None:
        held = scope.held_ids_sql  # a manager's own customers: compiled once per process (decision 114)
        compiled = (held.sql, list(held.params))
        scope.__dict__["_row_ids_sql"] = compiled
    if compiled is None:
        sql, params = scope.row_ids().order_by().query.sql_with_params()  # a set: no sort by name
        compiled = (sql, list(params))
        scope.__dict__["_row_ids_sql"] = compiled  # frozen dataclass: its cached properties live here too
    return compiled[0], list(compiled[1])


def _by_manager(scope: CustomerScope) -> bool:
    """A manager's own book (not a branch, not the bank): the sections start from the book dates."""
    return not scope.sees_all and not scope.sees_none and scope.branch_id is None


# A manager's book dates (decision 164, apps/workspace/models.py BookDate): `managed` is one range
# of bookdate_manager_idx, the customers whose primary manager the user is (with their KYC review
# date and status), `extra` the customers the user sees without being their primary manager
# (another manager's customer shared with them, a break-glass grant), read the old way. Every
# section takes the visible customers among `managed` from its own range of the book dates, then
# `extra`'s; the two never share a customer.
_BOOK = (
    "managed(id, day, state) AS MATERIALIZED (SELECT customer_id, day, state"  # noqa: S608  # nosec B608 - fixed text, values are parameters
    f" FROM {BookDate._meta.db_table} WHERE manager_id = %s AND kind = '{BookDate.Kind.CUSTOMER.value}')"
)
# An anti-join: the set difference (EXCEPT) cost about twice as much (decision 186).
_EXTRA = (
    "extra(id) AS MATERIALIZED (SELECT v.id FROM visible v WHERE NOT EXISTS (SELECT FROM managed m WHERE m.id = v.id))"
)


# A manager's customers' interactions in the book dates (decision 176): every interaction of the
# customers filed under them, newest first from bookdate_interaction_idx, for recent_interactions
# (apps/interactions), which reads each by id with the confidentiality rule and the scope.
_MANAGED = (
    f"SELECT customer_id FROM {BookDate._meta.db_table}"  # noqa: S608  # nosec B608 - fixed text, values are parameters
    f" WHERE manager_id = %s AND kind = '{BookDate.Kind.CUSTOMER.value}'"
)
_LISTED = (
    f"SELECT ref_id, moment FROM {BookDate._meta.db_table}"  # noqa: S608  # nosec B608 - fixed text, values are parameters
    f" WHERE manager_id = %s AND kind = '{BookDate.Kind.INTERACTION.value}'"
)


def _book_index(scope: CustomerScope) -> BookIndex:
    """Where recent_interactions finds the interactions of the customers the scope's user manages."""
    user = scope.user_id or 0  # a manager's scope: has a user
    return BookIndex(managed=RawSQL(_MANAGED, (user,)), listed=RawSQL(_LISTED, (user,)))  # noqa: S611  # nosec B611


def _book_dates(kind: BookDate.Kind) -> str:
    """The filter on `b` (the book dates) for the rows of one kind dated in a window (user, first
    day, last day as parameters), of customers the user sees."""
    return (
        f"b.manager_id = %s AND b.kind = '{kind.value}' AND b.day BETWEEN %s AND %s"  # noqa: S608  # nosec B608 - a kind of ours
        " AND b.customer_id IN (SELECT id FROM visible)"
    )


def _in_scope(scope: CustomerScope, column: str) -> str:
    """The scope's filter on `column`: the statement's `visible` CTE (_fetch), nothing for someone who sees all."""
    return "" if scope.sees_all else f" AND {column} IN (SELECT id FROM visible)"  # noqa: S608  # nosec B608 - a column name of ours


def _tasks_part(*, user: User, today: dt.date, scope: CustomerScope) -> _Part:
    _, end = _day_bounds(today)
    visible = _in_scope(scope, "t.customer_id")
    # The user's open tasks due by tonight: one range of the (assignee, status, due) index.
    mine = (
        "due_tasks AS MATERIALIZED (SELECT id, customer_id, title, source, source_rule, due_at, priority"  # noqa: S608  # nosec B608 - fixed text, values are parameters
        f" FROM {Task._meta.db_table} WHERE assignee_id = %s AND status = %s AND due_at < %s)"
    )
    sql = (
        "SELECT 'tasks'::text, t.customer_id, c.display_name::text, t.title::text, t.source::text,"  # noqa: S608  # nosec B608 - fixed text, values are parameters
        " t.source_rule::text, NULL::text, NULL::date, t.due_at, NULL::numeric, t.priority::int, t.id"
        f" FROM (SELECT * FROM due_tasks t WHERE TRUE{visible} ORDER BY t.due_at, t.priority DESC, t.id LIMIT %s) t"
        f" JOIN {Customer._meta.db_table} c ON c.id = t.customer_id"
    )
    return _Part("tasks", sql, [SECTION_LIMIT + 1], ctes=((mine, [user.pk, Task.Status.OPEN.value, end]),))


def _maturing_part(*, today: dt.date, scope: CustomerScope) -> _Part:
    roles = [HoldingParty.Role.OWNER.value, HoldingParty.Role.JOINT.value]
    window = [Holding.Status.ACTIVE.value, today, maturing_within(today=today)]
    holdings = Holding._meta.db_table
    ctes: tuple[tuple[str, list[Any]], ...] = ()
    if scope.sees_all:
        # Someone who sees every customer walks the (status, maturity_date) index in date order
        # and stops at the cap.
        source = (
            f"(SELECT id, maturity_date FROM {holdings} WHERE status = %s AND maturity_date BETWEEN %s AND %s) w"  # noqa: S608  # nosec B608 - fixed text, values are parameters
            " ON w.id = p.holding_id"
        )
    elif scope.branch_id is not None:
        # A branch (thousands of customers): the bank's holdings maturing in the window, read
        # from that index alone, matched by hash to the parties of the customers it sees.
        source = "maturing w ON w.id = p.holding_id"
        ctes = (
            (
                f"maturing AS MATERIALIZED (SELECT id, maturity_date FROM {holdings}"  # noqa: S608  # nosec B608 - fixed text, values are parameters
                " WHERE status = %s AND maturity_date BETWEEN %s AND %s)",
                window,
            ),
        )
    else:
        # A manager's book: the holdings maturing in the window from the book dates of the
        # customers they manage (decision 164), each checked against its party and holding; the
        # customers they see as someone else's, each of their holdings in the partial index of
        # holdings that mature, by id (decision 147).
        source = f"{holdings} w ON w.id = p.holding_id AND w.status = %s AND w.maturity_date BETWEEN %s AND %s"
        if _by_manager(scope):
            booked = (
                "SELECT p.customer_id, p.holding_id, w.maturity_date"  # noqa: S608  # nosec B608 - fixed text, values are parameters
                f" FROM {BookDate._meta.db_table} b"
                f" JOIN {HoldingParty._meta.db_table} p ON p.holding_id = b.ref_id AND p.customer_id = b.customer_id"
                f" JOIN {source} WHERE {_book_dates(BookDate.Kind.MATURITY)} AND p.role IN (%s, %s)"
            )
            others = (
                "SELECT p.customer_id, p.holding_id, w.maturity_date"  # noqa: S608  # nosec B608 - fixed text, values are parameters
                f" FROM {HoldingParty._meta.db_table} p JOIN {source}"
                " WHERE p.role IN (%s, %s) AND p.customer_id IN (SELECT id FROM extra)"
            )
            book_window = [scope.user_id or 0, today, maturing_within(today=today)]  # a manager's: has a user
            sql = (
                "SELECT 'maturing'::text, m.customer_id, c.display_name::text, h.category::text,"  # noqa: S608  # nosec B608 - fixed text, values are parameters
                " h.number_hint::text, h.currency::text, h.maturity_instruction::text, h.maturity_date,"
                " NULL::timestamptz, h.balance, NULL::int, h.id"
                f" FROM (SELECT * FROM (({booked}) UNION ALL ({others})) m"
                " ORDER BY m.maturity_date, m.holding_id, m.customer_id LIMIT %s) m"
                f" JOIN {holdings} h ON h.id = m.holding_id"
                f" JOIN {Customer._meta.db_table} c ON c.id = m.customer_id"
            )
            params = [*window, *book_window, *roles, *window, *roles, SECTION_LIMIT + 1]
            return _Part("maturing", sql, params)
    sql = (
        "SELECT 'maturing'::text, m.customer_id, c.display_name::text, h.category::text,"  # noqa: S608  # nosec B608 - fixed text, values are parameters
        " h.number_hint::text, h.currency::text, h.maturity_instruction::text, h.maturity_date,"
        " NULL::timestamptz, h.balance, NULL::int, h.id"
        " FROM (SELECT p.customer_id, p.holding_id, w.maturity_date"
        f" FROM {HoldingParty._meta.db_table} p JOIN {source}"
        f" WHERE p.role IN (%s, %s){_in_scope(scope, 'p.customer_id')}"
        " ORDER BY w.maturity_date, p.holding_id, p.customer_id LIMIT %s) m"
        f" JOIN {holdings} h ON h.id = m.holding_id"
        f" JOIN {Customer._meta.db_table} c ON c.id = m.customer_id"
    )
    return _Part("maturing", sql, [*([] if ctes else window), *roles, SECTION_LIMIT + 1], ctes=ctes)


def _documents_part(*, today: dt.date, scope: CustomerScope) -> _Part:
    since = today - dt.timedelta(days=DOCUMENT_EXPIRED_LOOKBACK_DAYS)
    until = documents_expiring_within(today=today)
    columns = "d.id, d.customer_id, d.document_type, d.number_hint, d.expiry_date"
    documents = IdentityDocument._meta.db_table
    if _by_manager(scope):
        # The documents of the customers the user manages from the book dates (decision 164),
        # each read and checked by id; those of the customers they see as someone else's, the
        # old way.
        source = (
            f"((SELECT {columns} FROM {BookDate._meta.db_table} b"  # noqa: S608  # nosec B608 - fixed text, values are parameters
            f" JOIN {documents} d ON d.id = b.ref_id AND d.customer_id = b.customer_id"
            f" WHERE {_book_dates(BookDate.Kind.DOCUMENT)} AND d.expiry_date BETWEEN %s AND %s)"
            f" UNION ALL (SELECT {columns} FROM {documents} d WHERE d.expiry_date BETWEEN %s AND %s"
            " AND d.customer_id IN (SELECT id FROM extra)))"
        )
        sql = (
            "SELECT 'documents'::text, d.customer_id, c.display_name::text, d.document_type::text,"  # noqa: S608  # nosec B608 - fixed text, values are parameters
            " d.number_hint::text, NULL::text, NULL::text, d.expiry_date, NULL::timestamptz, NULL::numeric,"
            f" NULL::int, d.id FROM (SELECT * FROM {source} d ORDER BY d.expiry_date, d.id LIMIT %s) d"
            f" JOIN {Customer._meta.db_table} c ON c.id = d.customer_id"
        )
        params = [scope.user_id or 0, since, until, since, until, since, until, SECTION_LIMIT + 1]
        return _Part("documents", sql, params)
    sql = (
        "SELECT 'documents'::text, d.customer_id, c.display_name::text, d.document_type::text,"  # noqa: S608  # nosec B608 - fixed text, values are parameters
        " d.number_hint::text, NULL::text, NULL::text, d.expiry_date, NULL::timestamptz, NULL::numeric,"
        " NULL::int, d.id"
        " FROM (SELECT d.id, d.customer_id, d.document_type, d.number_hint, d.expiry_date"
        f" FROM {IdentityDocument._meta.db_table} d WHERE d.expiry_date BETWEEN %s AND %s"
        f"{_in_scope(scope, 'd.customer_id')} ORDER BY d.expiry_date, d.id LIMIT %s) d"
        f" JOIN {Customer._meta.db_table} c ON c.id = d.customer_id"
    )
    return _Part("documents", sql, [since, until, SECTION_LIMIT + 1])


def _kyc_part(*, today: dt.date, scope: CustomerScope) -> _Part:
    if _by_manager(scope):
        inner, params = _manager_kyc(today=today)
    else:
        inner, params = _kyc_sql(scope.customers(), kyc_review_due(today=today))
    sql = (
        "SELECT 'kyc'::text, k.id, k.display_name::text, k.kyc_status::text, NULL::text, NULL::text, NULL::text,"  # noqa: S608  # nosec B608 - fixed text, values are parameters
        f" k.kyc_review_date, NULL::timestamptz, NULL::numeric, NULL::int, k.id FROM ({inner}) k"
    )
    return _Part("kyc", sql, params)


def _kyc_sql(seen: QuerySet[Customer], rule: Q) -> tuple[str, list[Any]]:
    """The KYC reviews due by `rule` among `seen` (the scope's customers), compiled by the ORM."""
    customers = (
        seen.filter(rule)
        .exclude(status=Customer.Status.CLOSED)
        # Oldest review date first, in the order of the kyc_review_date index (so a compliance
        # officer's million customers are read in index order, not sorted); customers flagged
        # by status without a date come last.
        .order_by(F("kyc_review_date").asc(nulls_last=True), "id")
        .values_list("id", "display_name", "kyc_status", "kyc_review_date")[: SECTION_LIMIT + 1]
    )
    sql, params = customers.query.sql_with_params()
    return sql, list(params)


# A day no review is due by: the manager's KYC part is compiled once with it (_manager_kyc).
_MARK_TODAY = dt.date(1901, 1, 1)
_manager_kyc_compiled: list[tuple[str, tuple[Any, ...], dt.date]] = []


def _manager_kyc(*, today: dt.date) -> tuple[str, list[Any]]:
    """A manager's KYC reviews due: the customers of the book dates due by the same rule (decision
    164) that the user sees, and those they see as someone else's, as the held ids of the scope's
    customers(), to which the visibility rule and the rule itself are applied as to all of them.

    The text is the same for every manager and day (the statement's `visible`, `managed` and
    `extra` carry the user), so the ORM compiles it once per process, with a marker day whose
    due-by date each run replaces; building and compiling it was about 0.4 ms a page.
    """
    if not _manager_kyc_compiled:
        rule = kyc_review_due(today=_MARK_TODAY)
        marker = kyc_review_due_by(today=_MARK_TODAY)
        sql, params = _kyc_sql(CustomerScope(user_id=0).customers(held=_kyc_candidates(rule)), rule)
        if sum(1 for param in params if type(param) is dt.date and param == marker) != 2:  # candidates, rule
            raise RuntimeError("The manager's KYC part no longer carries its due-by date twice.")
        _manager_kyc_compiled.append((sql, tuple(params), marker))
    sql, template, marker = _manager_kyc_compiled[0]
    due_by = kyc_review_due_by(today=today)
    return sql, [due_by if type(param) is dt.date and param == marker else param for param in template]


def _kyc_candidates(rule: Q) -> RawSQL:
    """The visible managed customers whose book date and status meet `rule` (the list's kyc_review_due,
    read from its terms so the two cannot part), and the extra ones: held ids of the statement."""
    terms, params = [], []
    for child in rule.children:
        lookup, value = child if isinstance(child, tuple) else (None, None)
        if rule.connector != Q.OR or rule.negated or lookup not in ("kyc_review_date__lte", "kyc_status__in"):
            raise RuntimeError("kyc_review_due changed shape: teach the dashboard's book dates (decision 164).")
        if lookup == "kyc_review_date__lte":
            terms.append("day <= %s")
            params.append(value)
        else:
            terms.append("state = ANY(%s)")
            params.append([str(status) for status in value])
    where = " OR ".join(terms)
    # The text is fixed; every value is a parameter.
    held = f"SELECT id FROM managed WHERE ({where}) AND id IN (SELECT id FROM visible) UNION ALL SELECT id FROM extra"  # noqa: S608  # nosec B608 - fixed text, values are parameters
    return RawSQL(held, params)  # noqa: S611  # nosec B611


_ORDER = {
    "tasks": lambda r: (r.moment, -(r.n or 0), r.row_id),
    "maturing": lambda r: (r.day, r.row_id, r.customer_id),
    "documents": lambda r: (r.day, r.row_id),
    "kyc": lambda r: (r.day is None, r.day or dt.date.min, r.row_id),
}


def _fetch(parts: list[_Part], scope: CustomerScope) -> dict[str, list[_Row]]:
    """Run the parts as one statement, the scope's ids at its head; each section's rows, in its order."""
    rows: dict[str, list[_Row]] = {part.name: [] for part in parts}
    if not parts:
        return rows
    sql, params = _statement(parts, scope)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for values in cursor.fetchall():
            row = _Row._make(values)
            rows[row.section].append(row)
    for name, found in rows.items():
        found.sort(key=_ORDER[name])
    return rows


def _statement(parts: list[_Part], scope: CustomerScope) -> tuple[str, list[Any]]:
    """The parts as one statement (a UNION ALL), the scope's ids and the book's at its head."""
    visible = _visible_ids(scope)
    # MATERIALIZED: read once, and PostgreSQL keeps the estimate of a small book (see above).
    ctes = [] if visible is None else [(f"visible(id) AS MATERIALIZED ({visible[0]})", visible[1])]
    if _by_manager(scope):
        ctes += [(_BOOK, [scope.user_id]), (_EXTRA, [])]
    ctes += [cte for part in parts for cte in part.ctes]
    body = " UNION ALL ".join(f"({part.sql})" for part in parts)
    sql = (f"WITH {', '.join(text for text, _ in ctes)} " if ctes else "") + body
    params = [value for _, values in ctes for value in values] + [value for part in parts for value in part.params]
    return sql, params


@lru_cache(maxsize=16)
def _day_words(language: str) -> dict[str, Any]:
    """The work sections' fixed words and choice labels in `language` (messages with a number or a
    status still take it per page): looked up once per process and language instead of some
    sixty gettext calls a page (decision 181). The catalogues are loaded once per process; a
    settings change (tests) empties this."""
    with translation.override(language):
        return {
            "sources": choice_labels(Task.Source.choices),
            "overdue_task": gettext("Overdue task"),
            "task_due_today": gettext("Task due today"),
            "was_due": pgettext("before a date", "Was due"),
            "due": pgettext("before a date", "Due"),
            "tasks_title": gettext("Tasks due today and overdue"),
            "categories": choice_labels(Holding.Category.choices),
            "matures_within": gettext("Matures within %(days)s days"),
            "instruction": gettext("instruction: %(instruction)s"),
            "instructions": choice_labels(Holding.MaturityInstruction.choices),
            "matures": pgettext("before a date", "Matures"),
            "maturing_title": gettext("Maturing in the next %(days)s days"),
            "types": choice_labels(IdentityDocument.DocumentType.choices),
            "document_expired": gettext("Identity document expired"),
            "document_expires_within": gettext("Identity document expires within %(days)s days"),
            "expired": pgettext("before a date", "Expired"),
            "expires": pgettext("before a date", "Expires"),
            "documents_title": gettext("Identity documents expiring in the next %(days)s days"),
            "statuses": choice_labels(Customer.KycStatus.choices),
            "kyc_overdue": gettext("KYC review overdue"),
            "kyc_within": gettext("KYC review within %(days)s days"),
            "review": pgettext("before a date", "Review"),
            "flagged": pgettext("before a date", "Flagged"),
            "kyc_status": gettext("KYC status: %(status)s"),
            "kyc_review": gettext("KYC review (%(status)s)"),
            "kyc_title": gettext("KYC reviews due"),
        }


def _forget_day_words(**kwargs: Any) -> None:
    _day_words.cache_clear()


setting_changed.connect(_forget_day_words, dispatch_uid="workspace_forget_day_words")


def _tasks_section(rows: list[_Row], *, today: dt.date) -> Section:
    start, _ = _day_bounds(today)
    words = _day_words(translation.get_language())
    sources = words["sources"]
    overdue_rule, due_rule = words["overdue_task"], words["task_due_today"]
    was_due, due_label = words["was_due"], words["due"]
    rows, more = _capped(rows)
    items = []
    for row in rows:
        due = row.moment if row.moment is not None else start  # never None: due_at is required
        overdue = due < start
        items.append(
            WorkItem(
                customer_id=row.customer_id,
                customer_name=row.customer_name,
                title=row.a or "",
                rule=f"{overdue_rule if overdue else due_rule} · {sources.get(row.b, row.b or '')}",
                rule_code=row.c or f"task:{row.b}",
                date=timezone.localtime(due),
                date_label=was_due if overdue else due_label,
                is_overdue=overdue,
            )
        )
    return Section(title=words["tasks_title"], items=items, has_more=more)


def _maturing_section(rows: list[_Row]) -> Section:
    days = maturing_days()
    words = _day_words(translation.get_language())
    categories = words["categories"]
    rule = words["matures_within"] % {"days": days}
    instruction = words["instruction"]
    instructions = {
        code: f"{rule} · " + instruction % {"instruction": label.lower()}
        for code, label in words["instructions"].items()
    }
    matures = words["matures"]
    rows, more = _capped(rows)
    items = []
    for row in rows:
        items.append(
            WorkItem(
                customer_id=row.customer_id,
                customer_name=row.customer_name,
                title=f"{categories.get(row.a, row.a or '')} {row.b or ''}".strip(),
                rule=(
                    rule
                    if not row.d
                    else instructions.get(row.d) or f"{rule} · " + instruction % {"instruction": row.d.lower()}
                ),
                rule_code=f"maturity:{days}d",
                date=row.day or dt.date.min,
                date_label=matures,
                amount=Money(amount=row.amount if row.amount is not None else Decimal(0), currency=row.c or ""),
            )
        )
    return Section(title=words["maturing_title"] % {"days": days}, items=items, has_more=more)


def _documents_section(rows: list[_Row], *, today: dt.date) -> Section:
    days = document_expiry_days()
    words = _day_words(translation.get_language())
    types = words["types"]
    expired_rule = words["document_expired"]
    expiring_rule = words["document_expires_within"] % {"days": days}
    expired_label, expires_label = words["expired"], words["expires"]
    rows, more = _capped(rows)
    items = []
    for row in rows:
        expiry = row.day or today
        expired = expiry < today
        items.append(
            WorkItem(
                customer_id=row.customer_id,
                customer_name=row.customer_name,
                title=f"{types.get(row.a, row.a or '')} {row.b or ''}".strip(),
                rule=expired_rule if expired else expiring_rule,
                rule_code=f"document_expiry:{days}d",
                date=expiry,
                date_label=expired_label if expired else expires_label,
                is_overdue=expired,
            )
        )
    title = words["documents_title"] % {"days": days}
    return Section(title=title, items=items, has_more=more)


def _kyc_section(rows: list[_Row], *, today: dt.date) -> Section:
    days = kyc_review_days()
    words = _day_words(translation.get_language())
    statuses = words["statuses"]
    overdue_rule = words["kyc_overdue"]
    due_rule = words["kyc_within"] % {"days": days}
    review, flagged = words["review"], words["flagged"]
    rows, more = _capped(rows)
    items = []
    for row in rows:
        date = row.day
        status = statuses.get(row.a, row.a or "")
        overdue = date is None or date < today
        if date is None:
            rule = words["kyc_status"] % {"status": status}
        elif date < today:
            rule = overdue_rule
        else:
            rule = due_rule
        items.append(
            WorkItem(
                customer_id=row.customer_id,
                customer_name=row.customer_name,
                title=words["kyc_review"] % {"status": status},
                rule=rule,
                rule_code=f"kyc_review:{days}d",
                date=date or today,
                date_label=review if date else flagged,
                is_overdue=overdue,
            )
        )
    return Section(title=words["kyc_title"], items=items, has_more=more)


def _empty_rows(scope: CustomerScope, *names: str) -> dict[str, list[_Row]] | None:
    # Someone who sees nobody has an empty day, with no query at all.
    return {name: [] for name in names} if scope.sees_none else None


def tasks_due(*, user: User, today: dt.date, scope: CustomerScope | None = None) -> Section:
    """Open tasks assigned to the user on customers they see (visible_tasks), due today or
    overdue, oldest first."""
    scope = scope or customer_scope(user=user)
    rows = _empty_rows(scope, "tasks") or _fetch([_tasks_part(user=user, today=today, scope=scope)], scope)
    return _tasks_section(rows["tasks"], today=today)


def maturing_holdings(*, user: User, today: dt.date, scope: CustomerScope | None = None) -> Section:
    """Active holdings of visible customers (as owner or joint holder) maturing in the window."""
    scope = scope or customer_scope(user=user)
    rows = _empty_rows(scope, "maturing") or _fetch([_maturing_part(today=today, scope=scope)], scope)
    return _maturing_section(rows["maturing"])


def expiring_documents(*, user: User, today: dt.date, scope: CustomerScope | None = None) -> Section:
    """Identity documents of visible customers expiring soon, or lately expired."""
    scope = scope or customer_scope(user=user)
    rows = _empty_rows(scope, "documents") or _fetch([_documents_part(today=today, scope=scope)], scope)
    return _documents_section(rows["documents"], today=today)


def kyc_reviews_due(*, user: User, today: dt.date, scope: CustomerScope | None = None) -> Section:
    """Visible, not closed customers whose KYC review is due (same rule as the list filter)."""
    scope = scope or customer_scope(user=user)
    rows = _empty_rows(scope, "kyc") or _fetch([_kyc_part(today=today, scope=scope)], scope)
    return _kyc_section(rows["kyc"], today=today)


def my_day(*, user: User) -> MyDay:
    today = business_today()
    # Who sees which customer is decided once; every section filters by the same scope, and the
    # four work sections travel as one statement.
    scope = customer_scope(user=user)
    rows = _empty_rows(scope, "tasks", "maturing", "documents", "kyc") or _fetch(
        [
            _tasks_part(user=user, today=today, scope=scope),
            _maturing_part(today=today, scope=scope),
            _documents_part(today=today, scope=scope),
            _kyc_part(today=today, scope=scope),
        ],
        scope,
    )
    return MyDay(
        today=today,
        tasks=_tasks_section(rows["tasks"], today=today),
        maturing_holdings=_maturing_section(rows["maturing"]),
        expiring_documents=_documents_section(rows["documents"], today=today),
        kyc_reviews=_kyc_section(rows["kyc"], today=today),
        recent_interactions=recent_interactions(
            user=user, limit=RECENT_INTERACTIONS, scope=scope, book=_book_index(scope) if _by_manager(scope) else None
        ),
        unread_notifications=unread_notifications(user=user, limit=SECTION_LIMIT),
        new_leads=new_leads_for(user=user, limit=SECTION_LIMIT),
    )


# --- saved views of the customer list -------------------------------------------------------


def visible_views(*, user: User) -> QuerySet[SavedView]:
    """Saved views a user may open: their own, and those shared with their branch."""
    if not getattr(user, "is_authenticated", False):
        return SavedView.objects.none()
    shared = Q(sharing=SavedView.Sharing.BRANCH, branch_id=user.branch_id) if user.branch_id else Q(pk__in=[])
    return SavedView.objects.filter(Q(owner=user) | shared)


def view_for_user(*, user: User, view_id: Any) -> SavedView:
    """One saved view the user may open; missing and someone else's private one look alike (404)."""
    try:
        return visible_views(user=user).select_related("owner").get(pk=int(view_id))
    except (SavedView.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such saved view.") from None


def pinned_views(*, user: User) -> list[SavedView]:
    """The views the user pinned on their dashboard (still visible to them), by name. One query."""
    if not getattr(user, "is_authenticated", False):
        return []
    if user.branch_id is None:
        return _PINNED_WITHOUT_BRANCH.rows(owner_id=user.pk, pinner_id=user.pk)
    return _PINNED.rows(owner_id=user.pk, pinner_id=user.pk, branch_id=user.branch_id)


# Stand for the viewer while the pinned views' statement is compiled (no user or branch has them).
_MARK_OWNER, _MARK_PINNER, _MARK_BRANCH = -20261209, -20261210, -20261211


def _pinned_by(*, owner_id: int, pinner_id: int, branch_id: int | None = None) -> QuerySet[SavedView]:
    """visible_views for a viewer with this id and branch, pinned by them: the rule stays in visible_views,
    which reads nothing of the viewer but these (a viewer without a branch is another statement)."""
    viewer = get_user_model()(pk=owner_id, branch_id=branch_id)
    return visible_views(user=viewer).filter(pinned_by=pinner_id).order_by("name", "pk")


# One text for every viewer, compiled once per process (apps/core/compiled.py, decision 128).
_PINNED = CompiledQuery(SavedView, _pinned_by, owner_id=_MARK_OWNER, pinner_id=_MARK_PINNER, branch_id=_MARK_BRANCH)
_PINNED_WITHOUT_BRANCH = CompiledQuery(SavedView, _pinned_by, owner_id=_MARK_OWNER, pinner_id=_MARK_PINNER)
