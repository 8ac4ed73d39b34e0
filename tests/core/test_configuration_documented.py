"""Every environment variable the settings read is documented for a newcomer."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ_BY_SETTINGS = re.compile(r"""env(?:\.[a-z_]+)?\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def _variables_read() -> set[str]:
    found = set()
    for path in [ROOT / "finpulse" / "settings.py", *sorted((ROOT / "apps").glob("*/oidc_config.py"))]:
        found |= set(READ_BY_SETTINGS.findall(path.read_text()))
    return found


def test_the_settings_read_the_variables_we_expect_to_find():
    # Guards the regex itself: if it stopped matching, the tests below would pass vacuously.
    assert {"DATABASE_URL", "DJANGO_SECRET_KEY", "CRYPTOGRAPHY_KEY", "REDIS_URL"} <= _variables_read()


def test_every_variable_is_in_the_example_env_file():
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / "config" / "example.env").read_text(), re.M))
    assert sorted(_variables_read() - listed) == []


def test_every_variable_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    assert sorted(v for v in _variables_read() if f"`{v}`" not in readme) == []
