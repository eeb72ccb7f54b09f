"""The application factory: ``gunicorn 'app:create_app()'``.

Order matters and is the whole story of start-up: configuration, logging, the store
engine (no connection yet: gunicorn forks after this), the flow set (refusing to start
on any error), then the web layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from toneflow import web
from toneflow.answer import prerender
from toneflow.config import load_config
from toneflow.flows.registry import load_flow_dir
from toneflow.logs import configure_logging, get_logger
from toneflow.store import make_engine
from toneflow.web.reload import log_problems
from toneflow.web.signatures import Verifier
from toneflow.web.state import FLOWS, SIGNATURES, STORE


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides the environment (tests use this)."""
    settings = load_config(config)
    configure_logging(settings["LOG_FORMAT"], settings["LOG_LEVEL"])
    app = Flask(__name__, static_folder=None)  # no static files: nothing to serve
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_BODY_BYTES"]
    app.json.sort_keys = False

    app.extensions[STORE] = make_engine(
        settings["DATABASE_URL"], busy_timeout_ms=settings["SQLITE_BUSY_TIMEOUT_MS"]
    )
    app.extensions[FLOWS] = load_flow_dir(
        Path(settings["FLOWS_DIR"]), max_digits=settings["MAX_DIGITS"]
    )
    log_problems(app.extensions[FLOWS].warnings)
    if settings["PUBLIC_URL"]:
        # The base URL is known, so static steps become bytes now, in the master process
        # that gunicorn forks: every worker starts with them.
        prerender(app.extensions[FLOWS], settings["PUBLIC_URL"])
    if settings["WEBHOOK_SECRET"]:
        app.extensions[SIGNATURES] = Verifier(settings["WEBHOOK_SECRET"])
    web.init_app(app)
    get_logger("toneflow").info(
        "app_created",
        flows=sorted(app.extensions[FLOWS].flows),
        database=app.extensions[STORE].url.render_as_string(),
    )
    return app
