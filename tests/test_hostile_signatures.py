"""Hostile use of signatures and methods on answer requests.

With ``TONEFLOW_SIGN_ANSWERS=1`` a captured ``webhook-id``/``webhook-timestamp``/
``webhook-signature`` triple must open exactly the request it was made for: replayed with
any byte of its method, path, query string or body changed, it gets 401. A ``HEAD`` (which
Flask serves for every GET route) is answered but never written to the call log.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_support import get_call

from toneflow.signing import (
    SignatureError,
    Verifier,
    answer_content,
    environ_answer_content,
    sign,
)
from toneflow.web.state import CALL_LOG

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
FLOW = """
steps:
  main:
    - speak: "Hello {{ variables.name }}"
  other:
    - speak: "Other {{ variables.name }}"
"""
PATH = "/answer/minivoice/menu/main"
QUERY = "call_id=c1&name=Ann"
FORM = b"CallId=c1&name=Ann"


def signed(method: str, path: str, query: str, body: bytes = b"") -> dict[str, str]:
    content = answer_content(method, path.encode(), query.encode(), body)
    return sign(SECRET, "msg_hostile", int(time.time()), content)


@pytest.fixture
def client(client_for):
    return client_for({"menu.yaml": FLOW}, WEBHOOK_SECRET=SECRET, SIGN_ANSWERS=True)


def get(client, path: str, query: str, headers: dict[str, str]):
    return client.get(f"{path}?{query}" if query else path, headers=headers)


def form_post(client, path: str, body: bytes, headers: dict[str, str]):
    return client.post(
        path, data=body, content_type="application/x-www-form-urlencoded", headers=headers
    )


def test_the_signed_request_itself_is_served(client):
    response = get(client, PATH, QUERY, signed("GET", PATH, QUERY))
    assert response.json == {"actions": [{"speak": {"text": "Hello Ann"}}]}
    posted = form_post(client, PATH, FORM, signed("POST", PATH, "", FORM))
    assert posted.json == {"actions": [{"speak": {"text": "Hello Ann"}}]}


@pytest.mark.parametrize(
    "query",
    [
        "call_id=c1&name=Mallory",  # another value
        "call_id=c2&name=Ann",  # another call
        "call_id=c1&name=Ann&extra=1",  # a parameter added
        "name=Ann&call_id=c1",  # the same parameters re-ordered
        "call_id=c1&name=%41nn",  # the same value, percent-encoded
        "call_id=c1",  # a parameter dropped
        "",  # no query at all
    ],
)
def test_a_replay_with_another_query_is_refused(client, query):
    response = get(client, PATH, query, signed("GET", PATH, QUERY))
    assert response.status_code == 401
    assert "no signature matches" in response.json["error"]["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/answer/minivoice/menu/other",  # another step
        "/answer/minivoice/menu",  # the flow's start step
        "/answer/ozml/menu/main",  # another dialect
        "/answer/minivoice/nosuchflow/main",  # refused before the flow is looked up
    ],
)
def test_a_replay_at_another_path_is_refused(client, path):
    assert get(client, path, QUERY, signed("GET", PATH, QUERY)).status_code == 401


def test_a_replay_with_another_method_is_refused(client):
    as_get = signed("GET", PATH, QUERY)
    assert client.post(f"{PATH}?{QUERY}", headers=as_get).status_code == 401
    assert client.head(f"{PATH}?{QUERY}", headers=as_get).status_code == 401
    as_post = signed("POST", PATH, "", FORM)
    assert get(client, PATH, "", as_post).status_code == 401


def test_a_replay_with_another_body_or_an_added_query_is_refused(client):
    """Before: a signed POST accepted extra query parameters, which became variables."""
    headers = signed("POST", PATH, "", FORM)
    assert form_post(client, PATH, FORM.replace(b"Ann", b"Bob"), headers).status_code == 401
    assert form_post(client, PATH, FORM + b"&x=1", headers).status_code == 401
    with_query = form_post(client, f"{PATH}?name=Mallory", FORM, headers)
    assert with_query.status_code == 401


# Characters the test client sends as they are (it would percent-encode others, which is
# then a different request, not a mutation of this one).
QUERY_CHARS = "abcxyzABC0129=&-._~+,;:@!*'()/?"


@st.composite
def mutated(draw, text: str, alphabet: str, min_size: int = 0) -> str:
    """``text`` with one character inserted, deleted or replaced: never ``text`` itself."""
    position = draw(st.integers(0, len(text)))
    kind = draw(st.sampled_from(["insert", "delete", "replace"] if text else ["insert"]))
    position = min(position, len(text) - 1) if kind != "insert" else position
    if kind == "insert":
        result = text[:position] + draw(st.sampled_from(alphabet)) + text[position:]
    elif kind == "delete":
        result = text[:position] + text[position + 1 :]
    else:
        new = draw(st.sampled_from([c for c in alphabet if c != text[position]]))
        result = text[:position] + new + text[position + 1 :]
    if len(result) < min_size:
        result = text + draw(st.sampled_from(alphabet))
    return result


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), query=st.text(QUERY_CHARS, max_size=30))
def test_any_mutation_of_the_query_is_refused(client, data, query):
    headers = signed("GET", PATH, query)
    assert get(client, PATH, query, headers).status_code != 401
    other = data.draw(mutated(query, QUERY_CHARS))
    assert get(client, PATH, other, headers).status_code == 401


STEP_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-"


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), segment=st.sampled_from(["flow", "step"]))
def test_any_mutation_of_the_flow_or_step_is_refused(client, data, segment):
    headers = signed("GET", PATH, QUERY)
    original = "menu" if segment == "flow" else "main"
    name = data.draw(mutated(original, STEP_CHARS, min_size=1))
    flow, step = (name, "main") if segment == "flow" else ("menu", name)
    path = f"/answer/minivoice/{flow}/{step}"
    assert get(client, path, QUERY, headers).status_code == 401


def test_a_path_that_is_not_utf8_is_refused_saying_why():
    """gunicorn hands ``%FF`` over as the byte 0xFF (the test client would replace it)."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/answer/minivoice/menu/\xff"}
    content = environ_answer_content(environ, b"")
    assert content == b"GET /answer/minivoice/menu/\xff\n"
    with pytest.raises(SignatureError, match=r"the signed request .* is not UTF-8"):
        Verifier(SECRET).verify(
            content, signed("GET", PATH, QUERY), what="request (method, path, query and body)"
        )


# HEAD: answered as GET is, recorded never.

APPOINTMENT = """
fallback: sorry
steps:
  connect:
    - speak: Connecting.
    - redirect: done
  done:
    - hangup: {}
  sorry:
    - hangup: {}
"""


def test_head_answers_like_get_but_records_nothing(client_for):
    client = client_for({"appointment.yaml": APPOINTMENT})
    engine = client.application.extensions[CALL_LOG].engine
    got = client.get("/answer/minivoice/appointment?call_id=h1")
    assert got.status_code == 200
    head = client.head("/answer/minivoice/appointment/done?call_id=h1")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Type"] == got.headers["Content-Type"]
    assert int(head.headers["Content-Length"]) > 0  # the GET's length, as HTTP says
    call = get_call(engine, "h1")
    assert [answer["step"] for answer in call["answers"]] == ["connect"]
    assert call["last_step"] == "connect"
    assert client.head("/answer/ozml/appointment?call_id=h2").status_code == 200
    assert get_call(engine, "h2") is None


def test_a_head_that_fails_records_no_failure(client_for):
    client = client_for({"t.yaml": 'steps:\n  s:\n    - speak: "{{ variables.name }}"\n'})
    engine = client.application.extensions[CALL_LOG].engine
    assert client.head("/answer/minivoice/t?call_id=h3").status_code == 500
    assert get_call(engine, "h3") is None
    assert client.get("/answer/minivoice/t?call_id=h3").status_code == 500
    assert get_call(engine, "h3")["answers"][0]["error_reason"]
