"""``/healthz``: the process answers, and says whether the store does.

``store`` is ``ok``, ``not_migrated`` (it answers, but its schema revision is not this
toneflow's: run ``toneflow db upgrade``) or ``unavailable`` (it cannot be reached or
written); both bad states are a 503. Each check is a fresh look, so this is also where a
store that was down at start-up is checked again: a change of state is logged, loudly
when the store turns out to be behind.
"""

from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy.exc import SQLAlchemyError

from toneflow.logs import get_logger
from toneflow.store import CallLog, migrate, reading
from toneflow.web.state import STORE_STATE, call_log, flows

bp = Blueprint("health", __name__)
log = get_logger(__name__)

OK, NOT_MIGRATED, UNAVAILABLE = "ok", "not_migrated", "unavailable"


def store_state(store: CallLog) -> str:
    """Look at the store now: its schema revision first, then whether it can be written."""
    try:
        with reading(store.engine) as connection:
            schema, revision = migrate.schema_state(connection)
        if schema != migrate.CURRENT:
            _log_change(NOT_MIGRATED, revision=revision, hint=migrate.UPGRADE_HINT)
            return NOT_MIGRATED
        store.ping()
    except SQLAlchemyError as err:
        log.warning("store_unreachable", error=str(err))
        _log_change(UNAVAILABLE)
        return UNAVAILABLE
    _log_change(OK)
    return OK


def _log_change(state: str, **details: object) -> None:
    previous = current_app.extensions.get(STORE_STATE)
    current_app.extensions[STORE_STATE] = state
    if state == previous:
        return
    if state == NOT_MIGRATED:
        log.error("store_not_migrated", **details)
    elif previous is not None:
        log.warning("store_state_changed", previous=previous, state=state)


@bp.get("/healthz")
def healthz() -> tuple[dict, int]:
    store_now = store_state(call_log())
    status = 200 if store_now == OK else 503
    body = {
        "status": "ok" if status == 200 else "degraded",
        "store": store_now,
        "flows": len(flows().flows),
    }
    return body, status
