"""``/api/calls/<call_id>``: one call's record and timeline, as JSON."""

from __future__ import annotations

from flask import Blueprint

from toneflow.store import get_call
from toneflow.web.errors import ApiError
from toneflow.web.state import store

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/calls/<call_id>")
def call_detail(call_id: str) -> dict:
    # No stored id holds NUL (the schemas refuse it), and PostgreSQL cannot even compare one.
    record = None if "\x00" in call_id else get_call(store(), call_id)
    if record is None:
        raise ApiError(404, "not_found", f"no call with id '{call_id}'")
    return record
