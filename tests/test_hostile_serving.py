"""Hostile serving: forged forwarded headers, bad Host headers, slow clients, start-up.

Each test is something a client (or an operator's mistake) did to a running toneflow:
what it must not be able to change, and how quickly everyone else must still be served.
"""

from __future__ import annotations

import json
import socket
import string
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import free_port, server_env, start, stop, wait_until_up

MENU = "/answer/minivoice/menu?call_id=h1"
FORGED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}


def redirect_url(response) -> str:
    assert response.status_code == 200, response.data
    return response.json["actions"][1]["redirect"]["url"]


@pytest.fixture
def derived(client_for, flows_dir):
    """A client for an app with no TONEFLOW_PUBLIC_URL: URLs come from the request."""

    def build(**config):
        return client_for({}, FLOWS_DIR=str(flows_dir), PUBLIC_URL=None, **config)

    return build


# --- forwarded headers ----------------------------------------------------------------


def test_forwarded_headers_change_nothing_by_default(derived):
    client = derived()
    url = redirect_url(client.get(MENU, headers=FORGED, base_url="http://calls.example:8000"))
    assert url == "http://calls.example:8000/answer/minivoice/menu/menu"
    collect = client.get(
        "/answer/minivoice/menu/menu", headers=FORGED, base_url="http://calls.example:8000"
    ).json["actions"][1]["collect_digits"]["action_url"]
    assert collect == "http://calls.example:8000/answer/minivoice/menu/route"


def test_with_one_proxy_hop_its_forwarded_headers_are_used(derived):
    client = derived(PROXY_HOPS=1)
    url = redirect_url(client.get(MENU, headers=FORGED, base_url="http://10.0.0.5:8000"))
    assert url == "https://evil.example/answer/minivoice/menu/menu"


def test_with_one_proxy_hop_only_the_last_forwarded_value_counts(derived):
    """A client's own X-Forwarded-Host, which the proxy appends to, is not trusted."""
    client = derived(PROXY_HOPS=1)
    headers = {"X-Forwarded-Proto": "http,https", "X-Forwarded-Host": "evil.example, ivr.example"}
    url = redirect_url(client.get(MENU, headers=headers, base_url="http://10.0.0.5:8000"))
    assert url == "https://ivr.example/answer/minivoice/menu/menu"


@pytest.mark.parametrize("value", ["-1", "two", "true", "1.5"])
def test_a_bad_proxy_hops_value_stops_start_up_naming_it(monkeypatch, value):
    from toneflow.config import ConfigError, load_config

    monkeypatch.setenv("TONEFLOW_PROXY_HOPS", value)
    with pytest.raises(ConfigError, match="TONEFLOW_PROXY_HOPS"):
        load_config()


# --- the Host header ------------------------------------------------------------------


def assert_bad_host(response) -> None:
    assert response.status_code == 400
    assert response.content_type == "application/json"
    assert response.json == {
        "error": {"code": "invalid_request", "message": "the Host header is not a valid host name"}
    }


@pytest.mark.parametrize(
    "host",
    [
        "evil example",
        "<script>",
        "user@evil.example",
        "evil.example/path",
        "evil.example\x1b[31m",
        "evil.example:99999",
        "evil.example:0",
        "evil.example:80x",
        "evil.example:",
        "",
    ],
)
def test_a_host_header_that_is_not_a_host_name_is_400(derived, host):
    assert_bad_host(derived().get(MENU, headers={"Host": host}))


def test_a_forwarded_host_that_is_not_a_host_name_is_400_behind_a_proxy(derived):
    client = derived(PROXY_HOPS=1)
    assert_bad_host(client.get(MENU, headers={"X-Forwarded-Host": "evil example"}))


@pytest.mark.parametrize("host", ["calls.example", "calls.example:8080", "10.0.0.5", "[::1]:80"])
def test_a_valid_host_header_is_used(derived, host):
    url = redirect_url(derived().get(MENU, headers={"Host": host}))
    assert url == f"http://{host.removesuffix(':80')}/answer/minivoice/menu/menu"


HOST_CHARS = string.ascii_letters + string.digits + ".-:[]@/<> %\t\x00\x7f" + "é"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(host=st.text(alphabet=HOST_CHARS, max_size=30))
def test_any_host_header_is_a_400_or_the_host_of_every_url(derived_once, host):
    response = derived_once.get(MENU, headers={"Host": host})
    assert response.status_code in (200, 400)
    if response.status_code == 400:  # ours, or Werkzeug's own when it cannot route it
        assert response.content_type == "application/json"
        assert response.json["error"]["code"] == "invalid_request"
    else:
        url = redirect_url(response)
        assert url.startswith("http://") and url.split("/")[2] == host.removesuffix(":80").lower()


@pytest.fixture
def derived_once(derived):
    return derived()


# --- under gunicorn -------------------------------------------------------------------


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory):
    """gunicorn in the default configuration (the Procfile's), on 127.0.0.1; its port."""
    tmp_path = tmp_path_factory.mktemp("serving")
    port = free_port()
    process = start(tmp_path, server_env(tmp_path, port), port)
    try:
        wait_until_up(process, port, tmp_path)
        yield port
    finally:
        stop(process)


def raw_request(port: int, head: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """Send ``head`` as written (no client library fixes it up); the status and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1"))
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    status_line, _, rest = reply.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.slow
def test_gunicorn_ignores_forwarded_headers_from_loopback_by_default(gunicorn_server):
    port = gunicorn_server
    status, body = raw_request(
        port,
        f"GET {MENU} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Forwarded-Proto: https\r\n"
        "X-Forwarded-Host: evil.example\r\nConnection: close\r\n\r\n",
    )
    assert status == 200
    url = json.loads(body)["actions"][1]["redirect"]["url"]
    assert url == f"http://127.0.0.1:{port}/answer/minivoice/menu/menu"


@pytest.mark.slow
def test_gunicorn_refuses_a_bad_host_with_the_error_shape(gunicorn_server):
    status, body = raw_request(
        gunicorn_server, f"GET {MENU} HTTP/1.1\r\nHost: evil<x>\r\nConnection: close\r\n\r\n"
    )
    assert status == 400
    assert json.loads(body)["error"]["code"] == "invalid_request"


# --- slow clients ---------------------------------------------------------------------

DRIBBLERS = 10
DRIBBLE_SECONDS = 6.0  # longer than gunicorn's 4 s worker timeout
BODY = b'{"event": "call.completed", "call": {"id": "slow"}}'


def dribble(port: int, stop_at: float) -> None:
    """Send an event's headers, then its body one byte a second until ``stop_at``."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        sock.sendall(
            f"POST /events/minivoice HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
        )
        for byte in BODY:
            if time.monotonic() >= stop_at:
                break
            sock.sendall(bytes([byte]))
            time.sleep(1.0)
    except OSError:
        pass  # the server may give up on us first: that is allowed
    finally:
        sock.close()


@pytest.mark.slow
def test_ten_slow_clients_do_not_delay_normal_answers(gunicorn_server):
    port = gunicorn_server
    stop_at = time.monotonic() + DRIBBLE_SECONDS
    threads = [
        threading.Thread(target=dribble, args=(port, stop_at), daemon=True)
        for _ in range(DRIBBLERS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # every slow client has sent its headers
    timings = []
    while time.monotonic() < stop_at - 0.5:
        started = time.monotonic()
        try:
            status, body = raw_request(
                port,
                f"GET {MENU} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n",
                timeout=3.0,
            )
        except OSError as err:
            status, body = 0, repr(err).encode()
        timings.append((round(time.monotonic() - started, 3), status))
        assert status == 200, (timings, body)
        time.sleep(0.2)
    for thread in threads:
        thread.join(timeout=DRIBBLE_SECONDS + 5)
    assert len(timings) >= 10
    assert max(seconds for seconds, _ in timings) < 1.0, timings
