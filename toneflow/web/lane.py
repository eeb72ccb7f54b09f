"""The platform lane: answer_url and the event webhook without Flask's dispatch.

A platform's requests are the hot path (a caller waits in silence for every answer), and
for them Flask's dispatch is most of the cost of a request that is itself small: a
request context (with its URL adapter and session), routing a three-part rule with the
dialect converter, and walking the hook and handler tables (docs/performance.md). This
WSGI layer, just inside the body limit and the proxy fix, recognises the two platform
endpoints by their path and calls the same view functions Flask calls, with the same
request class, the same hooks (:mod:`toneflow.web.hooks`) and the same error table
(:func:`toneflow.web.errors.response_for`), inside the app context the views read their
state from. Anything else, including every request on those paths it is not sure of
(another method, an empty path segment, a path that is not a WSGI string), goes to
Flask, which routes, redirects or refuses it as before.

So there is one behaviour with two ways in, and the lane is only allowed when it can
be the same: :func:`check_covered` refuses to build it (at start-up, naming the hook)
if the app gains a hook, a teardown or a listener to Flask's request signals that Flask
would run for these requests and the lane would not. ``tests/test_web_lane.py``
compares the two on generated requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import suppress
from typing import Any

from flask import Flask, Response, signals
from werkzeug.exceptions import InternalServerError
from werkzeug.wsgi import get_host

from toneflow import answer as answering
from toneflow.logs import get_logger
from toneflow.web import answer, events, hooks
from toneflow.web.errors import HANDLERS, response_for

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
ANSWER_METHODS = frozenset(("GET", "POST", "HEAD"))
EVENTS_PATH = "/events/minivoice"
#: The blueprints whose requests the lane serves: they must have no hooks of their own.
LANE_BLUEPRINTS = ("answer", "events")
#: Flask-WTF's app-wide hook, a closure made by ``CSRFProtect.init_app``: known by name.
CSRF_HOOK = "flask_wtf.csrf.CSRFProtect.init_app.<locals>.csrf_protect"


log = get_logger(__name__)


class LaneNotCovered(RuntimeError):
    """The app runs something for platform requests that the lane would skip."""


def platform_route(environ: dict[str, Any]) -> tuple[Callable[..., Any], tuple] | None:
    """The view and its arguments for a request the lane serves, else None (Flask does).

    The path is decoded as Werkzeug decodes it for routing (UTF-8 with replacement from
    the WSGI string); Flask's rules for these views are ``/answer/<dialect>/<flow>``,
    ``/answer/<dialect>/<flow>/<step>`` and ``/events/minivoice``, where each variable
    is one non-empty segment and the dialect one of :data:`toneflow.answer.DIALECTS`.
    """
    if "HTTP_UPGRADE" in environ:  # Werkzeug's routing refuses a websocket handshake here
        return None
    method = environ.get("REQUEST_METHOD")
    path = environ.get("PATH_INFO", "")
    if path == EVENTS_PATH:
        return (events.minivoice_event, ()) if method == "POST" else None
    if method not in ANSWER_METHODS or not path.startswith("/answer/"):
        return None
    try:
        parts = path.encode("latin-1").decode("utf-8", "replace").split("/")
    except UnicodeEncodeError:  # not a WSGI string: Flask's routing says what it says
        return None
    # "", "answer", dialect, flow[, step]
    if len(parts) not in (4, 5) or parts[2] not in answering.DIALECTS or "" in parts[3:]:
        return None
    return answer.serve, tuple(parts[2:])


class PlatformLane:
    """WSGI: serve the platform's requests directly, hand the rest to ``flask_wsgi``.

    With ``SERVER_NAME`` set, Werkzeug's routing matches the request's host against it:
    then the lane steps aside and Flask serves everything.
    """

    def __init__(self, app: Flask, flask_wsgi: WsgiApp) -> None:
        check_covered(app)
        self.app = app
        self.flask_wsgi = flask_wsgi
        self.active = app.config["SERVER_NAME"] is None

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        route = platform_route(environ) if self.active else None
        if route is None:
            return self.flask_wsgi(environ, start_response)
        view, args = route
        app = self.app
        context = app.app_context()
        context.push()
        request = app.request_class(environ)
        try:
            try:
                response = self._dispatch(request, view, args)
                hooks.end_request(response, environ)
            except Exception as err:  # the error table or the hook failed: Flask's 500
                propagate = app.config["PROPAGATE_EXCEPTIONS"]
                if propagate or (propagate is None and (app.testing or app.debug)):
                    raise
                log.exception("unhandled_error")
                response = response_for(InternalServerError(original_exception=err))
                with suppress(Exception):
                    hooks.end_request(response, environ)
            return _respond(response, environ, start_response)
        finally:
            request.close()  # as Flask does when its request context ends: temporary files
            context.pop()

    def _dispatch(self, request: Any, view: Callable[..., Response], args: tuple) -> Response:
        """The hooks, the host check Flask makes while routing, the view; or the error
        table's answer to what any of them raised."""
        app = self.app
        try:
            hooks.begin_request(app, request.environ)
            trusted = app.config["TRUSTED_HOSTS"]
            if trusted is not None:  # Flask checks it while routing (a 400 for a stranger)
                request.trusted_hosts = trusted
                request.host = get_host(request.environ, trusted)
            return view(request, *args)
        except Exception as err:  # the error table answers, as in Flask
            return response_for(err)


def _respond(
    response: Response, environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """Send a view's response as Werkzeug would, without its general-purpose pass.

    Every response here is built from bytes or text, so it already carries its
    ``Content-Length`` and its body is a list; Werkzeug's ``get_wsgi_headers`` would copy
    the headers to find nothing to add (no ``Location`` to make absolute), and
    ``get_app_iter`` would send no body for HEAD, as this does. The twin test compares
    both byte for byte.
    """
    start_response(response.status, response.headers.to_wsgi_list())
    if environ["REQUEST_METHOD"] == "HEAD":
        return ()
    return response.response


def check_covered(app: Flask) -> None:
    """Refuse the lane unless Flask would run nothing more for these requests than it does.

    App-wide, Flask runs the request hooks (the lane calls the same ones), Flask-WTF's CSRF
    check (which returns at once: only the support forms are checked, and only when they
    ask), the after-request hook, and no teardowns; the two blueprints have none of their
    own. A new hook fails start-up here, naming it, rather than being skipped.
    """
    if app.config.get("WTF_CSRF_CHECK_DEFAULT", True):
        raise LaneNotCovered("CSRF is checked by default: the lane would skip the check")
    tables = {
        "before-request hook": (app.before_request_funcs, {_name(hooks.flask_begin), CSRF_HOOK}),
        "after-request hook": (app.after_request_funcs, {_name(hooks.flask_end)}),
        "teardown": (app.teardown_request_funcs, set()),
        "URL value preprocessor": (app.url_value_preprocessors, set()),
    }
    for blueprint, by_code in app.error_handler_spec.items():
        for code, handlers in by_code.items():
            if handlers and (
                blueprint in LANE_BLUEPRINTS
                or (blueprint is None and (code is not None or handlers != HANDLERS))
            ):
                raise LaneNotCovered(f"error handlers {blueprint}/{code} are not the lane's table")
    for signal in (
        signals.request_started,
        signals.request_finished,
        signals.request_tearing_down,
        signals.got_request_exception,
    ):
        if signal.receivers:
            raise LaneNotCovered(f"Flask's {signal.name} signal has listeners the lane skips")
    for what, (table, lane_runs) in tables.items():
        for blueprint, functions in table.items():
            for name in map(_name, functions):
                if blueprint in LANE_BLUEPRINTS or (blueprint is None and name not in lane_runs):
                    raise LaneNotCovered(f"{what} {name} is not run by the platform lane")


def _name(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"
