"""The HTTP shell: blueprints, the error table, the hooks, and the layers around Flask.

From the outside in: the body limit, the proxy fix (when configured), the platform lane
(answer_url and events, :mod:`toneflow.web.lane`), then Flask for everything else.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

# flow_versions, funnel, push, support_export and support_flows add their routes to the api,
# push and support blueprints.
from toneflow.web import (  # noqa: F401
    answer,
    api,
    events,
    flow_versions,
    funnel,
    health,
    metrics,
    openapi,
    pinning,
    push,
    reload,
    support,
    support_export,
    support_flows,
)
from toneflow.web.errors import register_error_handlers
from toneflow.web.hooks import choose_request_id, flask_begin, flask_end
from toneflow.web.lane import PlatformLane
from toneflow.web.limits import BodyLimit


def init_app(app: Flask) -> None:
    app.before_request(flask_begin)
    app.after_request(flask_end)
    pinning.init_app(app)
    for blueprint in (answer.bp, events.bp, api.bp, health.bp, metrics.bp, openapi.bp, push.bp):
        app.register_blueprint(blueprint)
    support.init_app(app)
    register_error_handlers(app)
    # Every hook is registered by now: the lane checks it runs all that Flask would.
    app.wsgi_app = PlatformLane(app, app.wsgi_app)
    hops = app.config["PROXY_HOPS"]
    if hops:
        # Only headers set by the configured number of proxies count; with none, a
        # client's X-Forwarded-* headers are ignored (gunicorn.conf.py ignores them too).
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    app.wsgi_app = BodyLimit(
        app.wsgi_app, app.config["MAX_CONTENT_LENGTH"], request_id=choose_request_id
    )
