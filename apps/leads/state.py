"""The lead state machine as an explicit table: which move is legal, and nothing else.

    new ──► qualifying ──► qualified ──────► assigned ──► converted
     │          │            │   ▲              │
     │          └──► needs_review ──────────────┤
     │                 │  ▲  │                  ▼
     └─────────────────┴──┴──┴───────────────► rejected

No boolean flags: the state column is the only truth, and every service moves it through
`check_transition`, which refuses anything not listed here with a message a person can act on.
"""

from __future__ import annotations

from apps.core.errors import Conflict
from apps.leads.models import Lead

S = Lead.State

TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.QUALIFYING, S.REJECTED}),
    # Extraction decides: confident and complete → qualified, otherwise a person looks.
    S.QUALIFYING: frozenset({S.QUALIFIED, S.NEEDS_REVIEW}),
    # A manager may still flag a qualified lead for review, or route it.
    S.QUALIFIED: frozenset({S.ASSIGNED, S.NEEDS_REVIEW, S.REJECTED}),
    # A reviewer approves (qualified), assigns directly, rejects, or sends it back to extraction.
    S.NEEDS_REVIEW: frozenset({S.QUALIFYING, S.QUALIFIED, S.ASSIGNED, S.REJECTED}),
    S.ASSIGNED: frozenset({S.CONVERTED, S.REJECTED}),
    S.CONVERTED: frozenset(),
    S.REJECTED: frozenset(),
}
OPEN_STATES = frozenset({S.NEW, S.QUALIFYING, S.QUALIFIED, S.NEEDS_REVIEW, S.ASSIGNED})
TERMINAL_STATES = frozenset({S.CONVERTED, S.REJECTED})


def is_legal(from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, frozenset())


def check_transition(from_state: str, to_state: str) -> None:
    """Raise Conflict naming both states and what would be allowed instead."""
    if is_legal(from_state, to_state):
        return
    label = dict(S.choices)
    allowed = sorted(label[s] for s in TRANSITIONS.get(from_state, frozenset()))
    hint = f" From there it can go to: {', '.join(allowed)}." if allowed else " That is a final state."
    raise Conflict(
        f"A lead cannot go from '{label.get(from_state, from_state)}' to '{label.get(to_state, to_state)}'.{hint}",
        field="state",
    )
