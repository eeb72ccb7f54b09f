"""``GET /metrics``: Prometheus text format, for the operator's scraper."""

from __future__ import annotations

from flask import Blueprint, Response

from toneflow import metrics

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape() -> Response:
    body, content_type = metrics.exposition()
    return Response(body, 200, content_type=content_type)
