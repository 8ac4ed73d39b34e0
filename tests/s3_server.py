"""A real S3-compatible server for tests: moto's server mode as its own process on loopback.

`s3_server` starts `moto_server` once per test session (skip without it, fail under
FINPULSE_REQUIRE_SERVICES=1); `s3_storage` gives a test its own private bucket and points
the default storage at it, exactly as FINPULSE_STORAGE_BUCKET/FINPULSE_STORAGE_ENDPOINT_URL do.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.request import urlopen

import pytest

from finpulse.object_storage import s3_storage as s3_storage_config

REGION = "eu-west-2"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def moto_server_command() -> str | None:
    beside_python = Path(sys.executable).parent / "moto_server"
    return str(beside_python) if beside_python.exists() else shutil.which("moto_server")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """The endpoint URL of a moto S3 server process running for the whole session."""
    from tests.conftest import services_required

    command = moto_server_command()
    if command is None:
        reason = "moto_server is not installed (pip install -r requirements-dev.txt)"
        if services_required():
            pytest.fail(f"FINPULSE_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # our own dev dependency, on loopback
        [command, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urlopen(f"{url}/moto-api/", timeout=1):  # noqa: S310  # loopback URL built above
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start on {url}")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def s3_storage(s3_server, settings, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    """A fresh private bucket on the moto server, configured as the default storage; returns its name."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "finpulse-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "finpulse-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    bucket = f"finpulse-test-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_server, region_name=REGION)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    settings.FINPULSE_STORAGE_BUCKET = bucket
    settings.FINPULSE_STORAGE_ENDPOINT_URL = s3_server
    settings.AWS_DEFAULT_REGION = REGION
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage_config(bucket=bucket, endpoint_url=s3_server, region=REGION),
    }
    return bucket


def s3_client(endpoint_url: str):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client("s3", endpoint_url=endpoint_url, region_name=REGION)
