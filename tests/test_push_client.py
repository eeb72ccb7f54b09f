"""Pushes sent over real HTTP to local servers that implement each seed exactly
(``tests/platform_servers.py``): the requests, the encodings, every documented error,
a timeout, a refused connection, and that nothing is sent twice."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from platform_servers import AGENT, GENESYS_CALL, VOBIZ_CALL, PlatformServer
from support import free_port
from test_push_plan import CONFERENCE, PUSHES

from toneflow.push import client
from toneflow.push.client import planned_requests, send
from toneflow.push.plan import plan_push
from toneflow.push.platforms import MASK, NotConfigured, settings_for


@pytest.fixture
def server(request):
    with PlatformServer(request.param) as running:
        yield running


def push(server, flow, step, reference, config=None, **variables):
    settings = settings_for(server.platform, {**server.config, **(config or {})})
    plan = plan_push(flow, step, server.platform, variables)
    return send(plan, settings, reference)


# --- VICIdial ---------------------------------------------------------------------


@pytest.mark.parametrize("server", ["vicidial"], indirect=True)
def test_vicidial_gets_the_seeds_request_for_the_conference_pin(server):
    result = push(server, CONFERENCE, "join", {"agent_user": AGENT})
    assert result.ok and result.error is None
    (got,) = server.received
    assert (got.method, got.path) == ("GET", "/agc/api.php")
    assert got.query == {
        "source": "toneflow",
        "user": "6666",
        "pass": "1234",
        "agent_user": "1000",
        "function": "send_dtmf",
        "value": "QQQQ1234SQQQQQ6654P",
    }
    (sent,) = result.requests
    assert sent["url"].endswith(
        "/agc/api.php?source=toneflow&user=6666&pass=****&agent_user=1000"
        "&function=send_dtmf&value=QQQQ1234SQQQQQ6654P"
    )
    assert sent["status"] == 200
    assert sent["reply"] == "SUCCESS: send_dtmf function set - QQQQ1234SQQQQQ6654P|6666"
    assert sent["attempts"] == 1


@pytest.mark.parametrize("server", ["vicidial"], indirect=True)
def test_vicidial_agent_not_logged_in_is_named(server):
    result = push(server, CONFERENCE, "join", {"agent_user": "2000"})
    assert not result.ok
    assert result.error == (
        "VICIdial: agent '2000' is not logged in, so no call took the digits "
        "(reply: 'ERROR: agent_user is not logged in - 6666')"
    )
    assert len(server.received) == 1


@pytest.mark.parametrize("server", ["vicidial"], indirect=True)
def test_vicidial_send_dtmf_not_valid_is_named(server):
    result = push(server, PUSHES, "silence", {"agent_user": AGENT})
    assert server.received[0].query["value"] == "QQ"
    assert result.error == (
        "VICIdial refused the digits as not valid (reply: 'ERROR: send_dtmf not valid - QQ|6666')"
    )


# --- Vobiz ------------------------------------------------------------------------


@pytest.mark.parametrize("server", ["vobiz"], indirect=True)
@pytest.mark.parametrize(("step", "digits"), [("plain", "1234#"), ("paused", "1w2W3")])
def test_vobiz_gets_the_seeds_request(server, step, digits):
    result = push(server, PUSHES, step, {"call_uuid": VOBIZ_CALL, "leg": "bleg"})
    assert result.ok
    (got,) = server.received
    assert (got.method, got.path) == ("POST", f"/api/v1/Account/MA_XXXXXX/Call/{VOBIZ_CALL}/DTMF/")
    assert got.headers["X-Auth-Id"] == "MA_XXXXXX"
    assert got.headers["X-Auth-Token"] == "vobiz-token"
    assert got.headers["Content-Type"] == "application/json"
    assert got.json() == {"digits": digits, "leg": "bleg"}
    (sent,) = result.requests
    assert sent["status"] == 202
    assert sent["headers"] == {"X-Auth-ID": "MA_XXXXXX", "X-Auth-Token": MASK}
    assert sent["body"] == f'{{"digits":"{digits}","leg":"bleg"}}'


@pytest.mark.parametrize("server", ["vobiz"], indirect=True)
def test_vobiz_leaves_leg_to_its_default_when_not_given(server):
    assert push(server, PUSHES, "plain", {"call_uuid": VOBIZ_CALL}).ok
    assert server.received[0].json() == {"digits": "1234#"}


@pytest.mark.parametrize("server", ["vobiz"], indirect=True)
@pytest.mark.parametrize(
    ("reference", "config", "status", "cause"),
    [
        ({"call_uuid": "gone"}, {}, 404, "Vobiz: the call is not active (call_uuid 'gone'; 404"),
        (
            {"call_uuid": VOBIZ_CALL},
            {"VOBIZ_AUTH_TOKEN": "wrong"},
            401,
            "Vobiz refused the credentials",
        ),
        ({"call_uuid": VOBIZ_CALL, "leg": "cleg"}, {}, 400, "Vobiz refused the request: digits"),
    ],
)
def test_vobiz_documented_errors_are_named(server, reference, config, status, cause):
    result = push(server, PUSHES, "plain", reference, config)
    assert not result.ok
    assert result.requests[0]["status"] == status
    assert result.error.startswith(cause)
    assert len(server.received) == 1


@pytest.mark.parametrize("server", ["vobiz"], indirect=True)
def test_the_vobiz_server_refuses_a_lowercase_path_as_its_document_says(server):
    import httpx

    reply = httpx.post(
        f"{server.url}/api/v1/account/MA_XXXXXX/call/{VOBIZ_CALL}/dtmf/",
        headers={"X-Auth-ID": "MA_XXXXXX", "X-Auth-Token": "vobiz-token"},
        json={"digits": "1"},
    )
    assert reply.status_code == 401


# --- Genesys ----------------------------------------------------------------------


@pytest.mark.parametrize("server", ["genesys"], indirect=True)
def test_genesys_gets_one_request_per_run_with_the_pause_waited_out(server):
    result = push(server, PUSHES, "split", {"call_id": GENESYS_CALL})
    assert result.ok
    first, second = server.received
    for got, digits in ((first, "1"), (second, "2")):
        assert (got.method, got.path) == ("POST", f"/api/v2/me/calls/{GENESYS_CALL}")
        assert got.headers["Authorization"] == "Bearer genesys-token"
        assert got.json() == {"operationName": "SendDtmf", "digits": digits}
    # '1,,2': one second of pause after 1's tone and gap (200 ms), measured at the server
    apart = second.at - first.at
    assert 1.2 <= apart < 2.2, apart
    assert [r["wait_ms"] for r in result.requests] == [0, 1200]
    assert result.requests[1]["sent_at_ms"] >= 1200
    assert [r["headers"] for r in result.requests] == [{"Authorization": f"Bearer {MASK}"}] * 2


@pytest.mark.parametrize("server", ["genesys"], indirect=True)
def test_genesys_stops_at_the_first_failed_run(server):
    result = push(server, PUSHES, "split", {"call_id": "nope"})
    assert len(server.received) == 1
    assert result.error == (
        'Genesys has no call \'nope\' (404, reply: \'{"statusCode": 404, "statusMessage": '
        '"call not found"}\'); stopped: request 1 of 2 failed, the rest were not sent'
    )


@pytest.mark.parametrize("server", ["genesys"], indirect=True)
def test_genesys_refuses_a_wrong_token(server):
    result = push(server, PUSHES, "split", {"call_id": GENESYS_CALL}, {"GENESYS_TOKEN": "x"})
    assert result.error.startswith("Genesys refused the token (TONEFLOW_GENESYS_TOKEN; 401")


# --- configuration and dry runs ------------------------------------------------------


def test_a_platform_not_configured_names_its_variables():
    with pytest.raises(NotConfigured) as caught:
        settings_for("vobiz", {"VOBIZ_URL": "http://x"})
    assert str(caught.value) == (
        "Vobiz is not configured: TONEFLOW_VOBIZ_AUTH_ID, TONEFLOW_VOBIZ_AUTH_TOKEN are not set "
        "(it needs TONEFLOW_VOBIZ_URL, TONEFLOW_VOBIZ_AUTH_ID, TONEFLOW_VOBIZ_AUTH_TOKEN)"
    )
    with pytest.raises(NotConfigured, match=r"^Genesys is not configured: TONEFLOW_GENESYS_URL, "):
        settings_for("genesys", {})


def test_a_dry_run_masks_every_secret_and_sends_nothing():
    with PlatformServer("vicidial") as vicidial:
        settings = settings_for("vicidial", vicidial.config)
        (request,) = planned_requests(
            plan_push(CONFERENCE, "join", "vicidial", {}), settings, {"agent_user": AGENT}
        )
        assert "pass=****" in request["url"] and "value=QQQQ1234SQQQQQ6654P" in request["url"]
        assert vicidial.received == []
    settings = settings_for("genesys", {"GENESYS_URL": "http://h", "GENESYS_TOKEN": "s3cret"})
    requests = planned_requests(
        plan_push(PUSHES, "split", "genesys", {}), settings, {"call_id": "c"}
    )
    assert [(r["wait_ms"], r["body"]) for r in requests] == [
        (0, '{"operationName":"SendDtmf","digits":"1"}'),
        (1200, '{"operationName":"SendDtmf","digits":"2"}'),
    ]
    assert "s3cret" not in repr(requests)


# --- the network: timeouts, refusals, never twice ------------------------------------


def test_a_timeout_is_recorded_and_the_request_is_not_sent_again(monkeypatch):
    monkeypatch.setattr(client, "REPLY_S", 0.3)
    with PlatformServer("vobiz", delay_s=1.0) as slow:
        result = push(slow, PUSHES, "plain", {"call_uuid": VOBIZ_CALL})
        time.sleep(1.2)  # the server finishes its (late) reply
        assert len(slow.received) == 1
    (sent,) = result.requests
    assert not result.ok and sent["status"] is None and sent["attempts"] == 1
    assert sent["error"].startswith("no reply within the timeout (0.3 s for the reply)")
    assert "not sent again" in sent["error"]


def test_a_refused_connection_is_tried_once_more_then_given_up():
    port = free_port()
    settings = {
        "VICIDIAL_URL": f"http://127.0.0.1:{port}",
        "VICIDIAL_USER": "u",
        "VICIDIAL_PASS": "p",
    }
    plan = plan_push(CONFERENCE, "join", "vicidial", {})
    result = send(plan, settings_for("vicidial", settings), {"agent_user": AGENT})
    (sent,) = result.requests
    assert sent["attempts"] == 2 and sent["status"] is None
    assert sent["error"].startswith("could not connect to 127.0.0.1 (tried 2 times)")


def test_a_refused_connection_is_retried_and_then_delivered_once():
    port = free_port()
    servers = []

    def start_listening(seconds):  # the client's pause before it connects again
        servers.append(PlatformServer("vicidial", port=port).start())

    plan = plan_push(CONFERENCE, "join", "vicidial", {})
    config = {
        "VICIDIAL_URL": f"http://127.0.0.1:{port}",
        "VICIDIAL_USER": "6666",
        "VICIDIAL_PASS": "1234",
    }
    try:
        result = send(
            plan, settings_for("vicidial", config), {"agent_user": AGENT}, sleep=start_listening
        )
        assert result.ok and result.requests[0]["attempts"] == 2
        assert len(servers[0].received) == 1
    finally:
        for running in servers:
            running.stop()


def test_a_connection_dropped_after_the_request_was_sent_is_not_retried():
    """A server that reads the request and hangs up: it may have acted on it."""
    accepted = []
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        for _ in range(2):
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(_read_request(conn))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    config = {"GENESYS_URL": f"http://127.0.0.1:{listener.getsockname()[1]}", "GENESYS_TOKEN": "t"}
    plan = plan_push(PUSHES, "split", "genesys", {})
    try:
        result = send(plan, settings_for("genesys", config), {"call_id": "c"})
    finally:
        listener.close()
    assert len(accepted) == 1 and b'"digits":"1"' in accepted[0]
    (sent,) = result.requests
    assert sent["attempts"] == 1 and sent["status"] is None
    assert "may have reached the platform, so it is not sent again" in sent["error"]
    assert result.error.endswith("stopped: request 1 of 2 failed, the rest were not sent")


def _read_request(conn: socket.socket) -> bytes:
    """One whole HTTP request (headers, then Content-Length bytes of body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body


@pytest.mark.parametrize(
    ("platform", "reference", "status", "reply", "error"),
    [
        ("genesys", {"call_id": "c"}, 200, '{"statusCode": 0}', None),
        ("genesys", {"call_id": "c"}, 200, '{"statusCode": 3, "statusMessage": "busy"}',
         "Genesys did not send the digits: statusCode 3"),
        ("genesys", {"call_id": "c"}, 500, "", "Genesys answered HTTP 500 (an empty reply)"),
        ("vobiz", {"call_uuid": "u"}, 200, '{"message": "digits sent"}', None),
        ("vobiz", {"call_uuid": "u"}, 503, "down", "Vobiz answered with an error (HTTP 503"),
        ("vicidial", {"agent_user": "1"}, 200, "ERROR: something else - 6666",
         "VICIdial answered with an error (reply: 'ERROR: something else - 6666')"),
        ("vicidial", {"agent_user": "1"}, 502, "<html>bad gateway</html>",
         "VICIdial answered HTTP 502 without a SUCCESS line"),
    ],
)  # fmt: skip
def test_every_other_reply_is_an_error_quoting_it(platform, reference, status, reply, error):
    from toneflow.push.platforms import reply_error

    found = reply_error(platform, reference, status, reply)
    assert found == error if error is None else found.startswith(error)
