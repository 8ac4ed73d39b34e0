"""Giving product advice, and recording what managers did with it.

recommend_for_customer: profile -> hash -> cache (Redis) -> stored row -> compute. Computing
means the rule engine finds and ranks the eligible candidates; the LLM (when configured and
its circuit is closed) chooses and explains among them; its answer is validated; anything
short of a valid answer falls back to the engine's own top products with template
rationales. Every answer is stored (Recommendation, audited) and cached under the hash.

The vendor call is made outside any database transaction (it can take seconds); only the
write of the result is one transaction with its audit event.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.core import llm
from apps.core.audit import record_audit_event
from apps.core.business_date import business_today
from apps.core.dispatch import task_named
from apps.core.errors import Conflict, DomainError, PermissionDenied
from apps.core.llm_budget import BUDGET_EXHAUSTED, start_of_today
from apps.customers.models import Customer
from apps.customers.visibility import may_edit_customers
from apps.notifications.llm_budget import budget_exhausted
from apps.recommendations.fields import ADVICE_FIELDS, COST_FIELDS, ORIGIN_FIELDS
from apps.recommendations.models import Recommendation, RecommendationFeedback
from apps.recommendations.prompts import PROMPT_VERSION, response_schema, system_prompt, user_prompt
from apps.recommendations.rules import Candidate, Gates, rule_items
from apps.recommendations.scoring import candidates
from apps.recommendations.selectors import (
    RULES_MODEL,
    Profile,
    advice_catalog,
    advice_customer,
    current_profile,
    customer_version,
    feedback_by_product,
    is_transient_fallback,
    latest_advice,
    rate_change_audience,
    servable_advice,
    stored_advice,
)
from apps.recommendations.validation import MalformedAnswer, validate_answer

if TYPE_CHECKING:
    from apps.identity.models import User

logger = logging.getLogger(__name__)

CACHE_PREFIX = "finpulse:reco:"
NO_VALID_ITEMS = "no_valid_items"
# Fields of a row kept in the cache: enough to render and serve it without a query.
CACHED_FIELDS = (
    "id",
    "customer_id",
    "profile_hash",
    *ORIGIN_FIELDS,
    "catalog_version",
    *ADVICE_FIELDS,
    *COST_FIELDS,
    "from_cache",
    "created_at",
)


class AdviceNotAllowed(Conflict):
    """A customer-level rule (consent, KYC, closed relationship) forbids product advice."""

    code = "advice-not-allowed"


def advice_key(profile_hash: str) -> str:
    return f"{CACHE_PREFIX}advice:{profile_hash}"


def pending_key(customer_id: int) -> str:
    return f"{CACHE_PREFIX}pending:{customer_id}"


def _pending_seconds() -> int:
    # Long enough for the slowest refresh (every attempt timing out), short enough that a
    # lost task does not leave the panel polling for long.
    return int(settings.OPENAI_TIMEOUT * max(settings.FINPULSE_LLM_MAX_ATTEMPTS, 1)) + 60


def ensure_can_ask_for_advice(actor: User | None) -> None:
    # Compliance reads advice but does not cause it (it costs money and writes records).
    if actor is not None and not may_edit_customers(actor):
        raise PermissionDenied("Your role may read advice but not ask for it.")


def _cache_put(row: Recommendation) -> None:
    transient = is_transient_fallback(row.source, row.fallback_reason)
    ttl = (
        settings.FINPULSE_RECOMMENDATION_FALLBACK_CACHE_SECONDS
        if transient
        else settings.FINPULSE_RECOMMENDATION_CACHE_SECONDS
    )
    cache.set(advice_key(row.profile_hash), {name: getattr(row, name) for name in CACHED_FIELDS}, timeout=ttl)


def from_cached(payload: dict[str, Any]) -> Recommendation:
    """An unsaved-looking Recommendation built from a cached payload (for display and ids)."""
    row = Recommendation(**{name: payload[name] for name in CACHED_FIELDS if name in payload})
    row._state.adding = False
    return row


@transaction.atomic
def record_recommendation(
    *, actor: User | None, customer: Customer, profile: Profile, fields: dict[str, Any]
) -> Recommendation:
    """Store one piece of advice with its audit event (what was advised, by which engine)."""
    row = Recommendation.objects.create(
        customer=customer,
        profile_hash=profile.profile_hash,
        catalog_version=profile.catalog_version,
        prompt_version=PROMPT_VERSION,
        snapshot=profile.snapshot,
        requested_by=actor if getattr(actor, "pk", None) else None,
        **fields,
    )
    record_audit_event(
        actor=actor,
        action="recommendation.generated",
        target=row,
        metadata={
            "source": row.source,
            "fallback_reason": row.fallback_reason,
            "model": row.model,
            "prompt_version": row.prompt_version,
            "profile_hash": row.profile_hash,
            "products": row.product_codes,
            "dropped": row.dropped_count,
            "from_cache": row.from_cache,
        },
    )
    return row


def _reuse(*, actor: User | None, customer: Customer, profile: Profile) -> Recommendation | None:
    payload = cache.get(advice_key(profile.profile_hash))
    if payload and payload.get("customer_id") == customer.pk:
        return from_cached(payload)
    own = stored_advice(customer_id=customer.pk, profile_hash=profile.profile_hash)
    if own is not None:
        if not payload:
            _cache_put(own)
        return own
    if payload:
        # Another customer with an identical profile got this advice: reuse it without a
        # vendor call, but keep a row of its own for this customer's record and feedback.
        return record_recommendation(
            actor=actor,
            customer=customer,
            profile=profile,
            fields={
                "source": payload["source"],
                "fallback_reason": payload["fallback_reason"],
                "model": payload["model"],
                "items": payload["items"],
                "dropped_items": payload["dropped_items"],
                "from_cache": True,
            },
        )
    return None


def _llm_fields(profile: Profile, found: list[Candidate], known_codes: set[str]) -> dict[str, Any]:
    max_items = settings.FINPULSE_RECOMMENDATION_MAX_ITEMS
    system = system_prompt(max_items=max_items)
    user = user_prompt(snapshot=profile.snapshot, found=found, max_items=max_items)
    prompt = {"system": system, "user": user}
    fallback = {"source": Recommendation.Source.RULES, "items": rule_items(found, max_items=max_items)}
    if budget_exhausted(use="advice", spent_today=advice_spent_today()):
        # The day's advice budget is spent (admins were told once): the rule engine answers.
        return {**fallback, **_usage_fields(llm.LlmUsage()), "fallback_reason": BUDGET_EXHAUSTED, "prompt": prompt}
    try:
        result = llm.complete_json(
            system=system,
            user=user,
            schema_name="product_advice",
            schema=response_schema(codes=[c.code for c in found], max_items=max_items),
        )
    except llm.LlmError as error:
        logger.warning("LLM advice unavailable (%s): the rule engine answers.", error.reason)
        return {**fallback, **_usage_fields(error.usage), "fallback_reason": error.reason, "prompt": prompt}
    usage = {**_usage_fields(result.usage), "model": result.model, "prompt": prompt}
    response = llm_json(result.data)
    try:
        answer = validate_answer(result.data, found=found, known_codes=known_codes, max_items=max_items)
    except MalformedAnswer:
        return {**fallback, **usage, "fallback_reason": llm.MALFORMED, "response": response}
    if not answer.items:
        return {
            **fallback,
            **usage,
            "fallback_reason": NO_VALID_ITEMS,
            "response": response,
            "dropped_items": answer.dropped,
        }
    return {
        **usage,
        "source": Recommendation.Source.LLM,
        "items": answer.items,
        "dropped_items": answer.dropped,
        "response": response,
    }


def advice_spent_today() -> Decimal:
    """What advice from the LLM has cost since midnight (the advice budget counts this)."""
    from django.db.models import Sum

    total = Recommendation.objects.filter(created_at__gte=start_of_today()).aggregate(cost=Sum("cost"))["cost"]
    return total or Decimal("0")


def llm_json(data: Any) -> str:
    from apps.recommendations.hashing import canonical_json

    return canonical_json(data)[:20_000]


def _usage_fields(usage: llm.LlmUsage) -> dict[str, Any]:
    return {
        "latency_ms": usage.latency_ms,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cost": usage.cost if usage.total_tokens else Decimal("0"),
    }


def _compute(*, actor: User | None, customer: Customer, profile: Profile) -> Recommendation:
    started = time.monotonic()
    catalog = advice_catalog(today=profile.today)
    found = candidates(facts=profile.facts, snapshot=profile.snapshot, catalog=catalog, situation=profile.situation)
    max_items = settings.FINPULSE_RECOMMENDATION_MAX_ITEMS
    if profile.engine_model == RULES_MODEL or not found:
        # No LLM configured (by design), or nothing to choose from: the engine answers alone.
        fields: dict[str, Any] = {
            "source": Recommendation.Source.RULES,
            "model": "",
            "fallback_reason": llm.NOT_CONFIGURED if profile.engine_model == RULES_MODEL else "",
            "items": rule_items(found, max_items=max_items),
        }
    else:
        fields = {"model": profile.engine_model, **_llm_fields(profile, found, {c.code for c in catalog})}
    if not fields.get("latency_ms"):
        fields["latency_ms"] = round((time.monotonic() - started) * 1000)
    row = record_recommendation(actor=actor, customer=customer, profile=profile, fields=fields)
    _cache_put(row)
    return row


def recommend_for_customer(
    *, actor: User | None, customer: Customer, force: bool = False, profile: Profile | None = None
) -> Recommendation:
    """Advice for one customer: cached per profile hash, stored, never a vendor error.

    `force` skips the cache and stored rows (a manager asked for fresh advice). Raises
    AdviceNotAllowed when consent, KYC or the relationship status forbids advice. Not one
    transaction on purpose: the vendor call must not hold a database transaction open; the
    stored result is written atomically with its audit event (record_recommendation).
    """
    profile = profile or current_profile(customer=customer)
    if not profile.gates.open:
        raise AdviceNotAllowed(" ".join(profile.gates.failed))
    if not force:
        reused = _reuse(actor=actor, customer=customer, profile=profile)
        if reused is not None:
            return reused
    return _compute(actor=actor, customer=customer, profile=profile)


# --- rate changes ------------------------------------------------------------------------------


def invalidate_advice_for_rate(*, product_id: int, effective_from: dt.date) -> int:
    """A product's rate changed: invalidate only the advice that change affects.

    Affected: holders of the product maturing (within the advice horizon) on or after the new
    rate's date, whose renewal it prices, and customers whose servable advice names the
    product. Their servable rows are marked invalidated (never served again, kept for the
    record) and, after commit, their cache entries go. Everyone else's advice stays: it does
    not quote this rate. Returns how many rows were invalidated. A system job (actor None).
    """
    from apps.products.models import Product

    today = business_today()
    with transaction.atomic():
        product = Product.objects.filter(pk=product_id).only("id", "code", "name").first()
        if product is None:
            return 0
        maturing, advised = rate_change_audience(product_id=product_id, today=today, effective_from=effective_from)
        customers = set(maturing) | advised
        rows = servable_advice().filter(customer_id__in=customers)
        hashes = set(rows.values_list("profile_hash", flat=True))
        count = rows.update(invalidated_at=timezone.now())
        if count:
            record_audit_event(
                actor=None,
                action="recommendation.invalidated",
                target=product,
                metadata={
                    "reason": "rate_changed",
                    "product": product.code,
                    "effective_from": effective_from.isoformat(),
                    "advice": count,
                    "customers": len(customers),
                },
            )
        # After commit: a page reading the cache before then would re-fill it from the old row.
        transaction.on_commit(lambda: cache.delete_many([advice_key(h) for h in hashes]))
    return count


# --- asynchronous refresh --------------------------------------------------------------------


def refresh_key(customer_id: int) -> str:
    return f"{CACHE_PREFIX}refresh:{customer_id}"


# How long the outcome of a refresh is remembered (the panel says "refreshed" or why it failed).
REFRESH_OUTCOME_SECONDS = 3600
REFRESH_NOT_FINISHED = "The refresh did not finish in time (the background worker did not answer)."
REFRESH_QUEUE_DOWN = "The job queue could not be reached, so the refresh was not started."


def record_refresh_outcome(
    *, customer_id: int, state: str, reason: str = "", recommendation_id: int | None = None
) -> None:
    """What became of the last refresh: "pending", "done" (with the new advice) or "failed" (why)."""
    previous = cache.get(refresh_key(customer_id)) or {}
    cache.set(
        refresh_key(customer_id),
        {
            "state": state,
            "reason": reason,
            "recommendation_id": recommendation_id,
            "requested_at": previous.get("requested_at") if state != "pending" else timezone.now().isoformat(),
            "at": timezone.now().isoformat(),
        },
        timeout=REFRESH_OUTCOME_SECONDS,
    )


def is_refresh_pending(*, customer_id: int) -> bool:
    return bool(cache.get(pending_key(customer_id)))


def finish_refresh(*, customer_id: int) -> None:
    cache.delete(pending_key(customer_id))


def publish_refresh(*, customer_id: int, actor_id: int | None) -> bool:
    """Hand the refresh to Celery; a broker outage clears the pending mark (the panel stops polling)."""
    from kombu.exceptions import OperationalError as KombuOperationalError

    try:
        task_named("recommendations.refresh").apply_async(
            (customer_id, actor_id), retry=True, retry_policy={"max_retries": 1, "interval_start": 0}
        )
    except (KombuOperationalError, OSError) as error:
        logger.warning("Broker unreachable (%s): advice refresh not queued.", type(error).__name__)
        record_refresh_outcome(customer_id=customer_id, state="failed", reason=REFRESH_QUEUE_DOWN)
        finish_refresh(customer_id=customer_id)
        return False
    return True


def request_refresh(*, actor: User | None, customer: Customer, gates: Gates | None = None) -> bool:
    """Queue fresh advice for a customer (after commit); False when one is already pending."""
    ensure_can_ask_for_advice(actor)
    gates = gates or current_profile(customer=customer).gates
    if not gates.open:
        raise AdviceNotAllowed(" ".join(gates.failed))
    added = cache.add(pending_key(customer.pk), timezone.now().isoformat(), timeout=_pending_seconds())
    if added is False:
        return False
    record_refresh_outcome(customer_id=customer.pk, state="pending")
    customer_id, actor_id = customer.pk, getattr(actor, "pk", None)
    transaction.on_commit(lambda: publish_refresh(customer_id=customer_id, actor_id=actor_id))
    return True


# --- the panel on the customer page ----------------------------------------------------------


@dataclass
class AdvicePanel:
    customer: Customer
    gates: Gates
    advice: Recommendation | None = None
    # The advice is for the customer's current profile (not an older one kept for reference).
    is_current: bool = False
    pending: bool = False
    can_act: bool = False
    feedback: dict[int, RecommendationFeedback] = field(default_factory=dict)
    error: str = ""
    # The last refresh: {"state": pending|done|failed, "reason", "recommendation_id", "at", ...}
    refresh: dict[str, Any] = field(default_factory=dict)

    @property
    def refresh_failed(self) -> bool:
        return self.refresh.get("state") == "failed"

    @property
    def is_stale(self) -> bool:
        """The advice shown is older than a refresh that failed: say so beside it."""
        return (
            self.refresh_failed and self.advice is not None and self.advice.pk != self.refresh.get("recommendation_id")
        )

    @property
    def refreshed_at(self) -> dt.datetime | None:
        try:
            return dt.datetime.fromisoformat(self.refresh["at"])
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def just_refreshed(self) -> bool:
        return (
            self.refresh.get("state") == "done"
            and self.advice is not None
            and self.advice.pk == self.refresh.get("recommendation_id")
        )


def version_key(customer_id: int, fingerprint: str) -> str:
    return f"{CACHE_PREFIX}version:{customer_id}:{fingerprint}"


def advice_panel(*, user: User, customer_id: Any) -> AdvicePanel:
    """What the customer page shows: current advice from the cache or its stored row.

    Cache-hit path: one query (visibility and a fingerprint of the advice inputs), the
    fingerprint's profile hash and the advice from the cache, and the feedback rows. On a
    miss the profile is rebuilt and hashed. A page view never calls the LLM: with no advice
    for the current profile it computes the rule engine's answer at once when that is the
    engine (no key, or circuit open), and otherwise queues a refresh and shows the latest
    older advice while the page polls.
    """
    version = customer_version(user=user, customer_id=customer_id)
    customer = version.customer
    can_act = may_edit_customers(user)
    known_key, pending = version_key(customer.pk, version.fingerprint), pending_key(customer.pk)
    outcome_key = refresh_key(customer.pk)
    found = cache.get_many([known_key, pending, outcome_key])
    known = found.get(known_key)
    refresh = dict(found.get(outcome_key) or {})
    if refresh.get("state") == "pending" and not found.get(pending):
        # The pending mark expired with no outcome: the task was lost or is stuck.
        refresh = {**refresh, "state": "failed", "reason": REFRESH_NOT_FINISHED}
    profile: Profile | None = None
    if known:
        profile_hash, gates = known["profile_hash"], Gates(passed=(), failed=tuple(known["failed"]))
    else:
        customer = advice_customer(user=user, customer_id=customer.pk)
        profile = current_profile(customer=customer)
        profile_hash, gates = profile.profile_hash, profile.gates
        cache.set(
            known_key,
            {"profile_hash": profile_hash, "failed": list(gates.failed)},
            timeout=settings.FINPULSE_RECOMMENDATION_CACHE_SECONDS,
        )
    panel = AdvicePanel(
        customer=customer, gates=gates, can_act=can_act, pending=bool(found.get(pending)), refresh=refresh
    )
    if not gates.open:
        return panel
    payload = cache.get(advice_key(profile_hash))
    if payload and payload.get("customer_id") == customer.pk:
        panel.advice = from_cached(payload)
    else:
        panel.advice = stored_advice(customer_id=customer.pk, profile_hash=profile_hash)
        if panel.advice is not None and not payload:
            _cache_put(panel.advice)
    if panel.advice is None and can_act:
        if profile is None:
            customer = advice_customer(user=user, customer_id=customer.pk)
            profile = current_profile(customer=customer)
        if payload or not llm.llm_available():
            # Reusing an identical profile's advice, or the rule engine: both are immediate.
            panel.advice = recommend_for_customer(actor=user, customer=customer, profile=profile)
        else:
            panel.pending = request_refresh(actor=user, customer=customer, gates=profile.gates) or panel.pending
    panel.is_current = panel.advice is not None
    if panel.advice is None:
        panel.advice = latest_advice(customer_id=customer.pk)
    panel.feedback = feedback_by_product(recommendation_id=panel.advice.pk if panel.advice else None)
    return panel


# --- feedback --------------------------------------------------------------------------------

REASON_MAX = 300


@transaction.atomic
def record_feedback(
    *, actor: User | None, recommendation: Recommendation, product_id: int, decision: str, reason: str = ""
) -> RecommendationFeedback:
    """A manager accepts or dismisses one recommended product (a dismissal needs a reason).

    One decision per product per advice; changing it updates the row and is audited again.
    """
    if actor is None or not getattr(actor, "pk", None):
        raise PermissionDenied("Feedback is given by a person.")
    ensure_can_ask_for_advice(actor)
    if decision not in RecommendationFeedback.Decision.values:
        raise DomainError("Choose accept or dismiss.", field="decision")
    reason = (reason or "").strip()
    if decision == RecommendationFeedback.Decision.DISMISSED and not reason:
        raise DomainError("Say why the product is dismissed.", field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(f"Keep the reason under {REASON_MAX} characters.", field="reason")
    if product_id not in {item.get("product_id") for item in recommendation.items or []}:
        raise DomainError("This product is not part of this advice.", field="product")
    existing = (
        RecommendationFeedback.objects.select_for_update()
        .filter(recommendation=recommendation, product_id=product_id)
        .first()
    )
    previous = existing.decision if existing else ""
    if existing is None:
        feedback = RecommendationFeedback.objects.create(
            recommendation=recommendation, product_id=product_id, decision=decision, reason=reason, actor=actor
        )
    else:
        existing.decision, existing.reason, existing.actor = decision, reason, actor
        existing.save(update_fields=["decision", "reason", "actor", "updated_at"])
        feedback = existing
    record_audit_event(
        actor=actor,
        action=f"recommendation.{decision}",
        target=recommendation,
        # The reason is the manager's free text: kept on the row, not copied into the chain.
        metadata={"product_id": product_id, "decision": decision, "previous": previous, "has_reason": bool(reason)},
    )
    return feedback
