"""The flow drawings the support pages show: a call's path, or a flow's funnel.

Drawn from the flow set being served. A call served by another version of its flow is
drawn on the current one, and the page says so (naming both versions).
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from toneflow.drawing import DrawingUnavailable, draw_call, draw_funnel
from toneflow.funnel import call_path
from toneflow.logs import get_logger
from toneflow.web.state import flows

log = get_logger(__name__)


def call_graph(record: dict[str, Any]) -> dict[str, Any] | None:
    """``{"svg", "version", "error"}`` for a call's page, or None when its flow is not
    served (or it was never answered)."""
    flow = flows().get(record["flow"]) if record["flow"] else None
    if flow is None:
        return None
    return _drawn(lambda: draw_call(flow, call_path(record["answers"])), flow.version)


def funnel_graph(flow_name: str, funnel: dict[str, Any]) -> dict[str, Any] | None:
    flow = flows().get(flow_name)
    if flow is None:
        return None
    return _drawn(lambda: draw_funnel(flow, funnel), flow.version)


def _drawn(draw, version: str) -> dict[str, Any]:
    try:
        # Markup: the SVG was rebuilt from an allowlist (toneflow.drawing.sanitise).
        return {"svg": Markup(draw()), "version": version, "error": None}
    except DrawingUnavailable as err:
        log.warning("graph_unavailable", error=str(err))
        return {"svg": None, "version": version, "error": str(err)}
