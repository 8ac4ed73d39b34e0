"""The gunicorn worker freezes what it loaded at start out of the cyclic collector's reach (decision 139)."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[2] / "config" / "gunicorn.conf.py"


def test_a_started_worker_freezes_its_loaded_objects(monkeypatch, tmp_path):
    # The config points Prometheus at a folder through the environment: keep that to this test.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    hooks = runpy.run_path(str(CONFIG))
    gc.unfreeze()
    try:
        hooks["post_worker_init"](object())

        assert gc.get_freeze_count() > 10_000  # Django and the apps, loaded by this test process
        # Objects made afterwards are still collected.
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
