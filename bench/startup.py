"""Start-up costs, each measured in a fresh interpreter so nothing is warm.

``load`` is what start-up does with a flow folder (read, validate, compile, prerender
static steps); ``app`` is the whole ``create_app()``; ``lint`` is the ``toneflow lint``
command a flow author runs, interpreter start included.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from servers import ROOT, clean_environment

PROBE = """
import json, sys, time
started = time.perf_counter()
from pathlib import Path
from toneflow.answer import prerender
from toneflow.flows.registry import load_flow_dir
imported = time.perf_counter()
flows = load_flow_dir(Path(sys.argv[1]), max_digits=128)
bodies = prerender(flows, "https://toneflow.example")
loaded = time.perf_counter()
from app import create_app
app_started = time.perf_counter()
create_app({"FLOWS_DIR": sys.argv[1], "DATABASE_URL": sys.argv[2],
            "PUBLIC_URL": "https://toneflow.example", "LOG_LEVEL": "warning"})
done = time.perf_counter()
print(json.dumps({"flows": len(flows.flows), "prerendered": bodies,
                  "import_s": imported - started, "load_s": loaded - imported,
                  "app_s": done - app_started}))
"""


def measure(folder: Path, database_url: str) -> dict:
    """Load ``folder`` as start-up does, then build the app from it; then lint it."""
    env = clean_environment()
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, str(folder), database_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(probe.stdout.strip().splitlines()[-1])
    started = time.perf_counter()
    lint = subprocess.run(
        [str(Path(sys.executable).with_name("toneflow")), "lint", str(folder)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    result["lint_s"] = time.perf_counter() - started
    result["lint_exit"] = lint.returncode
    result["lint_summary"] = lint.stderr.strip().splitlines()[-1] if lint.stderr else ""
    return {key: round(v, 3) if isinstance(v, float) else v for key, v in result.items()}
