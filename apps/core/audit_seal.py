"""Seal committed audit events into blocks, anchor each block outside the database, verify it all.

Writers append events without a lock (apps.core.audit). The sealer puts them in a fixed order
only once that order can no longer change: an event is sealable when its writing transaction's
id (`txid`, xid8) is below `pg_snapshot_xmin(pg_current_snapshot())`, the oldest transaction
still running. Every transaction below that horizon has committed or rolled back, and every
transaction that starts later gets a larger id, so no event can ever appear below it again.
Blocks take those events in (txid, id) order after the previous block's last one; a
transaction that commits late with low ids is simply sealed later (docs/decisions.md).

A block stores its events' ids and hashes, their Merkle root (apps.core.merkle), the previous
block's seal and its own seal; the seal goes to the anchor store (apps.core.anchors) after the
block commits, and a run first anchors any block a crashed run left without one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.anchors import AnchorStore, anchor_store
from apps.core.audit import GENESIS_HASH, canonical_payload, compute_hash, verify_legacy_chain
from apps.core.merkle import ProofStep, inclusion_proof, merkle_root, root_from_proof
from apps.core.models import AuditBlock, AuditEvent

_SEALER_LOCK_ID = 0x46505F5345414C  # "FP_SEAL": one sealer at a time; writers never take it
HASH_BYTES = 32
Cursor = tuple[int, int]  # (txid, event id): the sealing order
START: Cursor = (-1, 0)  # before every event (legacy events have txid 0)

_EVENT_COLUMNS = (
    "id, occurred_at, actor_id, actor_label, action, object_type, object_id, customer_id, "
    "changes, metadata, request_id, prev_hash, hash, txid"
)


# The sealing horizon: the oldest transaction running in this statement's snapshot, leaving out
# transactions seen running in another database (they cannot write this table). A transaction
# of the snapshot that has ended by the time pg_stat_activity is read, or that this role may not
# see, is kept (the horizon only gets lower, never unsafe). Without other databases this is
# exactly pg_snapshot_xmin(pg_current_snapshot()).
HORIZON = """
SELECT COALESCE(min(running.xid), pg_snapshot_xmax(pg_current_snapshot()))
FROM pg_snapshot_xip(pg_current_snapshot()) AS running(xid)
WHERE NOT EXISTS (
    SELECT 1 FROM pg_stat_activity AS other
    WHERE other.datname IS DISTINCT FROM current_database()
      AND other.backend_xid::text = mod(running.xid::text::numeric, 4294967296)::text
)
"""


def _events_after(cursor: Cursor, *, limit: int, sealable_only: bool, until: Cursor | None = None) -> list[AuditEvent]:
    """Events after `cursor` in sealing order; only those below the horizon when `sealable_only`."""
    where = ["(txid, id) > (%s::text::xid8, %s)"]
    params: list[Any] = [str(max(cursor[0], 0)) if cursor[0] >= 0 else "0", cursor[1] if cursor[0] >= 0 else -1]
    if sealable_only:
        # One statement, one snapshot: the horizon and the rows come from the same instant.
        where.append(f"txid < ({HORIZON})")
    if until is not None:
        where.append("(txid, id) <= (%s::text::xid8, %s)")
        params += [str(until[0]), until[1]]
    sql = (
        f"SELECT {_EVENT_COLUMNS} FROM core_auditevent WHERE {' AND '.join(where)} "  # noqa: S608  # nosec B608 - fixed text, values are parameters
        "ORDER BY txid, id LIMIT %s"
    )
    return list(AuditEvent.objects.using(DEFAULT_DB_ALIAS).raw(sql, [*params, limit]))


def _cursor_of(block: AuditBlock | None) -> Cursor:
    return START if block is None else (block.last_txid, block.last_event)


def block_seal(*, index: int, prev_seal: str, root: str, count: int, first: Cursor, last: Cursor) -> str:
    text = f"finpulse-audit-block|{index}|{prev_seal}|{root}|{count}|{first[0]}:{first[1]}|{last[0]}:{last[1]}"
    return hashlib.sha256(text.encode()).hexdigest()


def anchor_content(block: AuditBlock) -> dict[str, Any]:
    return {
        "block": block.index,
        "seal": block.seal,
        "prev_seal": block.prev_seal,
        "merkle_root": block.merkle_root,
        "events": block.event_count,
        "first": [block.first_txid, block.first_event],
        "last": [block.last_txid, block.last_event],
        "sealed_at": block.sealed_at.isoformat(),
    }


def leaves_of(block: AuditBlock) -> list[bytes]:
    data = bytes(block.leaves)
    return [data[i : i + HASH_BYTES] for i in range(0, len(data), HASH_BYTES)]


def _anchor_missing(store: AnchorStore) -> int:
    """Anchor blocks a crashed run committed without an anchor (newest first, stop at one that has it)."""
    written = 0
    for block in AuditBlock.objects.order_by("-index").iterator():
        if store.get(block.index) is not None:
            break
        store.put(block.index, anchor_content(block))
        written += 1
    return written


def _seal_one(limit: int) -> AuditBlock | None:
    with transaction.atomic(using=DEFAULT_DB_ALIAS):
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SEALER_LOCK_ID])
        previous = AuditBlock.objects.order_by("-index").first()
        events = _events_after(_cursor_of(previous), limit=limit, sealable_only=True)
        if not events:
            return None
        hashes = [bytes.fromhex(event.hash) for event in events]
        root = merkle_root(hashes)
        index = 0 if previous is None else previous.index + 1
        prev_seal = GENESIS_HASH if previous is None else previous.seal
        first, last = (events[0].txid, events[0].pk), (events[-1].txid, events[-1].pk)
        return AuditBlock.objects.create(
            index=index,
            sealed_at=timezone.now(),
            first_txid=first[0],
            first_event=first[1],
            last_txid=last[0],
            last_event=last[1],
            event_count=len(events),
            event_ids=[event.pk for event in events],
            leaves=b"".join(hashes),
            merkle_root=root,
            prev_seal=prev_seal,
            seal=block_seal(index=index, prev_seal=prev_seal, root=root, count=len(events), first=first, last=last),
        )


def seal_pending(*, max_blocks: int | None = None, store: AnchorStore | None = None) -> list[AuditBlock]:
    """Seal every committed, unsealed event below the horizon into blocks and anchor them.

    Must run outside a transaction: an open transaction of its own would hold the horizon below
    its own events."""
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        raise RuntimeError("The audit sealer runs in transactions of its own, not inside another one.")
    store = store or anchor_store()
    _anchor_missing(store)
    sealed: list[AuditBlock] = []
    while max_blocks is None or len(sealed) < max_blocks:
        block = _seal_one(settings.FINPULSE_AUDIT_BLOCK_SIZE)
        if block is None:
            break
        store.put(block.index, anchor_content(block))
        sealed.append(block)
    return sealed


# ---- verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    kind: str  # "event", "block", "anchor", "gap"
    reason: str
    block: int | None = None
    event_id: int | None = None

    def __str__(self) -> str:
        where = []
        if self.block is not None:
            where.append(f"block {self.block}")
        if self.event_id is not None:
            where.append(f"event id {self.event_id}")
        return f"{', '.join(where) or self.kind}: {self.reason}"


@dataclass
class AuditReport:
    events: int = 0  # events checked
    blocks: int = 0
    anchors: int = 0
    unsealed: int = 0  # events after the last block (not anchored yet)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _events_between(after: Cursor, until: Cursor) -> Iterator[AuditEvent]:
    cursor = after
    while True:
        batch = _events_after(cursor, limit=5000, sealable_only=False, until=until)
        if not batch:
            return
        yield from batch
        cursor = (batch[-1].txid, batch[-1].pk)


def _check_block(block: AuditBlock, previous: AuditBlock | None, report: AuditReport) -> None:
    index = block.index
    findings = report.findings
    if previous is None:
        if index != 0:
            findings.append(Finding("block", f"blocks 0 to {index - 1} are missing (deleted)", block=index))
        elif block.prev_seal != GENESIS_HASH:
            findings.append(Finding("block", "the first block does not start from the genesis seal", block=index))
    elif index != previous.index + 1:
        missing = f"blocks {previous.index + 1} to {index - 1}" if index > previous.index + 2 else f"block {index - 1}"
        findings.append(Finding("block", f"{missing} missing (deleted) before it", block=index))
    elif block.prev_seal != previous.seal:
        findings.append(Finding("block", f"its link does not match block {previous.index}'s seal", block=index))
    leaves = leaves_of(block)
    first, last = (block.first_txid, block.first_event), (block.last_txid, block.last_event)
    if (
        len(leaves) != block.event_count
        or len(block.event_ids) != block.event_count
        or merkle_root(leaves) != block.merkle_root
        or block_seal(
            index=index,
            prev_seal=block.prev_seal,
            root=block.merkle_root,
            count=block.event_count,
            first=first,
            last=last,
        )
        != block.seal
    ):
        findings.append(
            Finding("block", "its content does not match its Merkle root or seal (the block was altered)", block=index)
        )
    sealed = dict(zip(block.event_ids, leaves, strict=False))
    seen: set[int] = set()
    start = (first[0], first[1] - 1)
    for event in _events_between(start, last):
        report.events += 1
        seen.add(event.pk)
        leaf = sealed.get(event.pk)
        if leaf is None:
            findings.append(
                Finding(
                    "event", "it lies inside the block's range but was not sealed in it (inserted)", index, event.pk
                )
            )
        elif compute_hash(event) != event.hash:
            findings.append(
                Finding(
                    "event", f"its content does not match its hash (action {event.action!r} altered)", index, event.pk
                )
            )
        elif event.hash != leaf.hex():
            findings.append(
                Finding(
                    "event",
                    f"its hash differs from the sealed one (action {event.action!r} rewritten and re-hashed)",
                    index,
                    event.pk,
                )
            )
    for event_id in block.event_ids:
        if event_id not in seen:
            findings.append(Finding("event", "it was sealed in this block but is missing (deleted)", index, event_id))


def _check_gap(after: Cursor, before: Cursor | None, report: AuditReport) -> int:
    """Events between two blocks belong to none (a block was deleted); after the last: unsealed."""
    count = 0
    for event in _events_between(after, before or (2**62, 2**62)):
        if before is not None and (event.txid, event.pk) == before:
            break
        count += 1
        report.events += 1
        if before is not None:
            report.findings.append(Finding("gap", "it belongs to no block (its block was deleted)", None, event.pk))
        elif compute_hash(event) != event.hash:
            report.findings.append(
                Finding("event", "its content does not match its hash (not sealed yet)", None, event.pk)
            )
    return count


def _check_anchors(blocks: dict[int, AuditBlock], store: AnchorStore, report: AuditReport) -> None:
    anchors = store.all()
    report.anchors = len(anchors)
    last_block = max(blocks) if blocks else -1
    for index, anchor in sorted(anchors.items()):
        block = blocks.get(index)
        if anchor.versions > 1:
            report.findings.append(
                Finding("anchor", f"its anchor was written {anchor.versions} times (overwritten)", block=index)
            )
        if block is None:
            state = "after the newest block (truncated)" if index > last_block else "(deleted)"
            report.findings.append(
                Finding("anchor", f"anchored in {store.location} but missing from the database {state}", block=index)
            )
        elif anchor.content != anchor_content(block):
            report.findings.append(
                Finding("anchor", "the block does not match its anchor (block or anchor altered)", block=index)
            )
    for index in sorted(set(blocks) - set(anchors)):
        report.findings.append(
            Finding("anchor", f"no anchor in {store.location} (not anchored, or the anchor was removed)", block=index)
        )


def verify_audit_trail(*, store: AnchorStore | None = None) -> AuditReport:
    """Check every event against its block, every block against the previous one and its anchor."""
    report = AuditReport()
    store = store or anchor_store()
    blocks: dict[int, AuditBlock] = {}
    previous: AuditBlock | None = None
    cursor = START
    for block in AuditBlock.objects.using(DEFAULT_DB_ALIAS).order_by("index").iterator(chunk_size=50):
        blocks[block.index] = block
        _check_gap(cursor, (block.first_txid, block.first_event), report)
        _check_block(block, previous, report)
        previous, cursor = block, (block.last_txid, block.last_event)
    report.blocks = len(blocks)
    report.unsealed = _check_gap(cursor, None, report)
    # Events from before blocks also keep their hash chain: a legacy break is named too.
    for chain_break in verify_legacy_chain():
        if not any(f.event_id == chain_break.event_id for f in report.findings):
            report.findings.append(Finding("event", chain_break.reason, None, chain_break.event_id))
    _check_anchors(blocks, store, report)
    return report


# ---- proof for one event ------------------------------------------------------------------------


def block_of(event: AuditEvent) -> AuditBlock | None:
    txid, pk = event.txid, event.pk
    after_first = Q(first_txid__lt=txid) | Q(first_txid=txid, first_event__lte=pk)
    before_last = Q(last_txid__gt=txid) | Q(last_txid=txid, last_event__gte=pk)
    return AuditBlock.objects.using(DEFAULT_DB_ALIAS).filter(after_first & before_last).first()


def event_proof(event: AuditEvent, *, store: AnchorStore | None = None) -> dict[str, Any]:
    """Everything an auditor needs to check one event without trusting our database."""
    block = block_of(event)
    if block is None or event.pk not in block.event_ids:
        raise LookupError(f"Event {event.pk} is not sealed yet (run manage.py seal_audit).")
    position = block.event_ids.index(event.pk)
    leaves = leaves_of(block)
    path = inclusion_proof(leaves, position)
    store = store or anchor_store()
    anchor = store.get(block.index)
    return {
        "event": {"id": event.pk, "canonical_json": canonical_payload(event), "hash": event.hash},
        "leaf_index": position,
        "tree_size": len(leaves),
        "path": [{"side": step.side, "hash": step.hash} for step in path],
        "merkle_root": block.merkle_root,
        "block": anchor_content(block),
        "anchor": {"location": store.location, "index": block.index, "content": anchor.content if anchor else None},
        "how_to_check": (
            "sha256(canonical_json) must equal event.hash; node = sha256(0x00 || event.hash bytes); for each "
            "step: node = sha256(0x01 || step.hash || node) when side is left, else sha256(0x01 || node || "
            "step.hash); node must equal merkle_root, and merkle_root must equal the anchor's merkle_root "
            "(read the anchor from the store yourself). See docs/compliance.md."
        ),
    }


def check_proof(proof: dict[str, Any]) -> bool:
    """The auditor's check, in code (docs/compliance.md has the same in a few lines)."""
    event = proof["event"]
    if hashlib.sha256(event["canonical_json"].encode()).hexdigest() != event["hash"]:
        return False
    steps: Sequence[ProofStep] = [ProofStep(step["side"], step["hash"]) for step in proof["path"]]
    root = root_from_proof(bytes.fromhex(event["hash"]), steps)
    anchored = (proof["anchor"].get("content") or {}).get("merkle_root")
    return root == proof["merkle_root"] == anchored
