"""DJANGO_ENV=production: every `check --deploy` setting on, and no start with default secrets.

Each case runs manage.py in a fresh process, because settings are read once at start-up.
DATABASE_URL points at the test database server, so no embedded server is started.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import database_url_for_processes

BASE_DIR = Path(__file__).resolve().parents[2]
# Variables a developer's shell may carry that would change what is being tested.
SCRUBBED = (
    "DJANGO_ENV",
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "CRYPTOGRAPHY_KEY",
    "CRYPTOGRAPHY_OLD_KEYS",
    "BLIND_INDEX_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "FINPULSE_SITE_URL",
)


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or database_url_for_processes()


def secret() -> str:
    return secrets.token_urlsafe(48)


def production_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
    env.update(
        DJANGO_ENV="production",
        DJANGO_SETTINGS_MODULE="finpulse.settings",
        DJANGO_SECRET_KEY=secret(),
        CRYPTOGRAPHY_KEY=secret(),
        BLIND_INDEX_KEY=secret(),
        DJANGO_ALLOWED_HOSTS="finpulse.bank.example",
        FINPULSE_SITE_URL="https://finpulse.bank.example",
        DATABASE_URL=database_url(),
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_with_proper_secrets_passes_check_deploy_without_warnings(db):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr + result.stdout


@pytest.mark.parametrize("variable", ["DJANGO_SECRET_KEY", "CRYPTOGRAPHY_KEY", "BLIND_INDEX_KEY"])
def test_production_refuses_to_start_with_a_default_secret(db, variable):
    env = production_env()
    del env[variable]  # unset: the development default applies

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"Set {variable} to a secret of 32+ characters in production." in result.stderr


def test_production_refuses_to_start_with_all_defaults(db):
    env = production_env()
    for variable in ("DJANGO_SECRET_KEY", "CRYPTOGRAPHY_KEY", "BLIND_INDEX_KEY"):
        del env[variable]

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "ImproperlyConfigured: Set DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_a_short_secret(db):
    result = manage("check", env=production_env(CRYPTOGRAPHY_KEY="too-short"))

    assert result.returncode != 0
    assert "Set CRYPTOGRAPHY_KEY to a secret of 32+ characters" in result.stderr


def test_production_refuses_the_blind_index_sharing_the_encryption_key(db):
    shared = secret()

    result = manage("check", env=production_env(CRYPTOGRAPHY_KEY=shared, BLIND_INDEX_KEY=shared))

    assert result.returncode != 0
    assert "must all differ" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts(db):
    env = production_env()
    del env["DJANGO_ALLOWED_HOSTS"]

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "Set DJANGO_ALLOWED_HOSTS in production." in result.stderr


@pytest.mark.parametrize("site_url", [None, "", "http://finpulse.bank.example"])
def test_production_refuses_to_start_without_an_https_site_url(db, site_url):
    env = production_env()
    if site_url is None:
        del env["FINPULSE_SITE_URL"]
    else:
        env["FINPULSE_SITE_URL"] = site_url

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "ImproperlyConfigured: Set FINPULSE_SITE_URL to the https:// address" in result.stderr
