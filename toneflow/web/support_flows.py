"""``/support/flows/<flow>``: a flow drawn as a graph, with where its calls went and ended.

On the support blueprint (the same sign-in, CSP and error pages as the call pages), in
its own module so other flow pages (versions) can sit beside it. The window and version
are the funnel API's arguments, validated by the same schema, and the counts are the
same dump the API serves.
"""

from __future__ import annotations

from flask import render_template, request
from marshmallow import ValidationError

from schemas.errors import describe_validation
from schemas.funnel import FUNNEL_ARGS
from toneflow.web.errors import ApiError
from toneflow.web.funnel import flow_funnel
from toneflow.web.graphs import funnel_graph
from toneflow.web.state import flows
from toneflow.web.support import _whole_days, bp


@bp.get("/flows/")
def flow_list() -> tuple[str, int]:
    return render_template("support/flows.html", flow_names=sorted(flows().flows)), 200


@bp.get("/flows/<flow>")
def flow_page(flow: str) -> tuple[str, int]:
    given = {key: value for key, value in request.args.items() if value.strip()}
    try:
        funnel = flow_funnel(flow, FUNNEL_ARGS.load(_whole_days(given)))
    except ApiError as err:
        return render_template("support/error.html", status=404, message=err.message), 404
    except ValidationError as err:
        error = describe_validation(err)
        return render_template("support/flow.html", flow=flow, funnel=None, error=error), 400
    graph = funnel_graph(flow, funnel)
    return render_template(
        "support/flow.html", flow=flow, funnel=funnel, error=None, graph=graph
    ), 200
