"""Flow versions in the web app: recording the set served, the API, the support page.

Start-up and every reload (a HUP, or an edit while developing) record each version they
serve with its source (``toneflow.store.versions.record_versions``). The store may be
down then: answers do not need it, so that is logged (``flow_versions_not_recorded``)
and the next reload records them; until then another server cannot serve a call pinned
to such a version (it answers ``503``, never another version).

``GET /api/flows/<flow>/versions[/<version>]`` (bearer, like the rest of ``/api``) and
``/support/flows/<flow>/versions/<version>`` (the source, escaped, for support staff:
the call page links each answer's version here).
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime

from flask import Flask, render_template
from sqlalchemy.exc import SQLAlchemyError

from schemas.versions import FLOW_VERSION_LIST, FLOW_VERSION_SOURCE
from toneflow.logs import get_logger
from toneflow.store.versions import get_version, list_versions, record_versions
from toneflow.web import api, support
from toneflow.web.errors import ApiError
from toneflow.web.state import CALL_LOG, FLOWS, store

log = get_logger(__name__)


def server_name(config: dict) -> str:
    """``TONEFLOW_SERVER_ID``, else this host's name and port: who loaded a version first."""
    given = config.get("SERVER_ID")
    if given:
        return str(given)
    port = config.get("PORT")
    return f"{socket.gethostname()}:{port}" if port else socket.gethostname()


def record_served(app: Flask) -> None:
    """Record every version the app serves (logged, never raised, when the store is down)."""
    flow_set = app.extensions[FLOWS]
    try:
        new = record_versions(
            app.extensions[CALL_LOG].engine,
            flow_set.flows.values(),
            server=server_name(app.config),
            at=datetime.now(UTC),
        )
    except SQLAlchemyError as err:
        log.error(
            "flow_versions_not_recorded",
            error=str(err),
            versions={flow.name: flow.version for flow in flow_set.flows.values()},
            hint="recorded at the next reload; until then other servers cannot serve "
            "calls pinned to these versions",
        )
        return
    log.info(
        "flow_versions_recorded",
        new=new,
        versions={flow.name: flow.version for flow in flow_set.flows.values()},
    )


def _version_row(flow: str, version: str) -> dict:
    row = get_version(store(), flow, version)
    if row is None:
        raise ApiError(404, "not_found", f"no version '{version}' of flow '{flow}'")
    return row


@api.bp.get("/flows/<flow>/versions")
def version_list(flow: str) -> dict:
    versions = list_versions(store(), flow)
    if not versions:
        raise ApiError(404, "not_found", f"no versions of a flow named '{flow}'")
    return FLOW_VERSION_LIST.dump({"flow": flow, "versions": versions})


@api.bp.get("/flows/<flow>/versions/<version>")
def version_source(flow: str, version: str) -> dict:
    return FLOW_VERSION_SOURCE.dump(_version_row(flow, version))


@support.bp.get("/flows/<flow>/versions/<version>")
def version_page(flow: str, version: str) -> tuple[str, int]:
    row = get_version(store(), flow, version)
    if row is None:
        return render_template("support/version_missing.html", flow=flow, version=version), 404
    return render_template("support/version.html", version=row), 200
