"""Standard Webhooks signatures on events (and, when asked, on answers)."""

from __future__ import annotations

import json
import math
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

from toneflow.config import ConfigError
from toneflow.signing import SecretError, SignatureError, Verifier, answer_content, sign

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
    # Whole seconds rounded away from now: truncating put a "301 s ahead" stamp 300.x s
    # ahead, inside the tolerance, whenever the second's fraction plus the request took 1 s.
    now = time.time()
    timestamp = (math.ceil(now) if offset > 0 else math.floor(now)) + offset
    response = post(signed_client, headers=signed(timestamp=timestamp))
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
    get = answer_content("GET", b"/answer/minivoice/menu", b"name=Ann", b"")
    ok = client.get("/answer/minivoice/menu?name=Ann", headers=signed(body=get))
    assert ok.json == {"actions": [{"speak": {"text": "Hello Ann"}}]}
    form = b"CallId=c1&name=Bob"
    post_content = answer_content("POST", b"/answer/minivoice/menu", b"", form)
    response = client.post(
        "/answer/minivoice/menu",
        data=form,
        content_type="application/x-www-form-urlencoded",
        headers=signed(body=post_content),
    )
    assert response.json == {"actions": [{"speak": {"text": "Hello Bob"}}]}


def test_a_signature_over_the_body_alone_no_longer_opens_an_answer(client_for):
    """Before: a GET signed the empty body, so one triple opened any flow, step or call."""
    client = client_for(
        {"menu.yaml": 'steps:\n  menu:\n    - speak: "Hello {{ variables.name }}"\n'},
        WEBHOOK_SECRET=VECTOR_SECRET,
        SIGN_ANSWERS=True,
    )
    response = client.get("/answer/minivoice/menu?name=Mallory", headers=signed(body=b""))
    assert response.status_code == 401
    assert "no signature matches" in response.json["error"]["message"]


# docs/hardening.md's worked example: the content and the signature it shows.
DOC_CONTENT = b"GET /answer/minivoice/appointment?call_id=c1&confirmation_code=1234\n"
DOC_SIGNATURE = "v1,IGUoT/ykZewDst90ltuXP9rYSIp/XJHgl+y4VovmwoU="
DOC_POST_SIGNATURE = "v1,1nWFEOs1C60uJyrpEKvpoW7Gn8CXQx3haxHmOsWhfO0="


def test_the_documented_worked_example_is_what_the_code_signs():
    content = answer_content(
        "GET", b"/answer/minivoice/appointment", b"call_id=c1&confirmation_code=1234", b""
    )
    assert content == DOC_CONTENT
    headers = sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, content)
    assert headers["webhook-signature"] == DOC_SIGNATURE
    form = answer_content("POST", b"/answer/ozml/menu", b"", b"CallId=c1&Digits=1")
    assert form == b"POST /answer/ozml/menu\nCallId=c1&Digits=1"
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, form)["webhook-signature"] == (
        DOC_POST_SIGNATURE
    )
    doc = (Path(__file__).resolve().parent.parent / "docs" / "hardening.md").read_text()
    signed_line = f"{VECTOR_ID}.{VECTOR_TIMESTAMP}.{DOC_CONTENT.decode().rstrip()}"
    for shown in (signed_line, DOC_SIGNATURE, DOC_POST_SIGNATURE, VECTOR_SECRET):
        assert shown in doc


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("notasecret", "secret 1 must start with whsec_"),
        ("whsec_", "secret 1 has nothing after whsec_: the key is empty"),
        ("whsec_!!!", "secret 1 is not base64 after whsec_"),
        ("whsec_a-b_", "secret 1 is not base64 after whsec_"),
        (f"{VECTOR_SECRET} MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "secret 2 must start with whsec_"),
        ("   ", "TONEFLOW_WEBHOOK_SECRET is set but holds no secret"),
        (12345, "secret 1 must start with whsec_"),
    ],
)
def test_a_bad_secret_stops_start_up_naming_the_variable(client_for, secret, message):
    with pytest.raises(ConfigError, match="TONEFLOW_WEBHOOK_SECRET") as caught:
        client_for({"x.yaml": "steps:\n  a:\n    - hangup: {}\n"}, WEBHOOK_SECRET=secret)
    assert message in str(caught.value)
    for part in str(secret).split():
        if part not in ("whsec_",):
            assert part not in str(caught.value)  # the secret is never echoed


def test_notasecret_in_the_environment_refuses_create_app(monkeypatch, app_config):
    from app import create_app

    monkeypatch.setenv("TONEFLOW_WEBHOOK_SECRET", "notasecret")
    with pytest.raises(ConfigError, match="TONEFLOW_WEBHOOK_SECRET: secret 1 must start"):
        create_app(app_config)


def test_an_unpadded_secret_is_the_key_the_package_reads():
    """Strict checking must not change which key a valid secret means."""
    unpadded = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo"  # '=' left off
    assert sign(unpadded, "m", VECTOR_TIMESTAMP, b"x") == sign(
        unpadded + "=", "m", VECTOR_TIMESTAMP, b"x"
    )
    Verifier(f"{unpadded} {VECTOR_SECRET}")
    with pytest.raises(SecretError):
        Verifier("whsec_QUJDR")  # 5 characters: not a whole number of base64 bytes


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


@pytest.mark.slow
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


def test_the_cli_signs_an_answer_request_the_app_accepts(client_for, monkeypatch):
    from toneflow.cli.webhooks import webhooks

    client = client_for(
        {"menu.yaml": 'steps:\n  menu:\n    - speak: "Hello {{ variables.name }}"\n'},
        WEBHOOK_SECRET=f"{VECTOR_SECRET} {OTHER_SECRET}",
        SIGN_ANSWERS=True,
    )
    monkeypatch.setenv("TONEFLOW_WEBHOOK_SECRET", OTHER_SECRET)
    url = "http://localhost:8000/answer/minivoice/menu?call_id=c1&name=Ann%20Lee"
    result = CliRunner().invoke(webhooks, ["sign", "--url", url])
    assert result.exit_code == 0, result.output
    headers = dict(line.split(": ", 1) for line in result.output.splitlines())
    path = url.removeprefix("http://localhost:8000")
    assert client.get(path, headers=headers).json == {
        "actions": [{"speak": {"text": "Hello Ann Lee"}}]
    }
    assert client.get(path.replace("Ann", "Bob"), headers=headers).status_code == 401
    form = "CallId=c2&name=Bo"
    posted = CliRunner().invoke(
        webhooks, ["sign", form, "--method", "post", "--url", "/answer/minivoice/menu", "--curl"]
    )
    assert posted.exit_code == 0, posted.output
    curl = posted.output.split()
    assert curl[0::2] == ["-H", "-H", "-H"]
    post_headers = dict(argument.split(":", 1) for argument in curl[1::2])
    response = client.post(
        "/answer/minivoice/menu",
        data=form,
        content_type="application/x-www-form-urlencoded",
        headers=post_headers,
    )
    assert response.json == {"actions": [{"speak": {"text": "Hello Bo"}}]}
    # The same headers do not sign the body as an event, nor the POST as a GET.
    assert client.get("/answer/minivoice/menu", headers=post_headers).status_code == 401


@pytest.mark.slow
def test_the_readme_answer_signing_example_works_against_gunicorn(tmp_path):
    """The README's second `sh` block (a signed GET), against gunicorn signing answers."""
    import re
    import subprocess

    from support import ROOT, free_port, server_env, start, stop, wait_until_up

    blocks = re.search(r"## Signed webhooks(.*?)\n## ", (ROOT / "README.md").read_text(), re.S)
    events_block, answers_block = re.findall(r"```sh\n(.*?)```", blocks.group(1), re.S)
    export = events_block.strip().splitlines()[0].split("   #")[0]
    secret = export.split("=", 1)[1]
    port = free_port()
    env = server_env(tmp_path, port, TONEFLOW_WEBHOOK_SECRET=secret, TONEFLOW_SIGN_ANSWERS="1")
    process = start(tmp_path, env, port)
    try:
        wait_until_up(process, port, tmp_path)
        script = f"{export}\n{answers_block}".replace(
            "localhost:8000", f"127.0.0.1:{port}"
        ).replace(".venv/bin/", f"{Path(sys.executable).parent}/")
        run = subprocess.run(
            ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        served = json.loads(run.stdout)
        assert served["actions"][1] == {
            "send_digits": {"digits": "1234#", "pause_before_ms": 2000}
        }, run.stderr
        unsigned = script.replace("$(", "$(true || ")
        unsigned_run = subprocess.run(
            ["bash", "-c", unsigned], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert '"code": "unauthorized"' in unsigned_run.stdout
    finally:
        stop(process)
