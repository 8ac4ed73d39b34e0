"""Which advisor a qualified lead goes to: by intent, branch and open-lead load.

Pools are tried in order and the first with anyone in it wins; inside a pool the advisor with
the fewest open (assigned, not yet converted or rejected) leads gets it, the lowest id on a tie
so the choice is reproducible:
1. the intent's specialists (FINPULSE_LEAD_SPECIALISTS) who work at the lead's branch;
2. the relationship managers of the lead's branch;
3. the intent's specialists anywhere (a central team takes what a branch cannot).
Only active relationship or branch managers can receive leads (they are the ones who can see
them). Candidate rows are locked while the load is counted, so two leads routed at the same
moment do not both land on the same "least loaded" advisor.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from apps.customers.visibility import active_managers
from apps.identity import roles
from apps.identity.models import User
from apps.leads.models import Lead


def advisors() -> QuerySet[User]:
    """Everyone who may be given a lead: the bank's active managers."""
    return active_managers()


def specialists_for(intent: str) -> QuerySet[User]:
    """The intent's specialists: a group name, or a list of usernames, from FINPULSE_LEAD_SPECIALISTS."""
    spec: Any = (settings.FINPULSE_LEAD_SPECIALISTS or {}).get(intent)
    if not spec:
        return User.objects.none()
    if isinstance(spec, str):
        return advisors().filter(pk__in=User.objects.filter(groups__name=spec).values("pk"))
    return advisors().filter(username__in=[str(name) for name in spec])


def relationship_managers_of(branch_id: int) -> QuerySet[User]:
    return advisors().filter(branch_id=branch_id, groups__name=roles.RELATIONSHIP_MANAGER)


def _least_loaded(pool: QuerySet[User]) -> User | None:
    ids = list(pool.values_list("pk", flat=True))
    if not ids:
        return None
    # Lock the candidates (in id order, so concurrent routers cannot deadlock), then count.
    list(User.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    return (
        User.objects.filter(pk__in=ids)
        .annotate(open_leads=Count("assigned_leads", filter=Q(assigned_leads__state=Lead.State.ASSIGNED)))
        .order_by("open_leads", "pk")
        .first()
    )


def choose_advisor(*, lead: Lead) -> User | None:
    """The advisor this lead should go to, or None when nobody can take it."""
    specialists = specialists_for(lead.intent)
    pools: list[QuerySet[User]] = []
    if lead.branch_id:
        pools += [specialists.filter(branch_id=lead.branch_id), relationship_managers_of(lead.branch_id)]
    pools.append(specialists)
    for pool in pools:
        advisor = _least_loaded(pool)
        if advisor is not None:
            return advisor
    return None


def can_receive(*, user: User, lead: Lead) -> bool:
    """A manual assignment's target: an active advisor of the lead's branch (or any, without one)."""
    if not advisors().filter(pk=user.pk).exists():
        return False
    return (
        lead.branch_id is None
        or user.branch_id == lead.branch_id
        or specialists_for(lead.intent).filter(pk=user.pk).exists()
    )
