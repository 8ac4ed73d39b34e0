"""The four-eyes actions, registered by name by the app that owns each change.

An app registers its actions when it starts (its AppConfig.ready imports its `four_eyes`
module). Each action applies the change through that app's existing service, so the bank rule
and the audit event of the change itself stay where they were; this app adds only the
proposal, the second person and the expiry around it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apps.core.errors import DomainError

if TYPE_CHECKING:
    from apps.approvals.models import ChangeRequest
    from apps.identity.models import User


def _nobody_else(user: User, change: ChangeRequest) -> bool:
    return bool(user.is_administrator)


@dataclass(frozen=True)
class FourEyesAction:
    """One kind of change that needs a second person.

    - `apply(change)` makes the change through the owning service, acting as the maker (whose
      right to make it is checked again at that moment); it runs inside the approval's
      transaction, so a refusal leaves the request pending and nothing applied.
    - `may_approve(user, change)` says who, besides "not the maker", may approve it.
    - `describe(payload)` is the one-line summary shown where the change will apply.
    - `dry_run`: at proposal, apply the change in a savepoint and roll it back, so a change the
      service would refuse is refused now, not when the checker approves.
    """

    name: str
    label: str
    apply: Callable[[ChangeRequest], Any]
    describe: Callable[[Mapping[str, Any]], str]
    may_approve: Callable[[User, ChangeRequest], bool] = _nobody_else
    dry_run: bool = True


_ACTIONS: dict[str, FourEyesAction] = {}


def register(action: FourEyesAction) -> FourEyesAction:
    """Add an action (idempotent for the same name: a module imported twice registers once)."""
    _ACTIONS[action.name] = action
    return action


def action_named(name: str) -> FourEyesAction:
    try:
        return _ACTIONS[name]
    except KeyError:
        raise DomainError(f"There is no four-eyes action called {name!r}.") from None


def registered_actions() -> dict[str, FourEyesAction]:
    return dict(_ACTIONS)
