"""Run every benchmark in turn (`make bench`); each writes benchmarks/results/<name>.json.

Each benchmark builds its own database on DATABASE_URL's server (or the embedded one), so
they run one after another in separate processes. Some build a million rows: expect the
whole run to take a while on a 2-core machine.
"""

from __future__ import annotations

import subprocess
import sys
import time

BENCHMARKS = [
    "benchmarks.bearer_auth_bench",
    "benchmarks.recommendations_bench",
    "benchmarks.workspace_bench",
    "benchmarks.api_bench",
    "benchmarks.maturity_scan_bench",
    "benchmarks.import_bench",
    "benchmarks.lead_extraction_bench",
]


def main(names: list[str]) -> int:
    selected = [b for b in BENCHMARKS if not names or b.rsplit(".", 1)[-1] in names]
    failed = []
    for module in selected:
        started = time.monotonic()
        print(f"== {module}", flush=True)
        code = subprocess.call([sys.executable, "-m", module])
        print(f"== {module}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
        if code:
            failed.append(module)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
