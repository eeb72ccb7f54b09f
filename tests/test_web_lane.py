"""The platform lane answers exactly as Flask's dispatch does, for any request.

Two apps over two stores, the same flows: every request goes to one through the lane
(the app as gunicorn runs it) and to the other through Flask's own ``wsgi_app``, which
routes it to the same views. Status, headers and body must be the same; the request id is
sent, so it is too. Stores evolve alike, so call ids and events may be in the requests.
"""

from __future__ import annotations

import json

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

from toneflow.web.lane import LaneNotCovered, PlatformLane, platform_route


def _call(wsgi, environ: dict) -> tuple[str, list[tuple[str, str]], bytes]:
    seen: dict = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    body = b"".join(wsgi(environ, start_response))
    return seen["status"], sorted(seen["headers"]), body


class Twins:
    """Two apps, one store each: ``lane`` answers as gunicorn runs the app (through its
    lane), ``flask`` through Flask's own ``wsgi_app``, which routes to the same views."""

    def __init__(self, app_config: dict, folder, **config) -> None:
        from app import create_app
        from toneflow.store import migrate

        self.apps = []
        for name in ("lane", "flask"):
            url = f"sqlite:///{folder / name}.db"
            migrate.upgrade(url)
            self.apps.append(create_app({**app_config, "DATABASE_URL": url, **config}))
        self.lane_app, self.flask_app = self.apps

    def lane(self, environ: dict) -> tuple[str, list[tuple[str, str]], bytes]:
        return _call(self.lane_app, environ)

    def flask(self, environ: dict) -> tuple[str, list[tuple[str, str]], bytes]:
        return _call(lambda e, s: Flask.wsgi_app(self.flask_app, e, s), environ)

    def dispose(self) -> None:
        for application in self.apps:
            application.extensions["toneflow.call_log"].engine.dispose()


def environ_for(path: str, headers: dict | None = None, **request) -> dict:
    """A request's WSGI environ, with the request id both ways are sent."""
    headers = {"X-Request-ID": "twin-test", **(headers or {})}
    return EnvironBuilder(path=path, headers=headers, **request).get_environ()


@pytest.fixture
def twin_apps(app_config, tmp_path):
    twins = Twins(app_config, tmp_path)
    yield twins.lane, twins.flask
    twins.dispose()


SEGMENTS = st.sampled_from(
    ["minivoice", "ozml", "OZML", "appointment", "menu", "conference_pin", "start", "done",
     "route", "nope", "", "é", "a b", "%2F", "..", "join"]
)  # fmt: skip
PARAMETER_NAMES = st.sampled_from(
    ["call_id", "CallUUID", "from", "to", "digits", "Digits", "name", "code", "x"]
)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)


@st.composite
def platform_requests(draw) -> dict:
    """A WSGI environ: mostly answer_url shapes, some events, some near misses."""
    kind = draw(st.sampled_from(["answer", "answer", "answer", "event", "other"]))
    method = draw(st.sampled_from(["GET", "GET", "POST", "HEAD", "PUT", "OPTIONS"]))
    headers: dict[str, str] = {}
    if draw(st.integers(0, 9)) == 0:  # a websocket handshake: Werkzeug's routing refuses it
        headers |= {"Connection": "upgrade", "Upgrade": "websocket"}
    if draw(st.booleans()):
        headers["Host"] = draw(st.sampled_from(["toneflow.test", "bad host", "h:1", "[::1]"]))
    data, content_type = None, None
    if kind == "event":
        path = draw(st.sampled_from(["/events/minivoice", "/events/minivoice/", "/events/x"]))
        method = draw(st.sampled_from(["POST", "POST", "GET"]))
        call = {"id": draw(st.sampled_from(["c1", "c2", "", 5])), "status": "completed"}
        event = {"event": draw(st.sampled_from(["call.completed", "nope"])), "call": call,
                 "created_at": "2026-05-29T12:10:00Z"}  # fmt: skip
        data = json.dumps(event) if draw(st.booleans()) else draw(TEXT)
        content_type = draw(st.sampled_from(["application/json", "text/plain"]))
        headers["webhook-id"] = draw(st.sampled_from(["msg_1", "msg_2"]))
    else:
        parts = draw(st.lists(SEGMENTS, min_size=1, max_size=4))
        root = "/answer/" if kind == "answer" else draw(st.sampled_from(["/answer", "/x/"]))
        path = root + "/".join(parts) + draw(st.sampled_from(["", "", "/", "//"]))
        if method == "POST" and draw(st.booleans()):
            fields = draw(st.dictionaries(PARAMETER_NAMES, TEXT, max_size=3))
            if draw(st.booleans()):
                data, content_type = json.dumps({"variables": fields}), "application/json"
            else:
                data, content_type = fields, None
    query = draw(st.dictionaries(PARAMETER_NAMES, TEXT, max_size=3))
    request = {"method": method, "query_string": query, "data": data, "headers": headers}
    return environ_for(path, content_type=content_type, **request)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(environ=platform_requests())
def test_the_lane_answers_as_flask_does(twin_apps, environ):
    through_lane, through_flask = twin_apps
    twin = {**environ, "wsgi.input": type(environ["wsgi.input"])(environ["wsgi.input"].getvalue())}
    assert through_lane(environ) == through_flask(twin)


def test_the_lane_serves_only_what_it_is_sure_of():
    def route(method: str, path: str):
        found = platform_route({"REQUEST_METHOD": method, "PATH_INFO": path})
        return None if found is None else (found[0].__name__, found[1])

    assert route("GET", "/answer/minivoice/menu") == ("serve", ("minivoice", "menu"))
    assert route("HEAD", "/answer/ozml/menu/start") == ("serve", ("ozml", "menu", "start"))
    assert route("POST", "/events/minivoice") == ("minivoice_event", ())
    # Flask routes, redirects or refuses these: the lane leaves them to it.
    for method, path in [
        ("GET", "/answer/minivoice/menu/"),
        ("GET", "/answer/minivoice//menu"),
        ("GET", "/answer/MiniVoice/menu"),
        ("GET", "/answer/minivoice"),
        ("GET", "/answer/minivoice/menu/start/more"),
        ("OPTIONS", "/answer/minivoice/menu"),
        ("DELETE", "/answer/minivoice/menu"),
        ("GET", "/events/minivoice"),
        ("POST", "/events/minivoice/"),
        ("GET", "/answer/minivoice/\u0100"),  # not a WSGI (latin-1) string
    ]:
        assert route(method, path) is None, (method, path)


def test_a_hook_the_lane_would_skip_stops_start_up(app):
    """Adding a hook Flask would run for platform requests fails loudly, naming it."""

    def audit() -> None:
        pass

    app.before_request(audit)
    with pytest.raises(LaneNotCovered, match=r"before-request hook .*audit"):
        PlatformLane(app, app.wsgi_app)
    app.before_request_funcs[None].remove(audit)
    app.teardown_request(audit)
    with pytest.raises(LaneNotCovered, match=r"teardown .*audit"):
        PlatformLane(app, app.wsgi_app)


def test_a_blueprint_hook_on_a_platform_path_stops_start_up(app):
    app.before_request_funcs.setdefault("answer", []).append(lambda: None)
    with pytest.raises(LaneNotCovered, match="is not run by the platform lane"):
        PlatformLane(app, app.wsgi_app)


EVENT = {
    "event": "call.completed",
    "created_at": "2026-05-29T12:10:00Z",
    "call": {"id": "call_1", "status": "completed", "from": "+15551230001"},
}
SUCCESSES = [
    ("GET", "/answer/minivoice/appointment", {"call_id": "call_1"}, None, {}),
    ("GET", "/answer/ozml/menu", {"call_id": "call_2"}, None, {}),
    ("POST", "/answer/minivoice/menu/route", {}, {"call_id": "call_2", "digits": "5"}, {}),
    ("HEAD", "/answer/minivoice/appointment/done", {"call_id": "call_1"}, None, {}),
    ("POST", "/events/minivoice", {}, json.dumps(EVENT), {"webhook-id": "msg_1"}),
    ("POST", "/events/minivoice", {}, json.dumps(EVENT), {"webhook-id": "msg_1"}),
]


def test_answers_and_events_come_out_the_same_both_ways(twin_apps):
    """A call through its steps, then its event twice: the same 200s, byte for byte."""
    through_lane, through_flask = twin_apps
    for method, path, query, data, headers in SUCCESSES:
        request = {
            "method": method,
            "query_string": query,
            "data": data,
            "content_type": "application/json" if isinstance(data, str) else None,
            "headers": headers,
        }
        environs = [environ_for(path, **request) for _ in range(2)]
        lane_reply = through_lane(environs[0])
        assert lane_reply[0] == "200 OK", (path, lane_reply)
        assert lane_reply == through_flask(environs[1])


def test_a_request_signal_listener_stops_start_up(app):
    from flask import request_finished

    def listener(sender, **extra) -> None:
        pass

    request_finished.connect(listener, app)
    try:
        with pytest.raises(LaneNotCovered, match="request-finished signal"):
            PlatformLane(app, app.wsgi_app)
    finally:
        request_finished.disconnect(listener, app)


def test_trusted_hosts_are_checked_both_ways(app_config, tmp_path):
    """With ``TRUSTED_HOSTS`` Flask refuses a stranger's Host while routing; so does the lane."""
    twins = Twins(app_config, tmp_path, TRUSTED_HOSTS=["toneflow.test"])
    try:
        for host, status in (("toneflow.test", "200 OK"), ("evil.example", "400 BAD REQUEST")):
            request = {"query_string": {"call_id": "call_1"}, "headers": {"Host": host}}
            lane_reply = twins.lane(environ_for("/answer/minivoice/appointment", **request))
            assert lane_reply[0] == status, lane_reply
            assert lane_reply == twins.flask(
                environ_for("/answer/minivoice/appointment", **request)
            )
    finally:
        twins.dispose()


def test_with_a_server_name_flask_serves_everything(app_config, tmp_path):
    """Werkzeug's routing matches the host against ``SERVER_NAME``: the lane steps aside."""
    twins = Twins(app_config, tmp_path, SERVER_NAME="toneflow.test")
    try:
        assert not twins.lane_app.wsgi_app.app.active  # BodyLimit wraps the lane
        request = {"headers": {"Host": "other.example"}}
        assert twins.lane(environ_for("/answer/minivoice/appointment", **request)) == (
            twins.flask(environ_for("/answer/minivoice/appointment", **request))
        )
    finally:
        twins.dispose()


def test_an_error_handler_the_lane_does_not_know_stops_start_up(app):
    app.register_error_handler(413, lambda err: ("too big", 413))
    with pytest.raises(LaneNotCovered, match="error handlers None/413"):
        PlatformLane(app, app.wsgi_app)
