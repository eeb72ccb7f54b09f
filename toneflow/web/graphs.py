"""The flow drawings the support pages show: a call's path, or a flow's funnel.

A call is drawn on the version of its flow that served it (the version it is pinned
to): the one served here, or its source from the store (:mod:`toneflow.web.pinning`, the
same cache that serves pinned calls), so a renamed or removed step is drawn as the call
met it. Only when that version cannot be had (the store is down) is the call drawn on
the version served now, and the page says so, naming both. A funnel is drawn on the
version served now.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from toneflow.drawing import DrawingUnavailable, draw_call, draw_funnel
from toneflow.flows.model import Flow
from toneflow.funnel import call_path
from toneflow.logs import get_logger
from toneflow.web.pinning import StoreUnavailable, pinned_set
from toneflow.web.state import flows

log = get_logger(__name__)


def call_graph(record: dict[str, Any]) -> dict[str, Any] | None:
    """``{"svg", "version", "error"}`` for a call's page, or None when its flow is not
    served (or it was never answered)."""
    flow = _served_by(record["flow"], record.get("flow_version")) if record["flow"] else None
    if flow is None:
        return None
    return _drawn(lambda: draw_call(flow, call_path(record["answers"])), flow.version)


def _served_by(name: str, version: str | None) -> Flow | None:
    """The version of flow ``name`` that served the call; the one served now when that
    cannot be read (or the call predates versions in the store)."""
    if version:
        try:
            return pinned_set(name, version).get(name)
        except StoreUnavailable as err:
            log.warning("graph_version_unavailable", flow=name, version=version, error=str(err))
    return flows().get(name)


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
