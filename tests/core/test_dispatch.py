"""Services hand work to Celery by task name; a fresh web process finds every task."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["leads.extract_lead", "notifications.deliver", "recommendations.refresh"])
def test_a_process_that_never_imported_a_tasks_module_finds_the_task_by_name(name):
    # A fresh interpreter, as a gunicorn worker is: nothing has imported apps.*.tasks yet.
    code = (
        "import django; django.setup()\n"
        "import sys\n"
        "from apps.core.dispatch import task_named\n"
        f"assert 'apps.{name.split('.')[0]}.tasks' not in sys.modules, 'already imported'\n"
        f"print(task_named({name!r}).name)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "finpulse.settings", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == name
