"""The container smoke stack: FinPulse containers (podman, --network host) on this machine's
PostgreSQL, Redis and RabbitMQ, plus an S3 server (moto) and an SMTP sink on loopback.

Used by infra/smoke/journey.py (the CI smoke test) and benchmarks/containers_bench.py. Runs
with var/tools-venv's Python (requests, boto3, moto). The image is built by infra/smoke/lib.sh.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import requests

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "var" / "tools-venv" / "bin"
PODMAN = ["podman", "--runtime", "/usr/sbin/runc"]
os.environ.setdefault("CONTAINERS_CONF", str(REPO / "infra" / "smoke" / "containers.conf"))

IMAGE = os.environ.get("FINPULSE_IMAGE", "localhost/finpulse:smoke")
PG_HOST = os.environ.get("SMOKE_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("SMOKE_PG_PORT", "5432"))
DB_NAME = os.environ.get("SMOKE_DB_NAME", "finpulse_smoke")
REDIS_URL = os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379/14")
AMQP_VHOST = os.environ.get("SMOKE_AMQP_VHOST", "finpulse-smoke")
PORT_BASE = int(os.environ.get("SMOKE_PORT_BASE", "38000"))
BUCKET = "finpulse-smoke"
DEMO_PASSWORD = os.environ.get("FINPULSE_DEMO_PASSWORD", "finpulse-demo-2026")  # the demo users, never production


def log(message: str) -> None:
    print(f"== {time.strftime('%H:%M:%S', time.gmtime())} {message}", flush=True)


def run(cmd: list[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    return subprocess.run(cmd, check=check, text=True, **kwargs)  # noqa: S603


def wait_for(what: str, check, timeout: float = 90.0, interval: float = 0.5):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
            last = result
        except Exception as error:
            last = error
        time.sleep(interval)
    raise TimeoutError(f"{what}: not after {timeout:.0f}s (last: {last!r})")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class TcpProxy:
    """A loopback TCP forwarder that can be cut and restored: "the database went away"."""

    def __init__(self, listen_port: int, target: tuple[str, int]) -> None:
        self.listen_port, self.target = listen_port, target
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.listen_port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def stop(self) -> None:
        """Close the listener and every open connection (clients see resets, then refusals)."""
        server, self._server = self._server, None
        if server:
            with contextlib.suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)
            server.close()
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._conns.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@dataclass
class Stack:
    """Services on loopback and the FinPulse containers started against them."""

    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="finpulse-smoke-")))
    containers: list[str] = field(default_factory=list)
    processes: list[subprocess.Popen] = field(default_factory=list)
    proxies: list[TcpProxy] = field(default_factory=list)

    @property
    def s3_port(self) -> int:
        return PORT_BASE + 10

    @property
    def smtp_port(self) -> int:
        return PORT_BASE + 25

    @property
    def maildir(self) -> Path:
        return self.workdir / "mail"

    def database_url(self, port: int = PG_PORT) -> str:
        return f"postgres://postgres@{PG_HOST}:{port}/{DB_NAME}"

    # ---- services ----

    def start_services(self) -> None:
        self._remove_leftovers()
        self._fresh_database()
        self._amqp_vhost()
        run(["redis-cli", "-u", REDIS_URL, "flushdb"], stdout=subprocess.DEVNULL)
        log(f"moto S3 server on 127.0.0.1:{self.s3_port}")
        self._spawn("moto", [str(TOOLS / "moto_server"), "-H", "127.0.0.1", "-p", str(self.s3_port)])
        wait_for("moto S3 server", lambda: port_open(self.s3_port), timeout=60)
        self.s3().create_bucket(Bucket=BUCKET)
        log(f"SMTP sink on 127.0.0.1:{self.smtp_port} (maildir {self.maildir})")
        sink = [str(REPO / ".venv" / "bin" / "python"), "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.smtp_port}"]
        self._spawn("smtp", [*sink, "-c", "aiosmtpd.handlers.Mailbox", str(self.maildir)])
        wait_for("SMTP sink", lambda: port_open(self.smtp_port), timeout=30)

    def _remove_leftovers(self) -> None:
        """Containers of an earlier smoke run that did not get to its teardown (they hold the ports)."""
        found = subprocess.run(  # noqa: S603
            [*PODMAN, "ps", "-a", "-q", "--filter", "name=^fp-smoke-"], capture_output=True, text=True
        ).stdout.split()
        if found:
            log(f"removing {len(found)} container(s) left by an earlier smoke run")
            subprocess.run([*PODMAN, "rm", "-f", "-t", "5", *found], capture_output=True)  # noqa: S603

    def _fresh_database(self) -> None:
        log(f"fresh database {DB_NAME} on {PG_HOST}:{PG_PORT}")
        psql = ["psql", "-q", "-h", PG_HOST, "-p", str(PG_PORT), "-U", "postgres", "-d", "postgres"]
        run([*psql, "-c", f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'], stderr=subprocess.DEVNULL)
        run([*psql, "-c", f'CREATE DATABASE "{DB_NAME}"'])

    def _amqp_vhost(self) -> None:
        # A vhost of its own, so the smoke never consumes the test suite's messages.
        if AMQP_VHOST == "/" or not shutil.which("rabbitmqctl"):
            return
        run(
            ["rabbitmqctl", "-q", "add_vhost", AMQP_VHOST],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        run(
            ["rabbitmqctl", "-q", "set_permissions", "-p", AMQP_VHOST, "guest", ".*", ".*", ".*"],
            stdout=subprocess.DEVNULL,
        )

    def broker_url(self) -> str:
        vhost = "" if AMQP_VHOST == "/" else AMQP_VHOST
        return f"amqp://guest:guest@127.0.0.1:5672/{vhost}"

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen:
        out = (self.workdir / f"{name}.log").open("w")
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir)  # noqa: S603
        self.processes.append(proc)
        return proc

    def s3(self):  # type: ignore[no-untyped-def]
        return boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{self.s3_port}",
            aws_access_key_id="smoke",
            aws_secret_access_key="smoke",  # noqa: S106
            region_name="us-east-1",
        )

    # ---- containers ----

    def environment(self, **overrides: str) -> dict[str, str]:
        env = {
            # Development mode only for the demo users' password sign-in; no debug pages.
            "DJANGO_ENV": "development",
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": self.database_url(),
            "REDIS_URL": REDIS_URL,
            "CELERY_BROKER_URL": self.broker_url(),
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp_port}",
            "FINPULSE_STORAGE_BUCKET": BUCKET,
            "FINPULSE_STORAGE_ENDPOINT_URL": f"http://127.0.0.1:{self.s3_port}",
            "AWS_ACCESS_KEY_ID": "smoke",
            "AWS_SECRET_ACCESS_KEY": "smoke",
            "AWS_DEFAULT_REGION": "us-east-1",
            "FINPULSE_NOTIFICATION_RELAY_GRACE_SECONDS": "5",
            "FINPULSE_QUIET_HOURS": "",
            "WEB_CONCURRENCY": "2",
            "CELERY_CONCURRENCY": "2",
            "LOG_LEVEL": "INFO",
        }
        env.update(overrides)
        return env

    def _env_args(self, env: dict[str, str]) -> list[str]:
        path = self.workdir / f"env-{uuid.uuid4().hex[:6]}"
        path.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        return ["--env-file", str(path)]

    def one_off(self, *args: str, **env: str) -> str:
        """Run the image once (migrate, manage ...) and return its output; raise if it fails."""
        cmd = [*PODMAN, "run", "--rm", "--network", "host", *self._env_args(self.environment(**env)), IMAGE, *args]
        result = subprocess.run(cmd, capture_output=True, text=True)  # noqa: S603
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result.stdout

    def start(self, name: str, role: str, port: int | None = None, **env: str) -> str:
        cname = f"fp-smoke-{self.run_id}-{name}"
        if port is not None:
            env["FINPULSE_BIND"] = f"127.0.0.1:{port}"
        # No healthcheck timers (podman needs systemd for them here): journey.py runs the
        # image's HEALTHCHECK command itself with `podman exec`.
        cmd = [*PODMAN, "run", "-d", "--name", cname, "--network", "host", "--stop-timeout", "20", "--no-healthcheck"]
        run([*cmd, *self._env_args(self.environment(**env)), IMAGE, role], stdout=subprocess.DEVNULL)
        self.containers.append(cname)
        if port is not None:
            wait_for(f"{name} /healthz", lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok)
        return cname

    def healthcheck(self, cname: str) -> bool:
        """The image's HEALTHCHECK command, run inside the container."""
        result = subprocess.run([*PODMAN, "exec", cname, "python3", "/app/infra/healthcheck.py"], capture_output=True)  # noqa: S603
        return result.returncode == 0

    def stop(self, cname: str) -> None:
        run([*PODMAN, "stop", cname], stdout=subprocess.DEVNULL)

    def proxy(self, listen_port: int) -> TcpProxy:
        proxy = TcpProxy(listen_port, (PG_HOST, PG_PORT))
        proxy.start()
        self.proxies.append(proxy)
        return proxy

    def dump_logs(self) -> None:
        for cname in self.containers:
            result = subprocess.run([*PODMAN, "logs", "--tail", "40", cname], capture_output=True, text=True)  # noqa: S603
            print(f"---- {cname} ----\n{result.stdout}{result.stderr}")
        for path in sorted(self.workdir.glob("*.log")):
            print(f"---- {path.name} ----\n{path.read_text()[-2000:]}")

    def teardown(self) -> None:
        for cname in self.containers:
            for _ in range(3):  # a busy machine sometimes refuses the first removal
                done = subprocess.run([*PODMAN, "rm", "-f", "-t", "5", cname], capture_output=True, text=True)  # noqa: S603
                if done.returncode == 0:
                    break
                time.sleep(2)
            else:
                print(f"could not remove {cname}: {done.stderr.strip()}", flush=True)
        for proxy in self.proxies:
            proxy.stop()
        for proc in self.processes:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


class Browser:
    """A manager's session over HTTP (the demo password sign-in), against any web container."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def url(self, path: str) -> str:
        return self.base + path

    def get(self, path: str, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
        return self.http.get(self.url(path), timeout=30, **kwargs)

    def csrf(self, path: str) -> str:
        page = self.get(path)
        page.raise_for_status()
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post(self, path: str, data: dict, files=None, referer_path: str | None = None) -> requests.Response:  # type: ignore[no-untyped-def]
        data = {"csrfmiddlewaretoken": self.csrf(referer_path or path), **data}
        return self.http.post(
            self.url(path), data=data, files=files, timeout=30, headers={"Referer": self.url(referer_path or path)}
        )

    def sign_in(self, username: str, password: str = DEMO_PASSWORD) -> None:
        response = self.post("/accounts/login/", {"username": username, "password": password})
        response.raise_for_status()
        assert "sessionid" in self.http.cookies, f"sign-in as {username} failed: {response.url}"

    def customer_ids(self) -> list[int]:
        page = self.get("/customers/")
        page.raise_for_status()
        return sorted({int(n) for n in re.findall(r'href="/customers/(\d+)/"', page.text)})
