"""The prompt, its version and the JSON schema of the answer.

Bump PROMPT_VERSION whenever the wording or the schema changes: it is part of the profile
hash, so cached advice from an older prompt is not served as if the new one had produced it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apps.recommendations.hashing import canonical_json
from apps.recommendations.rules import Candidate

PROMPT_VERSION = "reco-2026-12-v2"
RATIONALE_MAX_CHARS = 400

SYSTEM_PROMPT = """You help a bank's relationship managers prepare for a conversation with a customer.
You receive a profile of the customer (coarse facts only) and a list of candidate products the
bank's rules already found the customer eligible for.

Rules you must follow:
- Your advice is for the relationship manager, not for the customer. Never address the
  customer, never write "you should", and never tell anyone to buy, sell or act.
- Never promise, guarantee or predict returns, rates, approval, savings or outcomes. Do not
  call any product risk-free or suitable; the manager assesses suitability.
- Only choose products from the candidate list and use their exact product_code.
- Choose at most {max_items} products, ranked from 1 (discuss first), each with a short,
  factual rationale (at most {max_chars} characters) and a confidence between 0 and 1 that the
  product is worth discussing. The candidates come ranked by fit (rule_score).
- Each rationale states, in the customer's terms, the fact that makes that product relevant:
  start from the candidate's why_it_fits (amount, currency, date, rate as given there). No two
  rationales may be the same; never reuse one reason for several products.
- Answer only with JSON matching the schema.
"""


def system_prompt(*, max_items: int) -> str:
    return SYSTEM_PROMPT.format(max_items=max_items, max_chars=RATIONALE_MAX_CHARS)


def user_prompt(*, snapshot: dict[str, Any], found: Sequence[Candidate], max_items: int) -> str:
    return canonical_json(
        {
            "task": f"Rank up to {max_items} candidate products for the manager to discuss.",
            "customer_profile": snapshot,
            "candidates": [candidate.as_prompt() for candidate in found],
        }
    )


def response_schema(*, codes: Sequence[str], max_items: int) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["items"],
        "properties": {
            "items": {
                "type": "array",
                "maxItems": max_items,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["product_code", "rank", "rationale", "confidence"],
                    "properties": {
                        "product_code": {"type": "string", "enum": list(codes)},
                        "rank": {"type": "integer", "minimum": 1, "maximum": max_items},
                        "rationale": {"type": "string", "maxLength": RATIONALE_MAX_CHARS},
                        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                    },
                },
            }
        },
    }
