"""The one LLM client every feature shares (recommendations, lead extraction).

Callers ask `complete_json(...)` for structured output against a JSON schema and get the
parsed JSON with token usage, an estimated cost and the latency, or a clear `LlmUnavailable`
(the caller then answers with its rule engine). Everything that protects the bank and the
vendor lives here, once:

- retries: the openai client's own retries are off (max_retries=0); we retry 429, 5xx,
  timeouts and connection errors with exponential backoff and full jitter, honouring the
  vendor's Retry-After (bounded, so a "come back in an hour" gives up instead of hanging);
- circuit breaker: after FINPULSE_LLM_CIRCUIT_THRESHOLD consecutive failed attempts the
  circuit opens for FINPULSE_LLM_CIRCUIT_COOLDOWN_SECONDS and calls fail fast without any
  HTTP; then one probe call is let through (half-open) and its outcome closes or re-opens it;
- rate limit: a token bucket of FINPULSE_LLM_RATE_PER_MINUTE (bursts up to
  FINPULSE_LLM_BURST) shared by every process. A burst queues (the caller sleeps until its
  slot) for at most FINPULSE_LLM_RATE_MAX_WAIT_SECONDS instead of failing.

Breaker and bucket state live in Django's default cache (Redis, or the database cache in the
embedded default), so web and worker processes share them. Only atomic cache operations
decide (`add` is SET NX on Redis and an insert on the database cache). When the cache itself
is down (django-redis with IGNORE_EXCEPTIONS answers None) the limiter and breaker fail open:
the vendor's own limits still apply, and a cache outage must not switch the feature off.

Nothing here logs prompts or answers: they are the caller's to store (PII-free) for audit.
"""

from __future__ import annotations

import email.utils
import functools
import json
import logging
import math
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

_KEY = "finpulse:llm:"
_FAILURES = _KEY + "circuit:failures"
_OPEN_UNTIL = _KEY + "circuit:open-until"
_PROBE = _KEY + "circuit:probe"
_SLOT = _KEY + "bucket:slot:"
_CURSOR = _KEY + "bucket:cursor"

# Why a call did not produce an answer (stored beside a fallback so it is clear why).
NOT_CONFIGURED = "not_configured"
CIRCUIT_OPEN = "circuit_open"
RATE_LIMITED = "rate_limited"
FAILED = "llm_failed"
REJECTED = "llm_rejected"
MALFORMED = "malformed_output"


class LlmError(Exception):
    """The LLM gave no usable answer; `reason` is one of the constants above."""

    reason = FAILED

    def __init__(self, message: str, *, reason: str | None = None, usage: LlmUsage | None = None) -> None:
        super().__init__(message)
        self.reason = reason or self.reason
        # Tokens may have been spent even when the answer is useless: they are still billed.
        self.usage = usage or LlmUsage()


class LlmUnavailable(LlmError):
    """No answer: not configured, circuit open, rate limit queue full, or the vendor failed."""


class LlmMalformedOutput(LlmError):
    """The vendor answered, but not with JSON of the requested shape."""

    reason = MALFORMED


@dataclass(frozen=True)
class LlmUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    attempts: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost(self) -> Decimal:
        return estimate_cost(self.prompt_tokens, self.completion_tokens)


@dataclass(frozen=True)
class LlmResult:
    data: Any  # parsed JSON: its shape is the caller's schema, validated by the caller
    model: str
    usage: LlmUsage = field(default_factory=LlmUsage)


def estimate_cost(prompt_tokens: int, completion_tokens: int) -> Decimal:
    """Estimated vendor cost from the configured prices per 1,000 tokens (input, output)."""
    price_in = Decimal(str(settings.FINPULSE_LLM_PRICE_INPUT_PER_1K))
    price_out = Decimal(str(settings.FINPULSE_LLM_PRICE_OUTPUT_PER_1K))
    cost = (Decimal(prompt_tokens) * price_in + Decimal(completion_tokens) * price_out) / Decimal(1000)
    return cost.quantize(Decimal("0.000001"))


def llm_configured() -> bool:
    return bool(settings.OPENAI_API_KEY)


def model_name() -> str:
    return str(settings.OPENAI_MODEL)


# --- circuit breaker -----------------------------------------------------------------------


def circuit_state(now: float | None = None) -> str:
    """'closed', 'open' (failing fast) or 'half_open' (cool-down over: one probe may go)."""
    now = time.time() if now is None else now
    open_until = cache.get(_OPEN_UNTIL)
    if not open_until:
        return "closed"
    return "open" if float(open_until) > now else "half_open"


def llm_available() -> bool:
    """Configured and not failing fast: callers use it to decide between queueing and rules."""
    return llm_configured() and circuit_state() != "open"


def _enter_circuit() -> None:
    state = circuit_state()
    if state == "open":
        raise LlmUnavailable("The LLM circuit is open after repeated failures.", reason=CIRCUIT_OPEN)
    if state == "half_open":
        cooldown = int(settings.FINPULSE_LLM_CIRCUIT_COOLDOWN_SECONDS)
        # Only one caller probes; the others keep failing fast until the probe has answered.
        if cache.add(_PROBE, 1, timeout=max(cooldown, 1)) is False:
            raise LlmUnavailable("The LLM circuit is half-open and a probe is under way.", reason=CIRCUIT_OPEN)


def _record_success() -> None:
    cache.delete_many([_FAILURES, _OPEN_UNTIL, _PROBE])


def _record_failure() -> bool:
    """Count a failed attempt; True when this failure opened the circuit."""
    threshold = int(settings.FINPULSE_LLM_CIRCUIT_THRESHOLD)
    cooldown = int(settings.FINPULSE_LLM_CIRCUIT_COOLDOWN_SECONDS)
    # The counter forgets old failures: only a run of failures close together opens it.
    window = max(cooldown * 10, 60)
    cache.add(_FAILURES, 0, timeout=window)
    try:
        failures = cache.incr(_FAILURES)
    except ValueError:  # expired between add and incr
        cache.set(_FAILURES, 1, timeout=window)
        failures = 1
    if failures is None:  # the cache is down: fail open
        return False
    was_half_open = circuit_state() == "half_open"
    if failures >= threshold or was_half_open:
        cache.set(_OPEN_UNTIL, time.time() + cooldown, timeout=window)
        cache.delete(_PROBE)
        logger.warning("LLM circuit opened after %d consecutive failures (cool-down %ss).", failures, cooldown)
        return True
    return False


def reset_circuit() -> None:
    """Close the circuit by hand (operations, tests)."""
    _record_success()


# --- rate limit: a token bucket over cache slots ---------------------------------------------


def _acquire_slot(now: float | None = None) -> float:
    """Reserve a send slot; returns how long to wait before sending (seconds).

    Time is cut into slots of 60/rate seconds and each slot is claimed at most once
    (`cache.add`, atomic on every backend). Unclaimed slots of the last `burst` intervals are
    the bucket's saved tokens, so an idle client may burst; otherwise a caller takes the next
    free slot ahead and sleeps until it. Raises LlmUnavailable when no slot is free within
    FINPULSE_LLM_RATE_MAX_WAIT_SECONDS.
    """
    rate = max(int(settings.FINPULSE_LLM_RATE_PER_MINUTE), 1)
    burst = max(int(settings.FINPULSE_LLM_BURST), 1)
    max_wait = float(settings.FINPULSE_LLM_RATE_MAX_WAIT_SECONDS)
    interval = 60.0 / rate
    now = time.time() if now is None else now
    current = math.floor(now / interval)
    first = current - burst + 1
    cursor = cache.get(_CURSOR)
    if isinstance(cursor, int) and cursor > first:
        # A hint only: slots below it were taken (or given up) already.
        first = min(cursor, current + 1)
    last = current + math.ceil(max_wait / interval)
    ttl = math.ceil((burst + 2) * interval + max_wait) + 60
    for slot in range(first, last + 1):
        claimed = cache.add(f"{_SLOT}{slot}", 1, timeout=ttl)
        if claimed is None:  # the cache is down: fail open
            return 0.0
        if claimed:
            cache.set(_CURSOR, slot + 1, timeout=ttl)
            return max(0.0, slot * interval - now)
    raise LlmUnavailable(
        f"More LLM requests than the limit of {rate} a minute; the queue is full.", reason=RATE_LIMITED
    )


# --- the call ------------------------------------------------------------------------------


def _client() -> Any:
    # Added by the leads helper: one client per configuration per process. Building one loads
    # the CA bundle (~25 ms of CPU), which a campaign burst of thousands of lead extractions
    # paid on every call; the client is thread-safe and its connection pool is reused.
    return _client_for(settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL, float(settings.OPENAI_TIMEOUT))


@functools.lru_cache(maxsize=4)
def _client_for(api_key: str, base_url: str | None, timeout: float) -> Any:
    import openai  # imported lazily: pages that never call the LLM do not pay for it

    return openai.OpenAI(
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        max_retries=0,  # retries are ours (backoff, Retry-After, circuit), not the SDK's
    )


def _retry_after(response: Any) -> float | None:
    """Seconds the vendor asked us to wait (retry-after-ms, Retry-After seconds or HTTP date)."""
    headers = getattr(response, "headers", None) or {}
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _backoff(attempt: int) -> float:
    """Full jitter: a random wait up to base * 2^attempt, capped (spreads a thundering herd)."""
    base = float(settings.FINPULSE_LLM_BACKOFF_BASE_SECONDS)
    cap = float(settings.FINPULSE_LLM_BACKOFF_MAX_SECONDS)
    # Jitter, not a secret: the standard generator is right here.
    return random.uniform(0, min(cap, base * (2**attempt)))  # noqa: S311  # nosec B311


def _usage_of(completion: Any) -> tuple[int, int]:
    usage = getattr(completion, "usage", None)
    if usage is None:
        return 0, 0
    return int(getattr(usage, "prompt_tokens", 0) or 0), int(getattr(usage, "completion_tokens", 0) or 0)


def complete_json(
    *,
    system: str,
    user: str,
    schema_name: str,
    schema: dict[str, Any],
    max_tokens: int = 800,
    temperature: float = 0.2,
) -> LlmResult:
    """One chat completion with structured output (response_format json_schema, strict).

    Returns the parsed JSON object; raises LlmUnavailable (no answer) or LlmMalformedOutput
    (an answer that is not JSON). The caller validates the content against its own rules.
    """
    import openai

    if not llm_configured():
        raise LlmUnavailable("No LLM API key is configured.", reason=NOT_CONFIGURED)
    _enter_circuit()
    max_attempts = max(int(settings.FINPULSE_LLM_MAX_ATTEMPTS), 1)
    retry_after_cap = float(settings.FINPULSE_LLM_RETRY_AFTER_MAX_SECONDS)
    client = _client()
    model = model_name()
    started = time.monotonic()
    last_error = "no attempt made"
    for attempt in range(max_attempts):
        if attempt and circuit_state() == "open":
            raise LlmUnavailable("The LLM circuit opened while we were retrying.", reason=CIRCUIT_OPEN)
        wait = _acquire_slot()
        if wait:
            time.sleep(wait)
        try:
            completion = client.chat.completions.create(
                model=model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": schema_name, "schema": schema, "strict": True},
                },
                max_tokens=max_tokens,
                temperature=temperature,
            )
        except openai.RateLimitError as error:
            # Throttling is the vendor protecting itself, not a failure of it: no circuit count.
            delay = _retry_after(error.response)
            last_error = "rate limited (429)"
            if delay is not None and delay > retry_after_cap:
                raise LlmUnavailable(
                    f"The LLM asked us to wait {delay:.0f}s, longer than we wait.", reason=RATE_LIMITED
                ) from error
            if attempt + 1 < max_attempts:
                time.sleep(max(delay or 0.0, _backoff(attempt)))
            continue
        except (openai.APITimeoutError, openai.APIConnectionError) as error:
            last_error = "timed out" if isinstance(error, openai.APITimeoutError) else "connection failed"
        except openai.APIStatusError as error:
            if error.status_code < 500:
                # 400/401/403/404/422: our request or credentials; retrying cannot help.
                _record_failure()
                raise LlmUnavailable(f"The LLM rejected the request ({error.status_code}).", reason=REJECTED) from error
            last_error = f"server error ({error.status_code})"
            delay = _retry_after(error.response)
            if _record_failure():
                break
            if attempt + 1 < max_attempts:
                time.sleep(min(max(delay or 0.0, _backoff(attempt)), retry_after_cap))
            continue
        else:
            _record_success()
            prompt_tokens, completion_tokens = _usage_of(completion)
            usage = LlmUsage(
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                latency_ms=round((time.monotonic() - started) * 1000),
                attempts=attempt + 1,
            )
            return LlmResult(data=_parse(completion, usage), model=str(completion.model or model), usage=usage)
        # Timeouts and connection failures land here.
        if _record_failure():
            break
        if attempt + 1 < max_attempts:
            time.sleep(_backoff(attempt))
    raise LlmUnavailable(f"The LLM did not answer: {last_error}.", reason=FAILED)


def _parse(completion: Any, usage: LlmUsage) -> Any:
    choices = getattr(completion, "choices", None) or []
    if not choices:
        raise LlmMalformedOutput("The LLM answer had no choices.", usage=usage)
    choice = choices[0]
    if getattr(choice, "finish_reason", None) == "length":
        raise LlmMalformedOutput("The LLM answer was cut off at the token limit.", usage=usage)
    message = getattr(choice, "message", None)
    if getattr(message, "refusal", None):
        raise LlmMalformedOutput("The LLM refused to answer.", usage=usage)
    content = getattr(message, "content", None)
    if not isinstance(content, str) or not content.strip():
        raise LlmMalformedOutput("The LLM answer was empty.", usage=usage)
    try:
        return json.loads(content)
    except ValueError as error:
        raise LlmMalformedOutput("The LLM answer was not JSON.", usage=usage) from error
