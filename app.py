"""The application factory: ``gunicorn 'app:create_app()'``.

Order matters and is the whole story of start-up: configuration, logging, the store
engine and the call log over it, the flow set (refusing to start on any error), the
store's schema revision (refusing to start when the store answers but is behind; only
logging when it does not answer), then the web layer. The engine's one connection for
the schema check is disposed of before returning: gunicorn forks after this.

A refusal is one of :data:`REFUSALS`: an operator's mistake with a message that says
what to fix, printed without a traceback (gunicorn.conf.py, the ``toneflow`` command).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from toneflow import web
from toneflow.answer import prerender
from toneflow.config import ConfigError, load_config
from toneflow.flows.problems import FlowSetError
from toneflow.flows.registry import load_flow_dir
from toneflow.logs import configure_logging, get_logger
from toneflow.signing import Verifier
from toneflow.store import CallLog, make_engine, migrate
from toneflow.store.engine import UnsupportedDatabase
from toneflow.web.flow_versions import record_served
from toneflow.web.reload import log_problems
from toneflow.web.state import CALL_LOG, FLOWS, SIGNATURES, STORE_STATE

#: Why start-up refuses: each says what to change, so none needs a traceback.
REFUSALS = (ConfigError, UnsupportedDatabase, FlowSetError, migrate.StoreNotMigrated)
REFUSAL_LINE = "toneflow: not starting (fix what is said above)"


def refusal_text(err: BaseException) -> str:
    """What an operator sees for a refusal: the problems, then one line saying so."""
    return f"{err}\n{REFUSAL_LINE}"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides the environment (tests use this)."""
    settings = load_config(config)
    configure_logging(settings["LOG_FORMAT"], settings["LOG_LEVEL"])
    app = Flask(__name__, static_folder=None)  # no static files: nothing to serve
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_BODY_BYTES"]
    app.json.sort_keys = False

    engine = make_engine(
        settings["DATABASE_URL"], busy_timeout_ms=settings["SQLITE_BUSY_TIMEOUT_MS"]
    )
    # The call log owns the engine; web.state.store() hands it to sign-in and tokens.
    app.extensions[CALL_LOG] = CallLog(engine, redact_numbers=settings["REDACT_NUMBERS"])
    app.extensions[FLOWS] = load_flow_dir(
        Path(settings["FLOWS_DIR"]), max_digits=settings["MAX_DIGITS"]
    )
    log_problems(app.extensions[FLOWS].warnings)
    app.extensions[STORE_STATE] = _check_schema(engine)
    if app.extensions[STORE_STATE] == "ok":
        record_served(app)
        engine.dispose()  # no connection may cross gunicorn's fork
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
        database=engine.url.render_as_string(),
    )
    return app


def _check_schema(engine) -> str:
    """Refuse a store that is behind; a store that is down only delays the check.

    Answers do not need the store, so one that is down must not stop them: it is logged
    as an error, and /healthz checks again on every request until it is back (and says
    ``not_migrated`` if it then turns out to be behind).
    """
    try:
        migrate.check(engine)
    except SQLAlchemyError as err:
        get_logger("toneflow").error(
            "store_unreachable_at_start_up",
            error=str(err),
            hint="answers are served but not recorded until the store is back; "
            "/healthz says when it is",
        )
        return "unavailable"
    finally:
        engine.dispose()  # no connection may cross gunicorn's fork
    return "ok"
