"""``GET /api/calls`` and ``/api/calls/<id>`` behind tokens, and ``/openapi.json``."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import with_api_token

from schemas.calls import CallPageSchema, CallRecordSchema

EVENT = {
    "event": "call.completed",
    "created_at": "2026-05-29T12:10:00Z",
    "call": {"id": "x", "status": "completed", "from": "+15551230001", "to": "+15551230002"},
}


def place(client, call_id: str, flow: str = "appointment", step: str = "", **params) -> None:
    query = {"call_id": call_id, "from": "+15551230001", "confirmation_code": "1234", **params}
    path = f"/answer/minivoice/{flow}" + (f"/{step}" if step else "")
    assert client.get(path, query_string=query).status_code == 200


def complete(client, call_id: str) -> None:
    body = {**EVENT, "call": {**EVENT["call"], "id": call_id}}
    assert client.post("/events/minivoice", json=body).status_code == 200


# --- tokens -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer tf_nope_nope", "tf_x_y"],
)
@pytest.mark.parametrize("path", ["/api/calls", "/api/calls/c1"])
def test_no_valid_token_no_access(app, header, path):
    client = app.test_client()
    headers = {} if header is None else {"Authorization": header}
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_answers_events_and_health_need_no_token(app):
    client = app.test_client()
    place(client, "open1")
    complete(client, "open1")
    assert client.get("/healthz").status_code == 200
    assert client.get("/openapi.json").status_code == 200


# --- the list -------------------------------------------------------------------------


def test_the_list_filters_pages_and_matches_its_schema(client):
    place(client, "a1")
    place(client, "a1", step="done")
    complete(client, "a1")  # finished
    place(client, "m1", flow="menu")
    complete(client, "m1")  # abandoned at the greeting
    place(client, "a2")  # in progress
    page = client.get("/api/calls?limit=2").json
    assert CallPageSchema().validate(page) == {}
    assert [c["call_id"] for c in page["calls"]] == ["a2", "m1"]
    rest = client.get("/api/calls", query_string={"cursor": page["next_cursor"]}).json
    assert [c["call_id"] for c in rest["calls"]] == ["a1"] and rest["next_cursor"] is None
    assert [c["call_id"] for c in client.get("/api/calls?outcome=finished").json["calls"]] == ["a1"]
    abandoned = client.get("/api/calls?outcome=abandoned&flow=menu").json["calls"]
    assert [(c["call_id"], c["outcome"]["step"]) for c in abandoned] == [("m1", "greet")]
    assert [c["call_id"] for c in client.get("/api/calls?q=%2B15551230001").json["calls"]] == [
        "a2",
        "m1",
        "a1",
    ]
    assert client.get("/api/calls?since=2999-01-01T00:00:00Z").json["calls"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("outcome=lost", "outcome"),
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("limit=501", "limit"),
        ("since=yesterday", "since"),
        ("until=0001-01-01T00:00:00%2B01:00", "until"),
        ("cursor=nonsense", "cursor"),
        ("colour=red", "colour"),
        ("q=" + "x" * 129, "q"),
        ("status=%00", "status"),
    ],
)
def test_bad_list_arguments_are_a_400_naming_the_field(client, query, field):
    response = client.get(f"/api/calls?{query}")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_request"
    assert response.json["error"]["message"].startswith(f"{field}:")


def test_the_record_matches_its_schema(client):
    place(client, "r1")
    complete(client, "r1")
    record = client.get("/api/calls/r1").json
    assert CallRecordSchema().validate(record) == {}


@pytest.mark.parametrize("path", ["/api/calls/x/y", "/api/calls/x%2Fy", "/api/call?id=x%2Fy"])
def test_a_call_id_with_a_slash_is_found(client, path):
    place(client, "x/y")
    assert client.get(path).json["call_id"] == "x/y"


@pytest.mark.parametrize("call_id", ["..", ".", "a//b", "/lead", "trail/", "a\nb", "?#%"])
def test_any_call_id_is_found_by_the_query_form(client, call_id):
    place(client, call_id)
    response = client.get("/api/call", query_string={"id": call_id})
    assert response.status_code == 200 and response.json["call_id"] == call_id


def test_the_query_form_needs_an_id_and_says_so(client):
    response = client.get("/api/call")
    assert response.status_code == 400 and response.json["error"]["message"].startswith("id:")
    assert client.get("/api/call?id=nobody").status_code == 404


# --- a 500 is on the record ---------------------------------------------------------------

NO_FALLBACK = """
steps:
  start:
    - send_digits: "{{ variables.code }}#"
    - hangup: {}
"""


def test_a_500_answer_is_recorded_on_the_call_with_its_error_body(client_for):
    client = client_for({"pin.yaml": NO_FALLBACK})
    response = client.get("/answer/minivoice/pin?call_id=f1")
    assert response.status_code == 500
    record = client.get("/api/calls/f1").json
    assert record["outcome"]["kind"] == "failed"
    assert record["outcome"]["step"] == "start"
    assert "code" in record["outcome"]["reason"]
    [answer] = record["answers"]
    assert answer["status"] == 500
    assert answer["body"] == response.get_data(as_text=True)
    assert len(answer["flow_version"]) == 12
    assert client.get("/api/calls?outcome=failed").json["calls"][0]["call_id"] == "f1"


# --- redaction ---------------------------------------------------------------------------


def test_redaction_masks_numbers_in_what_is_stored_and_shown(client_for):
    client = client_for(
        {"pin.yaml": NO_FALLBACK.replace("{{ variables.code }}", "1")}, REDACT_NUMBERS=True
    )
    place(client, "red1", flow="pin")
    complete(client, "red1")
    record = client.get("/api/calls/red1").json
    assert "5551230001" not in str(record)
    assert record["from"] == "+*******0001"
    assert client.get("/api/calls?q=%2B15551230001").json["calls"][0]["call_id"] == "red1"


# --- /openapi.json -------------------------------------------------------------------------


def test_openapi_describes_every_json_endpoint_the_app_serves(app):
    spec = with_api_token(app).get("/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    documented = set()
    for path, operations in spec["paths"].items():
        for method in operations:
            documented.add((method.upper(), path))
    served = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^<>]*:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((method, path))
    expanded = {
        (m, p.replace("{dialect}", dialect).replace("{platform}", platform))
        for m, p in served
        for dialect in ("minivoice", "ozml")
        for platform in ("vicidial", "vobiz", "genesys")
    }
    json_endpoints = {e for e in expanded if not e[1].startswith("/support")}
    assert json_endpoints <= documented


def test_openapi_lists_each_error_status_with_the_error_shape(app):
    spec = app.test_client().get("/openapi.json").json
    events = spec["paths"]["/events/minivoice"]["post"]
    assert {"200", "400", "401", "413", "415", "503"} <= set(events["responses"])
    error = events["responses"]["400"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}
    assert spec["paths"]["/api/calls"]["get"]["security"] == [{"bearer": []}]
    minivoice = spec["paths"]["/answer/minivoice/{flow}/{step}"]["get"]["responses"]
    assert minivoice["500"]["content"]["application/json"]["schema"]["$ref"].endswith("Error")


ARG_NAMES = st.sampled_from(
    ["status", "outcome", "flow", "last_step", "since", "until", "q", "limit", "cursor", "x"]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(args=st.dictionaries(ARG_NAMES, st.text(max_size=40), max_size=4))
def test_any_list_arguments_get_a_page_or_a_400_never_a_500(client, args):
    response = client.get("/api/calls", query_string=args)
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    if response.status_code == 400:
        assert response.json["error"]["code"] == "invalid_request"
