"""What the app holds for its views: the flow set, the store engine, the public URL."""

from __future__ import annotations

from flask import current_app, request
from sqlalchemy import Engine

from toneflow.flows.registry import FlowSet

FLOWS = "toneflow.flows"
STORE = "toneflow.store"


def flows() -> FlowSet:
    return current_app.extensions[FLOWS]


def store() -> Engine:
    return current_app.extensions[STORE]


def public_url() -> str:
    """``TONEFLOW_PUBLIC_URL`` when set (behind a proxy), else what the request says."""
    return current_app.config["PUBLIC_URL"] or request.host_url
