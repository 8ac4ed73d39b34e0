"""gunicorn settings; every value can be overridden by the environment.

Graceful operation (docs/operations.md): on SIGTERM (ECS stopping a task, a rolling deploy)
the master stops accepting connections and each worker finishes the requests it holds for
up to GUNICORN_GRACEFUL_TIMEOUT seconds before it is killed. The container's stop timeout
(ECS `stopTimeout`) must be longer than that, and the load balancer's deregistration delay at
least as long, so no request is cut.
"""

import os
import re
import shutil
import tempfile

from gunicorn.glogging import Logger

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


class AccessLineLogger(Logger):
    """gunicorn's logger, but an access line computes only the atoms its format names (decision 156).

    gunicorn's own `atoms()` builds every atom it knows for every request: the time formatted,
    each request and response header and each of the ~30 WSGI environ entries under its own key,
    which its SafeAtoms then copies and escapes again; the line above reads seven of them. The
    same line, from the same values and escaping, costs 12 instead of 34 µs of CPU. A format
    naming any other atom gets gunicorn's full set, so the line never silently loses one.
    """

    FAST_ATOMS = frozenset({"h", "m", "U", "s", "B", "M", "{x-request-id}o"})

    def setup(self, cfg):  # type: ignore[no-untyped-def]
        super().setup(cfg)
        self.fast_atoms = set(re.findall(r"%\((.*?)\)s", cfg.access_log_format)) <= self.FAST_ATOMS

    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        if not self.fast_atoms:
            return super().atoms(resp, req, environ, request_time)
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        request_id = next((value for name, value in resp.headers if name.lower() == "x-request-id"), "-")
        return {
            "h": environ.get("REMOTE_ADDR", "-"),
            "m": environ.get("REQUEST_METHOD"),
            "U": environ.get("PATH_INFO"),
            "s": status,
            "B": getattr(resp, "sent", None),
            "M": request_time.seconds * 1000 + request_time.microseconds // 1000,
            "{x-request-id}o": request_id,
        }


logger_class = AccessLineLogger
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
