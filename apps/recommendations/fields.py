"""The advice record's field lists, declared once: the service's cache, the admin and the API
build on them."""

from __future__ import annotations

# Who answered: the LLM (which model, which prompt version) or the rule engine, and why it stood in.
ORIGIN_FIELDS = ("source", "fallback_reason", "model", "prompt_version")
# The advice itself, and the items validation dropped (with the reason).
ADVICE_FIELDS = ("items", "dropped_items")
# What the answer cost: time and the LLM's tokens and price (zero from the rule engine).
COST_FIELDS = ("latency_ms", "prompt_tokens", "completion_tokens", "cost")
