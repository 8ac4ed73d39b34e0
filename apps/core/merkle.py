"""A Merkle tree over audit event hashes, as Certificate Transparency builds it (RFC 6962 2.1).

Leaf = SHA-256(0x00 || event hash), node = SHA-256(0x01 || left || right); a level with an odd
count carries its last node up unchanged, which gives exactly RFC 6962's tree (split at the
largest power of two below n). An inclusion proof is the list of sibling hashes from the leaf
to the root, each marked with the side it sits on, so an auditor can check one event with a
few lines of any language (docs/compliance.md shows them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def leaf_hash(event_hash: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + event_hash).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _next_level(level: Sequence[bytes]) -> list[bytes]:
    paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        paired.append(level[-1])
    return paired


def merkle_root(event_hashes: Sequence[bytes]) -> str:
    """Hex root over the events' hashes (raw 32-byte digests) in block order."""
    if not event_hashes:
        return EMPTY_ROOT
    level = [leaf_hash(h) for h in event_hashes]
    while len(level) > 1:
        level = _next_level(level)
    return level[0].hex()


@dataclass(frozen=True)
class ProofStep:
    side: str  # "left" or "right": where the sibling sits
    hash: str  # hex


def inclusion_proof(event_hashes: Sequence[bytes], position: int) -> list[ProofStep]:
    """The audit path of the leaf at `position` (0-based) in a tree over `event_hashes`."""
    if not 0 <= position < len(event_hashes):
        raise IndexError(position)
    level = [leaf_hash(h) for h in event_hashes]
    path: list[ProofStep] = []
    index = position
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(ProofStep("left" if sibling < index else "right", level[sibling].hex()))
        level = _next_level(level)
        index //= 2
    return path


def root_from_proof(event_hash: bytes, path: Sequence[ProofStep]) -> str:
    """Fold a proof: the root it leads to, to compare with the anchored one."""
    node = leaf_hash(event_hash)
    for step in path:
        sibling = bytes.fromhex(step.hash)
        node = node_hash(sibling, node) if step.side == "left" else node_hash(node, sibling)
    return node.hex()
