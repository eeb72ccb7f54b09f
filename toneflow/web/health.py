"""``/healthz``: the process answers, and says whether the store does."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy.exc import SQLAlchemyError

from toneflow.logs import get_logger
from toneflow.store import ping
from toneflow.web.state import flows, store

bp = Blueprint("health", __name__)
log = get_logger(__name__)


@bp.get("/healthz")
def healthz() -> tuple[dict, int]:
    try:
        ping(store())
        store_state = "ok"
    except SQLAlchemyError as err:
        log.warning("store_unreachable", error=str(err))
        store_state = "unavailable"
    status = 200 if store_state == "ok" else 503
    body = {
        "status": "ok" if status == 200 else "degraded",
        "store": store_state,
        "flows": len(flows().flows),
    }
    return body, status
