"""Local stand-ins for the three push platforms, each exactly as its seed document says.

VICIdial, Vobiz and Genesys cannot run here, so each is a real HTTP server (werkzeug's
``make_server``, in a thread) that implements only what ``shared/seeds/`` documents —
paths, auth headers, success and error bodies, status codes — and records every request
it received (:class:`Received`), with the time it arrived.

- **VICIdial** (``vicidial-send_dtmf.txt``): ``GET /agc/api.php?source&user&pass&agent_user
  &function=send_dtmf&value``. ``SUCCESS: send_dtmf function set - <value>|<user>``;
  ``ERROR: agent_user is not logged in - <user>`` for an agent not in ``agents``;
  ``ERROR: send_dtmf not valid - <value>|<user>`` for a value that is not digits, P, S, Q.
- **Vobiz** (``vobiz-send-dtmf.txt``): ``POST /api/v1/Account/<auth_id>/Call/<call_uuid>
  /DTMF/`` with ``X-Auth-ID``/``X-Auth-Token`` and ``{"digits", "leg"?}``: ``202`` and
  ``{"api_id", "message": "digits sent"}``; ``400`` for missing or invalid digits (``0-9 *
  # w W``) or leg; ``401`` for missing or wrong auth headers or a lowercase path; ``404``
  for a call not in ``calls``. (The error bodies are not documented: a JSON ``error``.)
- **Genesys** (``genesys-senddtmf.txt``): ``POST /api/v2/me/calls/<id>`` with
  ``{"operationName": "SendDtmf", "digits": "<0-9>"}``: ``{"statusCode": 0}``. The bearer
  token is the issue's; a wrong one gets ``401`` and an unknown call ``404`` (undocumented).

``accept_any=True`` makes every agent logged in and every call active. ``delay_s`` holds
each reply back (a timeout). Run one by hand (docs/push.md)::

    .venv/bin/python -m tests.platform_servers vicidial --port 8901
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

VICIDIAL_USER, VICIDIAL_PASS = "6666", "1234"  # the seed's example call
VOBIZ_AUTH_ID, VOBIZ_AUTH_TOKEN = "MA_XXXXXX", "vobiz-token"
GENESYS_TOKEN = "genesys-token"
AGENT, VOBIZ_CALL, GENESYS_CALL = (
    "1000",
    "c0ffee00-0000-4000-8000-000000000001",
    "012PUFMMS0ASNAK48O7GK2LAES00000J",
)

_VICIDIAL_VALUE = re.compile(r"^[0-9PSQ]+$")
_VOBIZ_DIGITS = re.compile(r"^[0-9*#wW]+$")
_GENESYS_DIGITS = re.compile(r"^[0-9]+$")
_VOBIZ_PATH = re.compile(r"^/api/v1/Account/([^/]+)/Call/([^/]+)/DTMF/$")
_GENESYS_PATH = re.compile(r"^/api/v2/me/calls/([^/]+)$")


@dataclass(frozen=True)
class Received:
    """One request as the server got it; ``at`` is ``time.monotonic()`` on arrival."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class PlatformServer:
    """One platform's documented API on 127.0.0.1; ``url`` is its base URL."""

    platform: str
    port: int = 0
    accept_any: bool = False
    delay_s: float = 0.0
    agents: set[str] = field(default_factory=lambda: {AGENT})
    calls: set[str] | None = None  # default: the platform's example call
    received: list[Received] = field(default_factory=list)
    verbose: bool = False  # print each request and the status it got (run by hand)

    def __post_init__(self) -> None:
        if self.calls is None:
            self.calls = {"vobiz": {VOBIZ_CALL}, "genesys": {GENESYS_CALL}}.get(
                self.platform, set()
            )
        self._server = make_server(
            "127.0.0.1", self.port, self._app, threaded=True, request_handler=_QuietHandler
        )
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> PlatformServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> PlatformServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def config(self) -> dict[str, str]:
        """The toneflow settings that point at this server, with its credentials."""
        return {
            "vicidial": {
                "VICIDIAL_URL": self.url,
                "VICIDIAL_USER": VICIDIAL_USER,
                "VICIDIAL_PASS": VICIDIAL_PASS,
            },
            "vobiz": {
                "VOBIZ_URL": self.url,
                "VOBIZ_AUTH_ID": VOBIZ_AUTH_ID,
                "VOBIZ_AUTH_TOKEN": VOBIZ_AUTH_TOKEN,
            },
            "genesys": {"GENESYS_URL": self.url, "GENESYS_TOKEN": GENESYS_TOKEN},
        }[self.platform]

    # --- the WSGI app -----------------------------------------------------------

    def _app(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        self.received.append(
            Received(
                request.method,
                request.path,
                request.args.to_dict(),
                dict(request.headers),
                body,
                time.monotonic(),
            )
        )
        if self.delay_s:
            time.sleep(self.delay_s)
        handler = {"vicidial": self._vicidial, "vobiz": self._vobiz, "genesys": self._genesys}
        response = handler[self.platform](request, body)
        if self.verbose:
            shown = request.full_path.rstrip("?") + (
                f" {body.decode(errors='replace')}" if body else ""
            )
            print(
                f"{request.method} {shown} -> {response.status}: {response.get_data(as_text=True)}",
                flush=True,
            )
        return response(environ, start_response)

    def _live(self, known: set[str], name: str) -> bool:
        return self.accept_any or name in known

    def _vicidial(self, request: Request, body: bytes) -> Response:
        if request.method != "GET" or request.path != "/agc/api.php":
            return Response("not found", 404)
        args = request.args
        user = args.get("user", "")
        if args.get("function") != "send_dtmf" or not args.get("source"):
            return Response(f"ERROR: function not valid - {user}", 200)
        value = args.get("value", "")
        if not self._live(self.agents, args.get("agent_user", "")):
            return Response(f"ERROR: agent_user is not logged in - {user}", 200)
        # The seed's malformed example is QQ: silence alone, or anything but 0-9 P S Q.
        if not _VICIDIAL_VALUE.match(value) or not value.strip("Q"):
            return Response(f"ERROR: send_dtmf not valid - {value}|{user}", 200)
        return Response(f"SUCCESS: send_dtmf function set - {value}|{user}", 200)

    def _vobiz(self, request: Request, body: bytes) -> Response:
        match = _VOBIZ_PATH.match(request.path)
        if request.method != "POST" or match is None:
            lowercase = request.path.lower().startswith("/api/v1/account/")
            return _json(
                {"error": "unauthorized" if lowercase else "not found"}, 401 if lowercase else 404
            )
        auth_id, call_uuid = match.groups()
        headers = request.headers
        if headers.get("X-Auth-ID") != auth_id or (
            auth_id != VOBIZ_AUTH_ID or headers.get("X-Auth-Token") != VOBIZ_AUTH_TOKEN
        ):
            return _json({"error": "missing or incorrect auth headers"}, 401)
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        digits = payload.get("digits") if isinstance(payload, dict) else None
        leg = payload.get("leg", "aleg") if isinstance(payload, dict) else None
        if not isinstance(digits, str) or not _VOBIZ_DIGITS.match(digits):
            return _json({"error": "digits is missing or contains invalid characters"}, 400)
        if leg not in ("aleg", "bleg", "both"):
            return _json({"error": "leg must be aleg, bleg or both"}, 400)
        if not self._live(self.calls, call_uuid):
            return _json({"error": "call_uuid is not an active call"}, 404)
        return _json({"api_id": str(uuid.uuid4()), "message": "digits sent"}, 202)

    def _genesys(self, request: Request, body: bytes) -> Response:
        match = _GENESYS_PATH.match(request.path)
        if request.method != "POST" or match is None:
            return _json({"statusCode": 404, "statusMessage": "not found"}, 404)
        if request.headers.get("Authorization") != f"Bearer {GENESYS_TOKEN}":
            return _json({"statusCode": 401, "statusMessage": "unauthorized"}, 401)
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or payload.get("operationName") != "SendDtmf":
            return _json({"statusCode": 1, "statusMessage": "operationName not valid"}, 400)
        digits = payload.get("digits")
        if not isinstance(digits, str) or not _GENESYS_DIGITS.match(digits):
            return _json({"statusCode": 1, "statusMessage": "digits must be 0-9"}, 400)
        if not self._live(self.calls, match.group(1)):
            return _json({"statusCode": 404, "statusMessage": "call not found"}, 404)
        return _json({"statusCode": 0}, 200)


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request: the server prints its own when run by hand."""

    def log_request(self, *args: Any) -> None:
        pass


def _json(value: Any, status: int) -> Response:
    return Response(json.dumps(value), status, content_type="application/json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("platform", choices=("vicidial", "vobiz", "genesys"))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--accept-any", action="store_true", help="every agent/call is live")
    args = parser.parse_args()
    server = PlatformServer(args.platform, args.port, accept_any=args.accept_any)
    print(f"{args.platform} test server on {server.url}; set:")
    for key, value in server.config.items():
        print(f"  export TONEFLOW_{key}={value}")
    live = sorted(server.agents) if args.platform == "vicidial" else sorted(server.calls)
    print(f"live {'agents' if args.platform == 'vicidial' else 'calls'}: {', '.join(live)}")
    print("every request received is printed below; Ctrl-C stops", flush=True)
    server.verbose = True
    with contextlib.suppress(KeyboardInterrupt):
        server._server.serve_forever()


if __name__ == "__main__":
    main()
