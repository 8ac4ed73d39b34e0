"""Four eyes on API keys (issue 19: "permission grants"): issuing a key and widening its scopes.

`api.key_issue`: `create_api_key` creates the key unusable and proposes it; on approval
`approve_api_key` lets it work. `api.key_scopes`: `change_api_key_scopes` removes scopes at once
and proposes the added ones; on approval `widen_api_key_scopes` adds them. Both apply as the
maker, in the approval's transaction. The checker is another administrator who is not the key's
owner: nobody approves rights their own requests would carry. The payload holds ids, the
prefix, the key's name and scope names only (never the secret).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from apps.api.models import ApiKey
from apps.api.services import API_KEY_ISSUE, API_KEY_SCOPES, API_KEY_TARGET, approve_api_key, widen_api_key_scopes
from apps.approvals.registry import FourEyesAction, register
from apps.approvals.selectors import pending_changes
from apps.core.errors import DomainError

if TYPE_CHECKING:
    from apps.approvals.models import ChangeRequest
    from apps.identity.models import User


def _key(change: ChangeRequest) -> ApiKey:
    api_key = ApiKey.objects.filter(pk=change.payload["api_key_id"]).first()
    if api_key is None:
        raise DomainError(_("This API key no longer exists."))
    return api_key


def _apply_issue(change: ChangeRequest) -> ApiKey:
    return approve_api_key(actor=change.maker, api_key=_key(change), approver=change.checker)


def _apply_scopes(change: ChangeRequest) -> ApiKey:
    return widen_api_key_scopes(
        actor=change.maker, api_key=_key(change), added=change.payload["added"], approver=change.checker
    )


def _describe_issue(data: Mapping[str, Any]) -> str:
    return _("Issue the API key “%(name)s” (fp_%(prefix)s_…) with scopes %(scopes)s") % {
        "name": data["name"],
        "prefix": data["prefix"],
        "scopes": ", ".join(data["scopes"]),
    }


def _describe_scopes(data: Mapping[str, Any]) -> str:
    return _("Add scopes %(scopes)s to the API key “%(name)s” (fp_%(prefix)s_…)") % {
        "scopes": ", ".join(data["added"]),
        "name": data["name"],
        "prefix": data["prefix"],
    }


def _may_approve(user: User, change: ChangeRequest) -> bool:
    """Another administrator who is not the key's owner."""
    return bool(user.is_active and user.is_administrator and user.pk != change.payload.get("owner_id"))


register(
    FourEyesAction(
        name=API_KEY_ISSUE,
        label="API key issuance",
        apply=_apply_issue,
        describe=_describe_issue,
        may_approve=_may_approve,
    )
)
register(
    FourEyesAction(
        name=API_KEY_SCOPES,
        label="API key scope change",
        apply=_apply_scopes,
        describe=_describe_scopes,
        may_approve=_may_approve,
    )
)


def pending_key_changes(api_key: ApiKey) -> list[ChangeRequest]:
    """The requests waiting for a second administrator on this key (shown on its admin page)."""
    return pending_changes(target_type=API_KEY_TARGET, target_id=api_key.pk, actions=(API_KEY_ISSUE, API_KEY_SCOPES))
