"""Start-up costs, each measured in a fresh interpreter so nothing is warm.

``load`` is what start-up does with a flow folder (read, validate, compile, prerender
static steps), imports excluded, as wall time and as the CPU time it used (which other
processes on a busy machine do not inflate); ``app`` is the whole ``create_app()`` in another fresh
process; ``lint`` is the ``toneflow lint`` command a flow author runs, interpreter
start included, as wall time and CPU time.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from servers import ROOT, clean_environment

PROBE = """
import json, sys, time
from pathlib import Path
from app import create_app
from toneflow.answer import prerender
from toneflow.flows.registry import load_flow_dir
folder, database, what = sys.argv[1:4]
started, cpu_started = time.perf_counter(), time.process_time()
if what == "load":
    flows = load_flow_dir(Path(folder), max_digits=128)
    prerender(flows, "https://toneflow.example")
    count = len(flows.flows)
else:
    create_app({"FLOWS_DIR": folder, "DATABASE_URL": database,
                "PUBLIC_URL": "https://toneflow.example", "LOG_LEVEL": "warning"})
    count = None
print(json.dumps({"seconds": time.perf_counter() - started,
                  "cpu_seconds": time.process_time() - cpu_started, "flows": count}))
"""


def _probe(folder: Path, database_url: str, what: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(folder), database_url, what],
        cwd=ROOT,
        env=clean_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(folder: Path, worst_case: Path, database_url: str) -> dict:
    """Load ``folder`` as start-up does; build the app from it; lint it; load ``worst_case``."""
    from toneflow.store import migrate

    migrate.upgrade(database_url)  # start-up refuses a store that was never migrated
    load = _probe(folder, database_url, "load")
    app = _probe(folder, database_url, "app")
    worst = _probe(worst_case, database_url, "load")
    result = {
        "flows": load["flows"],
        "load_s": load["seconds"],
        "load_cpu_s": load["cpu_seconds"],
        "app_s": app["seconds"],
        "app_cpu_s": app["cpu_seconds"],
        "worst_case_load_s": worst["seconds"],
        "worst_case_load_cpu_s": worst["cpu_seconds"],
    }
    started = time.perf_counter()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    lint = subprocess.run(
        [str(Path(sys.executable).with_name("toneflow")), "lint", str(folder)],
        cwd=ROOT,
        env=clean_environment(),
        capture_output=True,
        text=True,
    )
    result["lint_s"] = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["lint_cpu_s"] = (after.ru_utime - children.ru_utime) + (
        after.ru_stime - children.ru_stime
    )
    result["lint_exit"] = lint.returncode
    result["lint_summary"] = lint.stderr.strip().splitlines()[-1] if lint.stderr else ""
    return {key: round(v, 3) if isinstance(v, float) else v for key, v in result.items()}
