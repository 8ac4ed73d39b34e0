"""gunicorn's access line is the same line when only the atoms its format names are computed (decision 156)."""

from __future__ import annotations

import datetime as dt
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

CONFIG = Path(__file__).resolve().parents[2] / "config" / "gunicorn.conf.py"


@pytest.fixture
def settings_file(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    # The config points Prometheus at a folder through the environment: keep that to this test.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    return runpy.run_path(str(CONFIG))


def _line(logger_class, access_log_format: str, tmp_path: Path, *, path: str, response_headers) -> str:  # type: ignore[no-untyped-def]
    log_file = tmp_path / f"{logger_class.__name__}.log"
    cfg = Config()
    cfg.set("accesslog", str(log_file))
    cfg.set("access_log_format", access_log_format)
    logger = logger_class(cfg)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "RAW_URI": path,
        "QUERY_STRING": "q=Smith",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.7",
        "HTTP_USER_AGENT": 'Browser "quoted"',
    }
    request = SimpleNamespace(headers=[("HOST", "finpulse"), ("USER-AGENT", 'Browser "quoted"')])
    response = SimpleNamespace(status="404 Not Found", sent=1234, headers=response_headers)
    logger.access(response, request, environ, dt.timedelta(seconds=1, microseconds=234_567))
    for handler in logger.access_log.handlers:
        handler.close()
    return log_file.read_text()


@pytest.mark.parametrize(
    "response_headers",
    [[("Content-Type", "text/html"), ("X-Request-ID", "abc-123-def")], [("x-request-id", "lower")], []],
)
def test_the_access_line_is_gunicorns_own(settings_file, tmp_path, response_headers):  # type: ignore[no-untyped-def]
    fmt = settings_file["access_log_format"]
    ours = _line(settings_file["logger_class"], fmt, tmp_path, path='/a "b"/', response_headers=response_headers)
    theirs = _line(Logger, fmt, tmp_path, path='/a "b"/', response_headers=response_headers)

    assert ours == theirs
    assert ours.startswith('10.0.0.7 "GET /a \\"b\\"/" 404 1234 1234ms rid=')
    assert "Smith" not in ours  # no query string in the log


def test_a_format_naming_another_atom_gets_all_of_them(settings_file, tmp_path):  # type: ignore[no-untyped-def]
    fmt = settings_file["access_log_format"] + ' "%(a)s" %({host}i)s'
    headers = [("X-Request-ID", "abc-123-def")]

    ours = _line(settings_file["logger_class"], fmt, tmp_path, path="/", response_headers=headers)

    assert ours == _line(Logger, fmt, tmp_path, path="/", response_headers=headers)
    assert ours.rstrip().endswith('rid=abc-123-def "Browser \\"quoted\\"" finpulse')
