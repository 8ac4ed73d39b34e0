"""Record audit events, and check each one against its own hash.

Every service calls `record_audit_event` inside its transaction. Writers take no lock and read
no chain head: each event carries the hash of its own content, and its transaction's commit
decides when it becomes visible. The sealer (apps.core.audit_seal) later puts committed events
into blocks with a Merkle root, chained block to block and anchored outside the database.
Events written before blocks existed also carry a hash chain (`prev_hash`), still checked here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction
from django.utils import timezone

from apps.core.bulk import copy_insert
from apps.core.errors import DomainError
from apps.core.masking import mask_value
from apps.core.models import AuditEvent
from apps.core.request_context import current_request_id

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

GENESIS_HASH = "0" * 64
SYSTEM_ACTOR = "system"
COPY_FROM = 100  # events per call from which COPY beats one INSERT (imports, bulk assignment)


@dataclass
class AuditEntry:
    """One event to record; `record_audit_events` writes many in one statement."""

    action: str
    actor: AbstractBaseUser | None = None  # a User, or None for the system (beat, imports without a user)
    target: models.Model | None = None
    customer_id: int | None = None
    # For bulk paths that know the object by label and id without loading it.
    object_type: str = ""
    object_id: str | int = ""
    changes: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)


# Built once: json.dumps with options builds a new encoder per call (bulk paths call it a lot).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
_PLAIN = json.JSONEncoder(separators=(",", ":"), default=str, ensure_ascii=False)


def _canonical(value: Any) -> str:
    return _CANONICAL.encode(value)


def hash_payload(event: AuditEvent) -> dict[str, Any]:
    """What an event's hash covers (also what `audit_proof` hands to an auditor)."""
    return {
        "prev": event.prev_hash,
        "at": event.occurred_at.isoformat(),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "customer": event.customer_id,
        "changes": event.changes,
        "metadata": event.metadata,
        "request": event.request_id,
    }


def canonical_payload(event: AuditEvent) -> str:
    return _canonical(hash_payload(event))


def compute_hash(event: AuditEvent) -> str:
    """SHA-256 of the event's canonical JSON (with `prev` blank for events since blocks)."""
    return hashlib.sha256(canonical_payload(event).encode()).hexdigest()


def _customer_id_of(target: models.Model | None) -> int | None:
    if target is None:
        return None
    if target._meta.label == "customers.Customer":
        return target.pk
    return getattr(target, "customer_id", None)


def _jsonable(value: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(_PLAIN.encode(dict(value)))  # JSON types only, as they will read back


def _build(entry: AuditEntry, now: Any, request_id: str) -> AuditEvent:
    actor = entry.actor if getattr(entry.actor, "pk", None) else None
    target = entry.target
    return AuditEvent(
        occurred_at=now,
        actor=actor,
        actor_label=actor.get_username() if actor else SYSTEM_ACTOR,
        action=entry.action,
        object_type=target._meta.label_lower if target is not None else entry.object_type,
        object_id=str(target.pk) if target is not None and target.pk is not None else str(entry.object_id),
        customer_id=entry.customer_id if entry.customer_id is not None else _customer_id_of(target),
        changes=_jsonable(entry.changes),
        metadata=_jsonable(entry.metadata),
        request_id=request_id,
    )


def _hashed(entries: Iterable[AuditEntry]) -> list[AuditEvent]:
    """The events, built and each hashed over its own content (blank `prev`: events since blocks)."""
    now = timezone.now()
    request_id = current_request_id()
    events = [_build(entry, now, request_id) for entry in entries]
    for event in events:
        event.prev_hash = ""
        event.hash = compute_hash(event)
    return events


def record_audit_events(entries: Iterable[AuditEntry]) -> list[AuditEvent]:
    """Append events in one statement, without waiting on any other writer (bulk paths use this directly)."""
    if not connection.in_atomic_block:
        raise RuntimeError("Audit events are recorded inside the service's transaction.")
    events = _hashed(entries)
    if not events:
        return []
    if len(events) >= COPY_FROM:
        copy_insert(events)
        return events
    return AuditEvent.objects.bulk_create(events)


def record_audit_event(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    target: models.Model | None = None,
    customer_id: int | None = None,
    changes: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> AuditEvent:
    entry = AuditEntry(
        action=action,
        actor=actor,
        target=target,
        customer_id=customer_id,
        changes=changes or {},
        metadata=metadata or {},
    )
    return record_audit_events([entry])[0]


def record_read_event(
    *, actor: AbstractBaseUser | None, action: str, target: models.Model, metadata: Mapping[str, Any] | None = None
) -> AuditEvent:
    """A read a regulator asks about (a customer's page opened): its one event, in one statement.

    A read writes nothing else, so there is nothing for the event to commit with: outside a
    transaction its INSERT is a transaction of its own (autocommit), without the BEGIN and COMMIT
    round trips of `atomic()` around it; inside one (a test's, a service's) it joins it. Either
    way the event carries the id of the transaction that wrote it (`txid`, the column's default)
    and is sealed once that transaction has ended, as every event is (decision 78)."""
    (event,) = _hashed([AuditEntry(action=action, actor=actor, target=target, metadata=metadata or {})])
    # One model's save() sends one INSERT and opens no transaction (Django wraps only multi-table saves).
    event.save(force_insert=True)
    return event


def hand_over_rows(
    rows: models.QuerySet[Any],
    *,
    field: str,
    to: AbstractBaseUser,
    actor: AbstractBaseUser | None,
    action: str,
    reason: str,
    **also: Any,
) -> int:
    """Point `field` of these rows (each with a customer) at `to`, one audit event per row moved.

    Rows already at `to` are left alone; the others are locked, updated in one statement (with
    `also`, e.g. updated_at) and recorded as `action` with the person before and after.
    """
    moved = list(rows.exclude(**{field: to}).select_for_update().values_list("pk", "customer_id", f"{field}_id"))
    if not moved:
        return 0
    rows.model._default_manager.filter(pk__in=[pk for pk, _, _ in moved]).update(**{field: to}, **also)
    label = rows.model._meta.label_lower
    record_audit_events(
        AuditEntry(
            action=action,
            actor=actor,
            customer_id=customer_id,
            object_type=label,
            object_id=pk,
            changes={field: [before, to.pk]},
            metadata={"reason": reason},
        )
        for pk, customer_id, before in moved
    )
    return len(moved)


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in fields}


def change_set(before: Mapping[str, Any], after: Mapping[str, Any], *, pii: Iterable[str] = ()) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that changed; PII values are redacted."""
    pii = set(pii)
    changed = {}
    for name, new in after.items():
        old = before.get(name)
        if old != new:
            changed[name] = [mask_value(old), mask_value(new)] if name in pii else [old, new]
    return changed


@dataclass
class ChainBreak:
    event_id: int
    reason: str
    action: str = ""


@dataclass
class ChainReport:
    verified: int  # rows checked
    broken: int  # rows that did not verify
    first_break: ChainBreak | None


def _walk_chain(batch_size: int, counter: list[int], *, legacy_only: bool = False) -> Iterator[ChainBreak]:
    expected_prev = GENESIS_HASH
    previous_id: int | None = None
    last_id = 0
    events = AuditEvent.objects.exclude(prev_hash="") if legacy_only else AuditEvent.objects.all()
    while True:
        batch = list(events.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return
        for event in batch:
            counter[0] += 1
            if not event.prev_hash:  # since blocks: no link, the event's own hash (blocks do the rest)
                if compute_hash(event) != event.hash:
                    yield ChainBreak(
                        event.pk, "its content does not match its hash (the row was altered)", event.action
                    )
                last_id = event.pk
                continue
            if event.prev_hash != expected_prev:
                before = f"row {previous_id}" if previous_id is not None else "the start of the chain"
                yield ChainBreak(
                    event.pk,
                    f"its previous-hash link does not match {before} (a row before it was removed or altered)",
                    event.action,
                )
            elif compute_hash(event) != event.hash:
                yield ChainBreak(event.pk, "its content does not match its hash (the row was altered)", event.action)
            expected_prev = event.hash
            previous_id = last_id = event.pk


def verify_chain(batch_size: int = 5000) -> Iterator[ChainBreak]:
    """Yield every row whose own hash (or, before blocks, chain link) does not match, first one first.

    Rows only: blocks and anchors, which catch deleted and re-hashed rows, are checked by
    `apps.core.audit_seal.verify_audit_trail`."""
    yield from _walk_chain(batch_size, [0])


def verify_legacy_chain(batch_size: int = 5000) -> Iterator[ChainBreak]:
    """The hash chain of the events written before blocks (their link and their hash)."""
    yield from _walk_chain(batch_size, [0], legacy_only=True)


def check_chain(batch_size: int = 5000) -> ChainReport:
    """Walk the whole chain: how many rows, how many bad, and the first bad one."""
    counter = [0]
    breaks = list(_walk_chain(batch_size, counter))
    return ChainReport(verified=counter[0], broken=len(breaks), first_break=breaks[0] if breaks else None)


REVEAL_REASON_MAX_LENGTH = 200


def clean_reveal_reason(reason: str | None) -> str:
    """The one rule for every path that shows personal data in clear (one field, all fields, the
    API, an export, a lead): a reason, kept in the audit trail. Blank or whitespace is refused."""
    text = " ".join((reason or "").split())
    if not text:
        raise DomainError("Give a reason for revealing personal data (it is kept in the audit trail).", field="reason")
    if len(text) > REVEAL_REASON_MAX_LENGTH:
        raise DomainError(f"Keep the reason under {REVEAL_REASON_MAX_LENGTH} characters.", field="reason")
    return text


@transaction.atomic
def record_pii_reveal(
    *, actor: AbstractBaseUser | None, target: models.Model, fields: Iterable[str], reason: str
) -> AuditEvent:
    """Reading a revealed PII value is itself an audit event, and always says why."""
    reason = clean_reveal_reason(reason)
    return record_audit_event(
        actor=actor, action="pii.revealed", target=target, metadata={"fields": sorted(fields), "reason": reason}
    )
