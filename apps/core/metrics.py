"""Prometheus metrics at /metrics: django-prometheus's request and cache metrics, our query
counters per database alias, and gauges read from shared state when scraped.

Everything a scrape reports is the same whichever web process answers: request, query and
fallback counters are per process and summed over gunicorn's workers through
prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by
config/gunicorn.conf.py); the operational gauges (queue depth, outbox, beat lock holder, task
failures counted by the workers) are read from RabbitMQ, PostgreSQL and the cache at scrape
time. /metrics answers only with FINPULSE_METRICS_TOKEN as a bearer token, or, without a
token configured, only to the addresses in FINPULSE_METRICS_ALLOWED_IPS.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.backends.signals import connection_created
from django.http import HttpRequest
from django_prometheus.middleware import PrometheusAfterMiddleware
from django_prometheus.utils import Time
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

logger = logging.getLogger(__name__)

QUERIES = Counter("finpulse_db_queries", "SQL statements executed, by database alias.", ["alias"])
QUERY_ERRORS = Counter("finpulse_db_query_errors", "SQL statements that raised, by database alias.", ["alias"])
QUERY_SECONDS = Histogram(
    "finpulse_db_query_seconds",
    "Time spent in SQL statements, by database alias.",
    ["alias"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0),
)
REPLICA_FALLBACKS = Counter(
    "finpulse_db_replica_fallbacks", "Reads sent to the primary because the replica was unreachable."
)
TASK_FAILURES_KEY = "finpulse:metrics:celery_task_failures"


# -- access ------------------------------------------------------------------------------------


def metrics_allowed(request: HttpRequest) -> bool:
    """Bearer FINPULSE_METRICS_TOKEN when one is set; otherwise only the allow-listed addresses."""
    token = settings.FINPULSE_METRICS_TOKEN
    if token:
        offered = request.headers.get("Authorization", "")
        return offered.startswith("Bearer ") and hmac.compare_digest(offered[7:].encode(), token.encode())
    return request.META.get("REMOTE_ADDR", "") in settings.FINPULSE_METRICS_ALLOWED_IPS


# -- query counters ----------------------------------------------------------------------------


def _count_queries(alias: str) -> Callable[..., Any]:
    # The alias's series, looked up once per connection rather than twice per statement.
    queries, errors, seconds = QUERIES.labels(alias), QUERY_ERRORS.labels(alias), QUERY_SECONDS.labels(alias)

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        except Exception:
            errors.inc()
            raise
        finally:
            queries.inc()
            seconds.observe(time.perf_counter() - started)

    wrapper.finpulse_metrics = True  # type: ignore[attr-defined]
    return wrapper


def _install_query_counter(sender: Any, connection: Any, **kwargs: Any) -> None:
    if not any(getattr(w, "finpulse_metrics", False) for w in connection.execute_wrappers):
        connection.execute_wrappers.append(_count_queries(connection.alias))


def install_query_counters() -> None:
    """Count every statement per alias (primary, replica) on every new connection."""
    connection_created.connect(_install_query_counter, dispatch_uid="finpulse_query_metrics")


# -- request counters ---------------------------------------------------------------------------


class RequestMetricsMiddleware(PrometheusAfterMiddleware):
    """django-prometheus's request metrics; each labelled series is looked up once per process.

    django-prometheus asks prometheus_client for a labelled series (`labels()`: its names sorted
    and checked, the values made text, a lock) about ten times a request, always among the same
    few (view, method, status). A series, once made, is the same object for the process's life,
    so it is remembered here under its metric and label values (decision 162): the metrics and
    their values at /metrics are unchanged.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._series: dict[tuple[Any, ...], Any] = {}

    def process_request(self, request: Any) -> None:
        """django-prometheus's, the two headers read from META (decision 184): its `request.headers`
        built the mapping of every header (~20 us) on requests where nothing else asks for it."""
        self.label_metric(self.metrics.requests_by_method, request, method=self._method(request)).inc()
        self.label_metric(self.metrics.requests_by_transport, request, transport=self._transport(request)).inc()
        # Mimic the behaviour of the deprecated "Request.is_ajax()" method (as django-prometheus).
        if request.META.get("HTTP_X_REQUESTED_WITH") == "XMLHttpRequest":
            self.label_metric(self.metrics.requests_ajax, request).inc()
        content_length = int(request.META.get("CONTENT_LENGTH") or 0)
        self.label_metric(self.metrics.requests_body_bytes, request).observe(content_length)
        request.prometheus_after_middleware_event = Time()

    def label_metric(self, metric: Any, request: Any, response: Any = None, **labels: Any) -> Any:
        if not labels:
            return metric
        key = (metric, *labels.items())
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = metric.labels(**labels)
        return series


# -- task failures (counted by workers, read by the web) ---------------------------------------


def count_task_failure(task_name: str) -> None:
    """Called by the workers' task_failure signal: a shared count the web's /metrics can read."""
    try:
        cache.add(TASK_FAILURES_KEY, 0, timeout=None)
        cache.incr(TASK_FAILURES_KEY)
    except ValueError:  # evicted between add and incr
        cache.set(TASK_FAILURES_KEY, 1, timeout=None)
    logger.warning("Celery task %s failed.", task_name)


# -- gauges read at scrape time ----------------------------------------------------------------


def _queue_depth() -> Iterator[Metric]:
    gauge = GaugeMetricFamily("finpulse_celery_queue_depth", "Messages waiting in the Celery queue.", labels=["queue"])
    url = settings.CELERY_BROKER_URL
    for queue in (settings.FINPULSE_CELERY_QUEUE, f"{settings.FINPULSE_CELERY_QUEUE}.dead"):
        if url.startswith("filesystem://"):
            if queue.endswith(".dead"):
                continue
            folder = settings.CELERY_BROKER_DIR / "out"
            depth = sum(1 for entry in folder.iterdir() if entry.name.endswith(".msg")) if folder.is_dir() else 0
        else:
            from kombu import Connection

            with Connection(url, connect_timeout=2) as connection:
                try:
                    _, depth, _ = connection.default_channel.queue_declare(queue=queue, passive=True)
                except connection.channel_errors:  # the queue is not declared yet
                    depth = 0
        gauge.add_metric([queue], depth)
    yield gauge


def _task_failures() -> Iterator[Metric]:
    yield CounterMetricFamily(
        "finpulse_celery_task_failures",
        "Celery tasks that raised, over all workers.",
        cache.get(TASK_FAILURES_KEY) or 0,
    )


# Each app adds the gauges it owns from its AppConfig.ready() (notifications: the outbox;
# alerts: the beat lock), so core reads no other app's tables.
SOURCES: dict[str, Callable[[], Iterator[Metric]]] = {
    "queue": _queue_depth,
    "task_failures": _task_failures,
}


class OperationsCollector:
    """Operational gauges, read when scraped; a source that fails is reported, not fatal."""

    def collect(self) -> Iterator[Metric]:
        errors = GaugeMetricFamily(
            "finpulse_metrics_source_up", "1 when the source answered this scrape.", labels=["source"]
        )
        for name, source in SOURCES.items():
            try:
                metrics = list(source())
            except Exception as error:  # a dead broker must not hide the other metrics
                logger.warning("Metrics source %s failed: %s", name, error)
                errors.add_metric([name], 0)
                continue
            errors.add_metric([name], 1)
            yield from metrics
        yield errors


def render_metrics() -> bytes:
    """The exposition text: this process (or every worker, in multiprocess mode) plus the gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessRegistry())
    registry.register(OperationsCollector())
    return generate_latest(registry)


class _ProcessRegistry:
    """This process's default registry (django-prometheus and ours), inside a per-scrape registry."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
