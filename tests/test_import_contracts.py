"""The import contracts in pyproject.toml hold, and a new back-arrow breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _copy_of_the_code(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "apps", tmp_path / "apps", ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_keeps_every_import_contract():
    result = _lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_core_importing_a_domain_app_breaks_the_contracts(tmp_path):
    root = _copy_of_the_code(tmp_path)
    audit = root / "apps" / "core" / "audit.py"
    audit.write_text(audit.read_text() + "\nfrom apps.customers.models import Customer  # noqa\n")

    result = _lint_imports(root)

    assert result.returncode != 0
    assert "core imports no other app BROKEN" in result.stdout
    assert "apps.core.audit -> apps.customers.models" in result.stdout


def test_a_lower_layer_importing_a_feature_app_breaks_the_layers(tmp_path):
    root = _copy_of_the_code(tmp_path)
    services = root / "apps" / "products" / "services.py"
    services.write_text(services.read_text() + "\nfrom apps.tasks.models import Task  # noqa\n")

    result = _lint_imports(root)

    assert result.returncode != 0
    assert "apps.products is not allowed to import apps.tasks" in result.stdout


def test_importing_another_apps_views_breaks_the_contracts(tmp_path):
    root = _copy_of_the_code(tmp_path)
    selectors = root / "apps" / "workspace" / "selectors.py"
    selectors.write_text(selectors.read_text() + "\nfrom apps.tasks import views  # noqa\n")

    result = _lint_imports(root)

    assert result.returncode != 0
    assert "Only tasks imports its views and admin BROKEN" in result.stdout


def test_customers_importing_accounts_breaks_the_layers(tmp_path):
    # The customer pages that show holdings live in apps.workspace (and the holdings actions of
    # the customer API in apps.accounts.api): apps.customers itself never reads accounts.
    root = _copy_of_the_code(tmp_path)
    services = root / "apps" / "customers" / "services.py"
    services.write_text(services.read_text() + "\nfrom apps.accounts.models import Holding  # noqa\n")

    result = _lint_imports(root)

    assert result.returncode != 0
    assert "apps.customers is not allowed to import apps.accounts" in result.stdout


def test_no_contract_carries_an_exception():
    # Every import goes the layers' way; a back-arrow is moved to the layer that composes, not
    # written down as an exception (docs/architecture.md, "Layers").
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]

    assert [c["name"] for c in contracts if c.get("ignore_imports")] == []
