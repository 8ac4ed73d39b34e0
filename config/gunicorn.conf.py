"""gunicorn settings; every value can be overridden by the environment.

Graceful operation (docs/operations.md): on SIGTERM (ECS stopping a task, a rolling deploy)
the master stops accepting connections and each worker finishes the requests it holds for
up to GUNICORN_GRACEFUL_TIMEOUT seconds before it is killed. The container's stop timeout
(ECS `stopTimeout`) must be longer than that, and the load balancer's deregistration delay at
least as long, so no request is cut.
"""

import os
import shutil
import tempfile

bind = os.environ.get("FINPULSE_BIND", "127.0.0.1:8000")
# Measured on 2 cores with benchmarks/capacity_bench.py (README, decision 125): 4 processes × 2
# threads serve more than 2 × 4 (75.9 against 66.1 req/s at 500 users, p95 490 ms against 2.8 s,
# 15 against 20 ms of CPU per request): threads of one process take turns on the GIL while a page
# renders, so CPU-bound pages want processes; two threads each keep a core busy while the other
# waits on the database. About two processes per core; database connections = workers × threads.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
threads = int(os.environ.get("WEB_THREADS", "2"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
# Longer than the load balancer's idle timeout (ALB: 60 s), or it may reuse a connection we closed (502).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
# Worker recycling is off by default: a gthread worker restarting after max_requests drops a request
# that arrived on an idle keep-alive connection (gunicorn issue #3038, still open), which the capacity
# benchmark saw as one reset connection per restart, and a load balancer would answer 502. A slow leak
# is bounded instead by the container's memory limit (the orchestrator replaces the task); set
# GUNICORN_MAX_REQUESTS (staggered by a tenth) only where a leak is found and resets are acceptable.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
# Heartbeat files on tmpfs: an overlay filesystem under load can stall them and get workers killed.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
accesslog = "-"
# No query strings in the access log: they can carry search terms (names, ids).
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# FINPULSE_LOG_FORMAT=json: gunicorn's own lines are JSON too, like the application's.
if os.environ.get("FINPULSE_LOG_FORMAT") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }

# Prometheus: every worker writes its counters to one folder, so a scrape of any worker reports
# the whole container (apps/core/metrics.py). Emptied at start: values of a previous run are not ours.
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="finpulse-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def on_starting(server) -> None:  # type: ignore[no-untyped-def]
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    os.makedirs(_metrics_dir, exist_ok=True)


def child_exit(server, worker) -> None:  # type: ignore[no-untyped-def]
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker) -> None:  # type: ignore[no-untyped-def]
    """Put what the worker loaded at start (Django, the apps, their modules) out of the cyclic garbage
    collector's reach (decision 139). Its full collections walked those ~200,000 objects about once
    every 200 requests: 0.42 ms of web CPU per request on average, paid as one pause of tens of
    milliseconds by whichever request triggered it. Objects created later are collected as before;
    frozen ones are still freed when nothing refers to them (reference counting)."""
    import gc

    gc.collect()
    gc.freeze()


def worker_int(worker) -> None:  # type: ignore[no-untyped-def]
    worker.log.info("Worker %s interrupted; finishing its requests.", worker.pid)
