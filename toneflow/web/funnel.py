"""``GET /api/flows/<flow>/funnel``: where a flow's calls went and ended, as JSON.

Registered on the API blueprint, so the same bearer token guards it; its own module so
other ``/api/flows/<flow>/…`` routes live beside it without sharing a file.
"""

from __future__ import annotations

from flask import request

from schemas.funnel import FUNNEL, FUNNEL_ARGS
from toneflow.web.api import bp
from toneflow.web.errors import ApiError
from toneflow.web.state import call_log, flows


def flow_funnel(flow: str, args: dict) -> dict:
    """The funnel of a served flow, dumped (steps in the file's order); 404 for another."""
    compiled = flows().get(flow)
    if compiled is None:
        raise ApiError(404, "not_found", f"no flow named '{flow}'")
    funnel = call_log().funnel(flow, **args, order=list(compiled.steps))
    return FUNNEL.dump(funnel)


@bp.get("/flows/<flow>/funnel")
def funnel(flow: str) -> dict:
    return flow_funnel(flow, FUNNEL_ARGS.load(request.args.to_dict()))
