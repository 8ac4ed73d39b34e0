"""Readiness checks for /readyz: database, cache, broker and storage, each with a short timeout.

Liveness (/healthz) does no I/O at all: a process that answers is alive, and restarting web
containers because the database is down would only make an outage worse. Readiness asks
each dependency once, all at the same time, and gives up on any that takes longer than
FINPULSE_READYZ_TIMEOUT_SECONDS, so a load balancer stops sending traffic to a container
that cannot serve and sends it again when it can. Details of a failure go to the log, never
to the (public) answer, which names only the check and the kind of error.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connections

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    milliseconds: int
    error: str = ""


def _timeout() -> float:
    return float(settings.FINPULSE_READYZ_TIMEOUT_SECONDS)


def check_database() -> None:
    """A new connection of its own (never the request's), so a probe cannot disturb a request."""
    wrapper = connections["default"]
    params = {**wrapper.get_connection_params(), "connect_timeout": max(1, round(_timeout()))}
    raw = wrapper.get_new_connection(params)
    try:
        with raw.cursor() as cursor:
            # set_config, not SET: SET takes no bound parameter, and parameters are bound by the server.
            cursor.execute("SELECT set_config('statement_timeout', %s, false)", [str(int(_timeout() * 1000))])
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        raw.close()


def check_cache() -> None:
    """Redis answers PING (the cache itself swallows Redis errors, so ask the client directly)."""
    from django.core.cache import caches
    from django_redis.cache import RedisCache

    cache = caches["default"]
    if isinstance(cache, RedisCache):
        from django_redis import get_redis_connection

        get_redis_connection("default").ping()
        return
    # The database cache: its table answers.
    cache.get("finpulse:readyz")


def check_broker() -> None:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = settings.CELERY_BROKER_DIR / "out"
        if not folder.is_dir():
            raise FileNotFoundError("broker folder")
        return
    from kombu import Connection

    with Connection(url, connect_timeout=_timeout()) as connection:
        connection.ensure_connection(max_retries=1, timeout=_timeout())


def check_storage() -> None:
    """The bucket answers (HEAD) or the media folder exists, without writing anything."""
    if not settings.FINPULSE_STORAGE_BUCKET:
        root = settings.MEDIA_ROOT
        root.mkdir(parents=True, exist_ok=True, mode=0o750)
        if not root.is_dir():
            raise FileNotFoundError("media root")
        return
    client = _s3_client(settings.FINPULSE_STORAGE_ENDPOINT_URL, settings.AWS_DEFAULT_REGION, _timeout())
    client.head_bucket(Bucket=default_storage.bucket_name)  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=4)
def _s3_client(endpoint_url: str, region: str, timeout: float) -> Any:  # Any: boto3 clients are generated
    """One client per process (creating one costs hundreds of milliseconds), no retries, short timeouts."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        config=Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": 1},
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        ),
    )


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "storage": check_storage,
}


def _timed(name: str, check: Callable[[], None]) -> CheckResult:
    started = time.monotonic()
    try:
        check()
    except Exception as error:  # any failure means "not ready"; logged, not hidden
        logger.warning("Readiness check %s failed: %s", name, error)
        return CheckResult(name, False, int((time.monotonic() - started) * 1000), type(error).__name__)
    return CheckResult(name, True, int((time.monotonic() - started) * 1000))


def run_readiness_checks() -> list[CheckResult]:
    """Every check at once; one that has not answered within the timeout counts as failed."""
    deadline = _timeout() + 0.5
    pool = ThreadPoolExecutor(max_workers=len(READINESS_CHECKS), thread_name_prefix="readyz")
    try:
        futures = {name: pool.submit(_timed, name, check) for name, check in READINESS_CHECKS.items()}
        started = time.monotonic()
        results = []
        for name, future in futures.items():
            try:
                results.append(future.result(timeout=max(0.0, deadline - (time.monotonic() - started))))
            except FutureTimeout:
                logger.warning("Readiness check %s timed out after %.1f s.", name, deadline)
                results.append(CheckResult(name, False, int(deadline * 1000), "Timeout"))
        return results
    finally:
        # A hung check's thread ends on its own client timeout; the answer does not wait for it.
        pool.shutdown(wait=False, cancel_futures=True)
