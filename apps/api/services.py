"""Every write to API credentials: created by an administrator, shown once, audited.

Issuing a key and widening its scopes grant permissions, so both are four-eyes changes
(apps.api.four_eyes, decision 109): the key is created at once (its secret is shown to its maker
only, once) but refuses every request until a second administrator approves; added scopes apply
only on approval. Removing scopes and revoking apply at once: they narrow access.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.api.models import ApiKey, Scope
from apps.approvals.models import ChangeRequest
from apps.approvals.services import propose_change
from apps.core.audit import record_audit_event
from apps.core.errors import Conflict, DomainError, PermissionDenied
from apps.identity.roles import may_edit_customers

if TYPE_CHECKING:
    from apps.identity.models import User

KEY_PREFIX = "fp"
# The four-eyes actions (registered by apps.api.four_eyes) and the target they point at.
API_KEY_ISSUE = "api.key_issue"
API_KEY_SCOPES = "api.key_scopes"
API_KEY_TARGET = "api.apikey"
# How often last_used_at is refreshed: once a minute is precise enough to spot an unused key
# and avoids a database write on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)

# The permission the owner must hold for a key to carry each scope (checked at creation and on
# every request, so demoting the owner shrinks the key at once).
SCOPE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Scope.CUSTOMERS_READ: ("customers.view_customer",),
    Scope.CUSTOMERS_WRITE: ("customers.view_customer", "customers.change_customer"),
    Scope.CUSTOMERS_PII: ("customers.view_customer", "customers.reveal_pii"),
    Scope.HOLDINGS_READ: ("accounts.view_holding",),
    Scope.PRODUCTS_READ: ("products.view_product",),
    Scope.TASKS_READ: ("tasks.view_task",),
    Scope.TASKS_WRITE: ("tasks.view_task", "tasks.add_task", "tasks.change_task"),
    # Interactions are customer data: the customer selector (and the confidential rule) decide.
    Scope.INTERACTIONS_READ: ("customers.view_customer",),
    Scope.INTERACTIONS_WRITE: ("customers.view_customer",),
    Scope.NOTIFICATIONS_READ: ("notifications.view_notification",),
    Scope.RECOMMENDATIONS_READ: ("recommendations.view_recommendation",),
    Scope.RECOMMENDATIONS_WRITE: ("recommendations.view_recommendation", "recommendations.add_recommendation"),
    Scope.LEADS_CREATE: ("leads.add_lead",),
    Scope.LEADS_READ: ("leads.view_lead",),
    Scope.OPPORTUNITIES_READ: ("opportunities.view_opportunity",),
    Scope.OPPORTUNITIES_WRITE: (
        "opportunities.view_opportunity",
        "opportunities.add_opportunity",
        "opportunities.change_opportunity",
    ),
}
WRITE_SCOPES = {s for s in Scope.values if s.endswith((":write", ":create"))}


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(raw: str) -> tuple[str, str] | None:
    """'fp_<prefix>_<secret>' -> (prefix, secret); None when it is not shaped like our key."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def owner_may_hold(owner: User, scope: str) -> bool:
    if not owner.is_active:
        return False
    if scope in WRITE_SCOPES and not may_edit_customers(owner):
        return False
    return owner.has_perms(SCOPE_PERMISSIONS.get(scope, ("api.no_such_permission",)))


def _max_lifetime() -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, "API_KEY_MAX_LIFETIME_DAYS", 365)))


@transaction.atomic
def create_api_key(
    *, actor: User | None, owner: User, name: str, scopes: Iterable[str], expires_at: dt.datetime
) -> tuple[ApiKey, str]:
    """Create a key and return it with its full secret, which is never stored and never shown again.

    Only administrators create keys. A key cannot carry a scope its owner's role does not allow,
    and it always expires (at most API_KEY_MAX_LIFETIME_DAYS ahead), so a forgotten key dies.
    """
    if actor is None or not actor.is_administrator:
        raise PermissionDenied("Only an administrator can create API keys.")
    name = (name or "").strip()
    if not name:
        raise DomainError("Name the system that will use this key.", field="name")
    if not owner.is_active:
        raise DomainError("The owner must be an active employee.", field="owner")
    scopes = _check_scopes(owner, scopes)
    now = timezone.now()
    if expires_at <= now:
        raise DomainError("The expiry must be in the future.", field="expires_at")
    if expires_at > now + _max_lifetime():
        raise DomainError(f"A key may live at most {_max_lifetime().days} days.", field="expires_at")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        secret_hash=hash_secret(secret),
        owner=owner,
        scopes=scopes,
        created_by=actor,
        expires_at=expires_at,
    )
    record_audit_event(
        actor=actor,
        action="api_key.created",
        target=api_key,
        metadata={
            "prefix": prefix,
            "owner": owner.pk,
            "scopes": scopes,
            "expires_at": expires_at.isoformat(),
            "awaiting_approval": True,
        },
    )
    propose_change(
        maker=actor,
        action=API_KEY_ISSUE,
        payload={"api_key_id": api_key.pk, "prefix": prefix, "name": name, "owner_id": owner.pk, "scopes": scopes},
        reason=_("New API key for %(owner)s") % {"owner": owner.get_username()},
        target_type=API_KEY_TARGET,
        target_id=api_key.pk,
    )
    return api_key, f"{KEY_PREFIX}_{prefix}_{secret}"


def _check_scopes(owner: User, scopes: Iterable[str]) -> list[str]:
    scopes = sorted(set(scopes))
    if not scopes:
        raise DomainError("Choose at least one scope.", field="scopes")
    unknown = [s for s in scopes if s not in Scope.values]
    if unknown:
        raise DomainError(f"Unknown scope(s): {', '.join(unknown)}.", field="scopes")
    beyond = [s for s in scopes if not owner_may_hold(owner, s)]
    if beyond:
        raise DomainError(f"The owner's role does not allow: {', '.join(beyond)}.", field="scopes")
    return scopes


def _locked_live_key(api_key: ApiKey) -> ApiKey:
    api_key = ApiKey.objects.select_for_update().select_related("owner").get(pk=api_key.pk)
    if api_key.revoked_at is not None:
        raise Conflict(_("This API key has been revoked."))
    if api_key.is_expired:
        raise Conflict(_("This API key has expired."))
    return api_key


@transaction.atomic
def approve_api_key(*, actor: User, api_key: ApiKey, approver: User | None) -> ApiKey:
    """Let the key work: the approval of its four-eyes request (apps.api.four_eyes), made as its
    maker, whose right to issue it and the owner's right to its scopes are checked again now."""
    if not actor.is_administrator:
        raise PermissionDenied("Only an administrator can create API keys.")
    api_key = _locked_live_key(api_key)
    if api_key.approved_at is not None:
        raise Conflict(_("This API key is already approved."))
    _check_scopes(api_key.owner, api_key.scopes)
    api_key.approved_at = timezone.now()
    api_key.approved_by = approver
    api_key.save(update_fields=["approved_at", "approved_by"])
    record_audit_event(
        actor=actor,
        action="api_key.approved",
        target=api_key,
        metadata={"prefix": api_key.prefix, "approved_by": approver.pk if approver else None},
    )
    return api_key


@transaction.atomic
def change_api_key_scopes(*, actor: User | None, api_key: ApiKey, scopes: Iterable[str]) -> ChangeRequest | None:
    """Set the key's scopes: removed ones go at once (audited `api_key.scopes_narrowed`); added
    ones are proposed for a second administrator's approval (the returned request), and apply
    then. None when nothing waits for approval."""
    if actor is None or not actor.is_administrator:
        raise PermissionDenied(_("Only an administrator can change API keys."))
    api_key = _locked_live_key(api_key)
    if api_key.approved_at is None:
        raise Conflict(_("This API key is still waiting for approval: let it expire or revoke it, and issue another."))
    wanted = _check_scopes(api_key.owner, scopes)
    removed = sorted(set(api_key.scopes) - set(wanted))
    added = sorted(set(wanted) - set(api_key.scopes))
    if removed:
        api_key.scopes = sorted(set(api_key.scopes) - set(removed))
        api_key.save(update_fields=["scopes"])
        record_audit_event(
            actor=actor,
            action="api_key.scopes_narrowed",
            target=api_key,
            metadata={"prefix": api_key.prefix, "removed": removed, "scopes": api_key.scopes},
        )
    if not added:
        return None
    return propose_change(
        maker=actor,
        action=API_KEY_SCOPES,
        payload={
            "api_key_id": api_key.pk,
            "prefix": api_key.prefix,
            "name": api_key.name,
            "owner_id": api_key.owner_id,
            "added": added,
        },
        reason=_("Wider scopes for the API key %(name)s") % {"name": api_key.name},
        target_type=API_KEY_TARGET,
        target_id=api_key.pk,
    )


@transaction.atomic
def widen_api_key_scopes(*, actor: User, api_key: ApiKey, added: Iterable[str], approver: User | None) -> ApiKey:
    """Add the approved scopes (the approval of an `api.key_scopes` request, made as its maker)."""
    if not actor.is_administrator:
        raise PermissionDenied(_("Only an administrator can change API keys."))
    api_key = _locked_live_key(api_key)
    added = sorted(set(added) - set(api_key.scopes))
    api_key.scopes = _check_scopes(api_key.owner, [*api_key.scopes, *added])
    api_key.save(update_fields=["scopes"])
    record_audit_event(
        actor=actor,
        action="api_key.scopes_widened",
        target=api_key,
        metadata={
            "prefix": api_key.prefix,
            "added": added,
            "scopes": api_key.scopes,
            "approved_by": approver.pk if approver else None,
        },
    )
    return api_key


@transaction.atomic
def revoke_api_key(*, actor: User | None, api_key: ApiKey, reason: str = "") -> ApiKey:
    """Revoke at once; the row stays so that past uses remain attributable."""
    if actor is None or not actor.is_administrator:
        raise PermissionDenied("Only an administrator can revoke API keys.")
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is not None:
        raise Conflict("This API key is already revoked.")
    api_key.revoked_at = timezone.now()
    api_key.revoked_by = actor
    api_key.save(update_fields=["revoked_at", "revoked_by"])
    record_audit_event(
        actor=actor, action="api_key.revoked", target=api_key, metadata={"prefix": api_key.prefix, "reason": reason}
    )
    return api_key


def note_api_key_use(*, api_key: ApiKey) -> None:
    """Refresh last_used_at at most once a minute (bookkeeping, not an audit event)."""
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now


@transaction.atomic
def record_api_key_write(*, api_key: ApiKey, method: str, path: str, status: int) -> None:
    """Attribute a write made with a key: same request id as the write's own audit event.

    Reads are not audited per request (that would be one audit row per GET); a read is
    attributable through last_used_at and the access logs, and PII reveals are audited.
    """
    record_audit_event(
        actor=api_key.owner,
        action="api_key.used",
        target=api_key,
        metadata={"prefix": api_key.prefix, "method": method, "path": path, "status": status},
    )
