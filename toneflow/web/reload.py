"""Reloading flows while serving, without ever serving a broken set.

In development (``TONEFLOW_RELOAD=1`` or Flask's debug mode) the flows folder is checked
before each request (:func:`toneflow.web.hooks.begin_request`), with one ``stat`` per
file, and reloaded when a file changed. In production, gunicorn's graceful reload (HUP)
calls :func:`reload_flows` in the master (``on_reload`` in gunicorn.conf.py) before it
forks the new workers: with
``preload_app`` the app is not rebuilt on HUP, so this is what makes new files count.

Either way the folder is loaded whole, by the code start-up runs: when it holds any
error, every problem is logged with its position and the set being served stays.
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask

from toneflow.answer import prerender
from toneflow.flows.problems import ERROR, Problem
from toneflow.flows.registry import check_flow_dir, fingerprint
from toneflow.logs import get_logger
from toneflow.web import pinning
from toneflow.web.flow_versions import record_served
from toneflow.web.state import FLOWS

RELOAD = "toneflow.reload"
log = get_logger(__name__)


class _Reloads:
    """Per app: one reload at a time, and the broken state already reported."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.refused: tuple | None = None


def log_problems(problems: list[Problem]) -> None:
    """One log line per problem, with its position, as lint prints it."""
    for problem in problems:
        level = log.error if problem.severity == ERROR else log.warning
        level("flow_problem", problem=str(problem), file=problem.file, line=problem.line)


def reload_flows(app: Flask, *, force: bool = False) -> bool:
    """Load the flows folder again if it changed (always, with ``force``).

    Returns True when a new set replaced the one being served.
    """
    reloads: _Reloads = app.extensions.setdefault(RELOAD, _Reloads())
    folder = Path(app.config["FLOWS_DIR"])
    with reloads.lock:
        now = fingerprint(folder)
        serving = app.extensions[FLOWS]
        if not force and now in (serving.fingerprint, reloads.refused):
            return False
        flow_set, problems = check_flow_dir(folder, max_digits=app.config["MAX_DIGITS"])
        errors = [p for p in problems if p.severity == ERROR]
        if errors:
            reloads.refused = now
            log_problems(problems)
            log.error("flows_reload_refused", errors=len(errors), serving=sorted(serving.flows))
            return False
        reloads.refused = None
        if app.config["PUBLIC_URL"]:
            prerender(flow_set, app.config["PUBLIC_URL"])
        pinning.keep_replaced(app, serving)
        app.extensions[FLOWS] = flow_set
    log_problems(flow_set.warnings)
    log.info("flows_reloaded", flows=sorted(flow_set.flows))
    record_served(app)
    return True
