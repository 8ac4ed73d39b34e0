"""Validating what the LLM answered: only eligible candidates, well-formed, no promises.

The LLM never decides eligibility. An item naming a product we do not know, or one the rules
did not offer this customer, is dropped and counted; so is an item that promises outcomes.
An answer that is not an object with a list of items is malformed: the caller falls back to
the rule engine. A rationale repeating an earlier item's is replaced by the engine's reason
for that product (reasons are distinct per item). The rules each item passed come from the engine, never from the LLM.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from apps.recommendations.prompts import RATIONALE_MAX_CHARS
from apps.recommendations.rules import Candidate, item_of

UNKNOWN_PRODUCT = "unknown_product"
NOT_ELIGIBLE = "not_eligible"
DUPLICATE = "duplicate"
MALFORMED_ITEM = "malformed_item"
PROMISSORY = "promissory_wording"
OVER_LIMIT = "over_limit"

# Wording a bank must not put in front of a customer, even via a manager.
_PROMISSORY = re.compile(r"\b(guarantee[ds]?|guaranteeing|risk[- ]free|can(?:no|')t lose|assured returns?)\b", re.I)


class MalformedAnswer(ValueError):
    """The answer is not of the requested shape at all."""


@dataclass(frozen=True)
class ValidatedAnswer:
    items: list[dict[str, Any]]
    dropped: list[dict[str, str]]


def _normalised(text: str) -> str:
    return " ".join(text.lower().split()).rstrip(".")


def _code_of(raw: Any) -> str:
    return str(raw.get("product_code", ""))[:64] if isinstance(raw, dict) else ""


def validate_answer(
    data: Any, *, found: Sequence[Candidate], known_codes: Collection[str], max_items: int
) -> ValidatedAnswer:
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise MalformedAnswer("The answer is not an object with a list of items.")
    by_code = {candidate.code: candidate for candidate in found}
    accepted: list[tuple[int, int, Candidate, str, float]] = []
    dropped: list[dict[str, str]] = []
    seen: set[str] = set()
    said: set[str] = set()
    for position, raw in enumerate(data["items"]):
        code = _code_of(raw)
        if not isinstance(raw, dict) or not code:
            dropped.append({"product_code": code, "reason": MALFORMED_ITEM})
            continue
        if code not in by_code:
            dropped.append({"product_code": code, "reason": NOT_ELIGIBLE if code in known_codes else UNKNOWN_PRODUCT})
            continue
        if code in seen:
            dropped.append({"product_code": code, "reason": DUPLICATE})
            continue
        rank, rationale, confidence = raw.get("rank"), raw.get("rationale"), raw.get("confidence")
        well_formed = (
            isinstance(rank, int)
            and not isinstance(rank, bool)
            and isinstance(rationale, str)
            and rationale.strip()
            and isinstance(confidence, int | float)
            and not isinstance(confidence, bool)
            and math.isfinite(confidence)
            and 0 <= confidence <= 1
        )
        if not well_formed:
            dropped.append({"product_code": code, "reason": MALFORMED_ITEM})
            continue
        if _PROMISSORY.search(rationale):
            dropped.append({"product_code": code, "reason": PROMISSORY})
            continue
        seen.add(code)
        rationale = rationale.strip()[:RATIONALE_MAX_CHARS]
        if _normalised(rationale) in said:
            # One reason given for two products tells the manager nothing about the second:
            # it gets the engine's own reason for it (the fact that ranked it).
            rationale = by_code[code].reason or rationale
        said.add(_normalised(rationale))
        accepted.append((rank, position, by_code[code], rationale, float(confidence)))
    accepted.sort(key=lambda entry: (entry[0], entry[1]))
    for _, _, candidate, _, _ in accepted[max_items:]:
        dropped.append({"product_code": candidate.code, "reason": OVER_LIMIT})
    items = [
        item_of(candidate, rank=rank, rationale=rationale, confidence=round(confidence, 3))
        for rank, (_, _, candidate, rationale, confidence) in enumerate(accepted[:max_items], start=1)
    ]
    return ValidatedAnswer(items=items, dropped=dropped)
