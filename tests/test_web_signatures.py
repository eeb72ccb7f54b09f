"""Standard Webhooks signatures on events (and, when asked, on answers)."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import standardwebhooks.webhooks
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import SEED_WEBHOOK

from toneflow.web.signatures import SecretError, SignatureError, Verifier, sign

# The Standard Webhooks specification's published test vector.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
OTHER_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
BODY = json.dumps(SEED_WEBHOOK).encode()


def signed(
    body: bytes = BODY,
    secret: str = VECTOR_SECRET,
    message_id: str = "msg_1",
    timestamp: int | None = None,
) -> dict[str, str]:
    return sign(secret, message_id, timestamp or int(time.time()), body)


@pytest.fixture
def signed_client(client_for):
    return client_for(
        {
            "menu.yaml": """
        steps:
          menu:
            - speak: "Hello {{ variables.name }}"
    """
        },
        WEBHOOK_SECRET=f"{VECTOR_SECRET} {OTHER_SECRET}",
    )


def post(client, body: bytes = BODY, headers: dict[str, str] | None = None):
    return client.post(
        "/events/minivoice", data=body, content_type="application/json", headers=headers or {}
    )


def test_the_specification_test_vector_signs_exactly():
    assert (
        sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)["webhook-signature"]
        == VECTOR_SIGNATURE
    )


def test_the_specification_test_vector_verifies_at_its_own_time(monkeypatch):
    class Then(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(VECTOR_TIMESTAMP + 10, tz=UTC)

    monkeypatch.setattr(standardwebhooks.webhooks, "datetime", Then)
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    Verifier(VECTOR_SECRET).verify(VECTOR_BODY, headers)
    with pytest.raises(SignatureError, match="no signature matches"):
        Verifier(VECTOR_SECRET).verify(VECTOR_BODY + b" ", headers)


def test_a_signed_event_is_stored(signed_client):
    response = post(signed_client, headers=signed())
    assert response.status_code == 200
    assert response.json == {"status": "stored"}


def test_the_second_secret_of_a_rotation_is_accepted(signed_client):
    response = post(signed_client, headers=signed(secret=OTHER_SECRET))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda h: {},
            "missing signature header(s): webhook-id, webhook-timestamp, webhook-signature",
        ),
        (
            lambda h: {**h, "webhook-signature": ""},
            "missing signature header(s): webhook-signature",
        ),
        (
            lambda h: {**h, "webhook-signature": "v1,AAAA" + h["webhook-signature"][7:]},
            "no signature matches",
        ),
        (lambda h: {**h, "webhook-signature": "garbage"}, "malformed webhook-signature"),
        (lambda h: {**h, "webhook-signature": "v1,abc"}, "malformed webhook-signature"),
        (
            lambda h: {**h, "webhook-signature": "v2," + h["webhook-signature"][3:]},
            "no signature matches",
        ),
        (lambda h: {**h, "webhook-timestamp": "yesterday"}, "not a Unix time"),
        (lambda h: {**h, "webhook-timestamp": "nan"}, "not a Unix time"),
        (lambda h: {**h, "webhook-timestamp": "1e400"}, "not a Unix time"),
        (lambda h: {**h, "webhook-id": "msg_other"}, "no signature matches"),
    ],
)
def test_unsigned_or_badly_signed_events_are_401_saying_why(signed_client, change, message):
    response = post(signed_client, headers=change(signed()))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert message in response.json["error"]["message"]


@pytest.mark.parametrize(
    ("offset", "message"),
    [(-301, "more than 5 minutes old"), (301, "more than 5 minutes in the future")],
)
def test_timestamps_outside_five_minutes_are_refused(signed_client, offset, message):
    response = post(signed_client, headers=signed(timestamp=int(time.time()) + offset))
    assert response.status_code == 401
    assert message in response.json["error"]["message"]


def test_a_body_that_is_not_utf8_is_401_not_500(signed_client):
    response = post(signed_client, body=b"\xff\xfe", headers=signed(body=b"x"))
    assert response.status_code == 401
    assert "not UTF-8" in response.json["error"]["message"]


def test_a_valid_signature_over_a_tampered_body_is_refused(signed_client):
    headers = signed()
    tampered = BODY.replace(b"call_123", b"call_999")
    assert post(signed_client, body=tampered, headers=headers).status_code == 401


def test_answers_are_not_signed_unless_asked(signed_client):
    assert signed_client.get("/answer/minivoice/menu?name=Ann").status_code == 200


def test_signed_answers_when_asked(client_for):
    client = client_for(
        {
            "menu.yaml": """
        steps:
          menu:
            - speak: "Hello {{ variables.name }}"
    """
        },
        WEBHOOK_SECRET=VECTOR_SECRET,
        SIGN_ANSWERS=True,
    )
    assert client.get("/answer/minivoice/menu?name=Ann").status_code == 401
    ok = client.get("/answer/minivoice/menu?name=Ann", headers=signed(body=b""))
    assert ok.json == {"actions": [{"speak": {"text": "Hello Ann"}}]}
    form = b"CallId=c1&name=Bob"
    response = client.post(
        "/answer/minivoice/menu",
        data=form,
        content_type="application/x-www-form-urlencoded",
        headers=signed(body=form),
    )
    assert response.json == {"actions": [{"speak": {"text": "Hello Bob"}}]}


@pytest.mark.parametrize("secret", ["whsec_", "whsec_!!!", "   "])
def test_a_bad_secret_stops_start_up_naming_the_variable(client_for, secret):
    with pytest.raises((SecretError, ValueError), match="TONEFLOW_WEBHOOK_SECRET"):
        client_for({"x.yaml": "steps:\n  a:\n    - hangup: {}\n"}, WEBHOOK_SECRET=secret)


def test_sign_answers_without_a_secret_is_refused(client_for):
    with pytest.raises(ValueError, match="TONEFLOW_SIGN_ANSWERS=1 needs"):
        client_for({"x.yaml": "steps:\n  a:\n    - hangup: {}\n"}, SIGN_ANSWERS=True)


def test_the_cli_signs_a_request_the_app_accepts(signed_client, monkeypatch):
    from toneflow.cli.webhooks import webhooks

    monkeypatch.setenv("TONEFLOW_WEBHOOK_SECRET", OTHER_SECRET)
    result = CliRunner().invoke(webhooks, ["sign", BODY.decode(), "--id", "msg_cli"])
    assert result.exit_code == 0, result.output
    headers = dict(line.split(": ", 1) for line in result.output.splitlines())
    assert headers["webhook-id"] == "msg_cli"
    assert post(signed_client, headers=headers).status_code == 200
    curl = CliRunner().invoke(webhooks, ["sign", BODY.decode(), "--curl"]).output.split()
    assert curl[0::2] == ["-H", "-H", "-H"]
    assert all(" " not in argument for argument in curl)


header_text = st.text(st.characters(min_codepoint=32, max_codepoint=0x7E), max_size=60)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    webhook_id=header_text,
    timestamp=header_text,
    signature=header_text,
    body=st.binary(max_size=200),
)
def test_no_header_or_body_garbage_is_a_500(signed_client, webhook_id, timestamp, signature, body):
    response = post(
        signed_client,
        body=body,
        headers={
            "webhook-id": webhook_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": signature,
        },
    )
    assert response.status_code == 401


def test_the_readme_signing_example_works_against_gunicorn(tmp_path):
    """The README's `sh` block, run as written, against gunicorn started with its secret."""
    import re
    import subprocess

    from support import ROOT, free_port, server_env, start, stop, wait_until_up

    block = re.search(
        r"## Signed webhooks.*?```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S
    ).group(1)
    export, body_line, curl = [line.split("   #")[0] for line in block.strip().splitlines()]
    secret = export.split("=", 1)[1]
    port = free_port()
    process = start(tmp_path, server_env(tmp_path, port, TONEFLOW_WEBHOOK_SECRET=secret), port)
    try:
        wait_until_up(process, port, tmp_path)
        script = (
            "\n".join([export, body_line, curl])
            .replace("localhost:8000", f"127.0.0.1:{port}")
            .replace(".venv/bin/", f"{Path(sys.executable).parent}/")
        )
        signed_run = subprocess.run(
            ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert signed_run.stdout == '{"status":"stored"}\n', signed_run.stderr
        unsigned = script.replace(curl.split("$(")[1].split(")")[0], "true")
        unsigned_run = subprocess.run(
            ["bash", "-c", unsigned], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert '"code": "unauthorized"' in unsigned_run.stdout
    finally:
        stop(process)
