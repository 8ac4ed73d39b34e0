"""Reads of leads, scoped to who may see them. Every page, API call and admin list starts here.

Leads are not customers yet, so they have their own rule (visible_leads), shaped like the
customer one: compliance officers and administrators see every lead; a branch manager sees
their branch's leads; a relationship manager sees the leads assigned to them and the
unassigned leads of their branch (the pool they may pick from). Anyone else sees none.
Lists never load the encrypted columns: they show the masked hints.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.core.compiled import CompiledQuery
from apps.core.errors import NotFound
from apps.core.fields import encrypted_fields
from apps.customers.visibility import sees_every_customer
from apps.leads.models import Lead, LeadCorrection, LeadTransition
from apps.leads.state import OPEN_STATES

if TYPE_CHECKING:
    from apps.identity.models import User

ENCRYPTED = tuple(field.name for field in encrypted_fields(Lead))


def visible_leads(*, user: User) -> QuerySet[Lead]:
    """Leads this user may see (see the module docstring for who sees what)."""
    kind = _viewer_kind(user)
    if kind is None:
        return Lead.objects.none()
    return _leads_seen_by(kind, user_id=user.pk, branch_id=user.branch_id)


def _viewer_kind(user: User) -> str | None:
    """Which shape of the rule is the user's: "all", "branch", "manager", or None (sees none)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if sees_every_customer(user):
        return "all"
    if user.is_branch_manager and user.branch_id:
        return "branch"
    if user.is_relationship_manager:
        return "manager"
    return None


def _leads_seen_by(kind: str, *, user_id: int, branch_id: int | None) -> QuerySet[Lead]:
    """visible_leads for a viewer of this kind, from their id and branch alone."""
    leads = Lead.objects.all()
    if kind == "all":
        return leads
    if kind == "branch":
        return leads.filter(Q(branch_id=branch_id) | Q(assignee_id=user_id))
    mine = Q(assignee_id=user_id)
    if branch_id:
        mine |= Q(assignee__isnull=True, branch_id=branch_id)
    return leads.filter(mine)


def lead_list(*, user: User) -> QuerySet[Lead]:
    """For lists: no ciphertext loaded, the assignee and branch joined."""
    return visible_leads(user=user).defer(*ENCRYPTED).select_related("assignee", "branch")


def lead_for_user(*, user: User, lead_id: Any, with_details: bool = False) -> Lead:
    """One lead the user may see; missing and forbidden look alike (404)."""
    leads = visible_leads(user=user).select_related("assignee", "branch", "customer")
    if not with_details:
        leads = leads.defer(*ENCRYPTED)
    try:
        return leads.get(pk=int(lead_id))
    except (Lead.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such lead.") from None


def overdue_q(now: dt.datetime) -> Q:
    return Q(state__in=OPEN_STATES, first_contacted_at__isnull=True, first_contact_due_at__lt=now)


def inbox(
    *, user: User, state: str = "", intent: str = "", overdue: bool = False, now: dt.datetime | None = None
) -> QuerySet[Lead]:
    """The leads inbox: filters on state, intent and 'first contact overdue'; open leads by default."""
    now = now or timezone.now()
    leads = lead_list(user=user)
    leads = leads.filter(state=state) if state else leads.filter(state__in=OPEN_STATES)
    if intent:
        leads = leads.filter(intent=intent)
    if overdue:
        leads = leads.filter(overdue_q(now))
    return leads.order_by("first_contact_due_at", "id")


def inbox_counts(*, user: User, now: dt.datetime | None = None) -> dict[str, int]:
    """Open leads, those still to be contacted, and those overdue (one query)."""
    now = now or timezone.now()
    return visible_leads(user=user).aggregate(
        open=Count("id", filter=Q(state__in=OPEN_STATES)),
        to_contact=Count("id", filter=Q(state__in=OPEN_STATES, first_contacted_at__isnull=True)),
        overdue=Count("id", filter=overdue_q(now)),
    )


def new_leads_for(*, user: User, limit: int = 10) -> list[Lead]:
    """For the dashboard: the user's newest open leads waiting for first contact.

    Only what the dashboard shows of them (link, state, when received): no assignee or branch
    joined, no other column compiled or loaded (decision 115). The statement is compiled once per
    process for each shape of the rule (apps/core/compiled.py), with the viewer's id and branch as
    its values: building it with the ORM was 0.75 ms of the dashboard's web CPU (decision 149).
    """
    kind = _viewer_kind(user)
    if kind is None:
        return []
    with_branch = kind != "all" and bool(user.branch_id)
    compiled = _compiled_new_leads(kind, with_branch, limit)
    values = {} if kind == "all" else {"user_id": user.pk}
    if with_branch:
        values["branch_id"] = int(user.branch_id or 0)
    return compiled.rows(**values)


def _new_leads(leads: QuerySet[Lead], limit: int) -> QuerySet[Lead]:
    return (
        leads.filter(state__in=OPEN_STATES, first_contacted_at__isnull=True)
        .only("id", "state", "received_at")
        .order_by("-received_at", "-id")[:limit]
    )


# Stand for the viewer while a shape's statement is compiled (no user or branch has them).
_MARK_USER, _MARK_BRANCH = -20261212, -20261213
_new_leads_statements: dict[tuple[str, bool, int], CompiledQuery[Lead]] = {}


def _compiled_new_leads(kind: str, with_branch: bool, limit: int) -> CompiledQuery[Lead]:
    key = (kind, with_branch, limit)
    compiled = _new_leads_statements.get(key)
    if compiled is None:
        markers = {} if kind == "all" else {"user_id": _MARK_USER}
        if with_branch:
            markers["branch_id"] = _MARK_BRANCH

        def build(user_id: int = 0, branch_id: int | None = None) -> QuerySet[Lead]:
            return _new_leads(_leads_seen_by(kind, user_id=user_id, branch_id=branch_id), limit)

        compiled = _new_leads_statements.setdefault(key, CompiledQuery(Lead, build, **markers))
    return compiled


def lead_history(*, lead: Lead) -> tuple[list[LeadTransition], list[LeadCorrection]]:
    """The lead's moves (with the time spent before each) and its corrections."""
    transitions = list(lead.transitions.select_related("actor"))
    previous = lead.received_at
    for transition in transitions:
        transition.time_in_previous_state = transition.at - previous  # type: ignore[attr-defined]
        previous = transition.at
    corrections = list(lead.corrections.select_related("actor"))
    return transitions, corrections


def time_in_states(*, lead: Lead, now: dt.datetime | None = None) -> dict[str, dt.timedelta]:
    """How long the lead has spent in each state so far (the current one up to now)."""
    now = now or timezone.now()
    spent: dict[str, dt.timedelta] = {}
    state, since = Lead.State.NEW.value, lead.received_at
    for from_state, to_state, at in lead.transitions.order_by("at", "id").values_list("from_state", "to_state", "at"):
        state = from_state
        spent[state] = spent.get(state, dt.timedelta()) + (at - since)
        state, since = to_state, at
    spent[state] = spent.get(state, dt.timedelta()) + (now - since if state in OPEN_STATES else dt.timedelta())
    return spent


PER_LEAD = Decimal("0.000001")


def llm_spent_today() -> Decimal:
    """What reading inquiries with the LLM has cost since midnight (the leads budget counts this)."""
    from apps.core.llm_budget import start_of_today

    total = Lead.objects.filter(extracted_at__gte=start_of_today()).aggregate(cost=Sum("llm_cost"))["cost"]
    return total or Decimal("0")


def llm_daily_costs(*, leads: QuerySet[Lead], days: int = 30) -> list[dict[str, Any]]:
    """Per day: leads read, by which engine, the tokens, the estimated cost and the cost per lead."""
    since = timezone.now() - dt.timedelta(days=days)
    rows = list(
        leads.filter(extracted_at__gte=since)
        .annotate(day=TruncDate("extracted_at"))
        .values("day")
        .annotate(
            leads=Count("id"),
            llm=Count("id", filter=Q(extracted_by=Lead.ExtractedBy.LLM)),
            rules=Count("id", filter=Q(extracted_by=Lead.ExtractedBy.RULES)),
            prompt_tokens=Sum("llm_prompt_tokens"),
            completion_tokens=Sum("llm_completion_tokens"),
            cost=Sum("llm_cost"),
        )
        .order_by("-day")
    )
    return [
        {**dict(row), "cost_per_lead": (row["cost"] / row["leads"]).quantize(PER_LEAD) if row["leads"] else None}
        for row in rows
    ]
