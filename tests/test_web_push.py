"""``POST /push/<platform>/<flow>/<step>``: bearer token, the body each platform takes,
errors before anything is sent, and every push on the call's record and support page."""

from __future__ import annotations

import shutil

import pytest
from platform_servers import AGENT, GENESYS_CALL, VOBIZ_CALL, PlatformServer
from support import PROJECT_FLOWS, with_api_token
from test_push_plan import PUSH_FLOWS
from test_web_support import PASSWORD, sign_in

from schemas.calls import CALL_RECORD
from toneflow.store.access import add_user


@pytest.fixture
def servers():
    running = {name: PlatformServer(name).start() for name in ("vicidial", "vobiz", "genesys")}
    yield running
    for server in running.values():
        server.stop()


@pytest.fixture
def push_app(app_config, servers, tmp_path):
    from app import create_app
    from toneflow.store import migrate

    folder = tmp_path / "flows"
    folder.mkdir()
    shutil.copy(PROJECT_FLOWS / "conference_pin.yaml", folder)
    shutil.copy(PUSH_FLOWS / "pushes.yaml", folder)
    settings = {key: value for s in servers.values() for key, value in s.config.items()}
    migrate.upgrade(app_config["DATABASE_URL"])
    application = create_app({**app_config, "FLOWS_DIR": str(folder), **settings})
    yield application
    application.extensions["toneflow.call_log"].engine.dispose()


@pytest.fixture
def push_client(push_app):
    return with_api_token(push_app)


def test_a_push_needs_a_token(push_app):
    response = push_app.test_client().post("/push/vicidial/conference_pin/join", json={})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_the_conference_pin_goes_to_vicidial_and_onto_the_timeline(push_client, servers):
    response = push_client.post(
        "/push/vicidial/conference_pin/join", json={"agent_user": AGENT, "variables": {}}
    )
    assert response.status_code == 200, response.json
    pushed = response.json
    assert pushed["call_id"] == AGENT and pushed["ok"] is True
    assert servers["vicidial"].received[0].query["value"] == "QQQQ1234SQQQQQ6654P"
    assert "pass=****" in pushed["requests"][0]["url"]
    record = push_client.get(f"/api/calls/{AGENT}").json
    (entry,) = record["pushes"]
    assert entry == {key: value for key, value in pushed.items() if key != "call_id"}
    assert entry["sends"] == [{"action": 1, "digits": "1234*WWWWW6654#", "pause_before_ms": 4000}]
    assert record["outcome"]["kind"] == "never_answered"


def test_genesys_refuses_the_star_before_sending(push_client, servers):
    response = push_client.post("/push/genesys/conference_pin/join", json={"call_id": GENESYS_CALL})
    assert response.status_code == 400
    assert response.json["error"] == {
        "code": "invalid_request",
        "message": "nothing was sent: action 1 (digits '1234*WWWWW6654#'): cannot send key '*' "
        "at position 5 in genesys (genesys allows 0-9)",
    }
    assert servers["genesys"].received == []


def test_a_platform_error_is_a_502_with_the_push_as_recorded(push_client):
    response = push_client.post("/push/vobiz/pushes/plain", json={"call_uuid": "ended"})
    assert response.status_code == 502
    body = response.json
    assert body["error"]["code"] == "push_failed"
    assert body["error"]["message"].startswith("Vobiz: the call is not active")
    assert body["push"]["ok"] is False and body["push"]["requests"][0]["status"] == 404
    assert (
        push_client.get("/api/calls/ended").json["pushes"][0]["error"] == body["error"]["message"]
    )


def test_variables_fill_templates_and_round_up_lengthens_pauses(push_client, servers):
    response = push_client.post(
        "/push/vicidial/pushes/two_sends",
        json={"agent_user": AGENT, "variables": {"account": "4321"}, "round_up": True},
    )
    assert response.status_code == 200, response.json
    assert [got.query["value"] for got in servers["vicidial"].received] == ["Q4321", "9Q9"]
    missing = push_client.post("/push/vicidial/pushes/two_sends", json={"agent_user": AGENT})
    assert missing.status_code == 400
    assert "`variables.account` is not set for this call" in missing.json["error"]["message"]


def test_a_dry_run_shows_the_requests_masked_and_sends_nothing(push_client, servers):
    response = push_client.post(
        "/push/vobiz/pushes/paused",
        json={"call_uuid": VOBIZ_CALL, "leg": "both", "dry_run": True},
    )
    assert response.status_code == 200
    assert response.json["dry_run"] is True
    (request,) = response.json["requests"]
    assert request["headers"] == {"X-Auth-ID": "MA_XXXXXX", "X-Auth-Token": "****"}
    assert request["body"] == '{"digits":"1w2W3","leg":"both"}'
    assert servers["vobiz"].received == []
    assert push_client.get(f"/api/calls/{VOBIZ_CALL}").status_code == 404  # nothing recorded


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/push/twilio/pushes/plain", {}, 404, "no push platform named 'twilio'"),
        ("/push/vobiz/nope/plain", {"call_uuid": "c"}, 404, "no flow named 'nope'"),
        ("/push/vobiz/pushes/nope", {"call_uuid": "c"}, 404, "flow 'pushes' has no step named"),
        ("/push/vobiz/pushes/plain", {}, 400, "call_uuid: Missing data for required field."),
        ("/push/vobiz/pushes/plain", {"call_uuid": "c", "leg": "x"}, 400, "leg: Must be one of"),
        ("/push/vobiz/pushes/plain", {"agent_user": "1"}, 400, "unknown key 'agent_user'"),
    ],
)
def test_mistakes_are_named_before_anything_is_sent(
    push_client, servers, path, body, status, message
):
    response = push_client.post(path, json=body)
    assert response.status_code == status
    assert message in response.json["error"]["message"]
    assert all(not server.received for server in servers.values())


def test_a_platform_not_configured_is_refused_naming_its_variables(client):
    response = client.post("/push/genesys/conference_pin/join", json={"call_id": "c"})
    assert response.status_code == 400  # the star is refused first: nothing to configure
    response = client.post("/push/vicidial/conference_pin/join", json={"agent_user": AGENT})
    assert response.status_code == 503
    assert response.json["error"] == {
        "code": "platform_not_configured",
        "message": "VICIdial is not configured: TONEFLOW_VICIDIAL_URL, TONEFLOW_VICIDIAL_USER, "
        "TONEFLOW_VICIDIAL_PASS are not set",
    }


def test_the_support_page_shows_each_push(push_client, push_app):
    push_client.post("/push/genesys/pushes/split", json={"call_id": GENESYS_CALL})
    push_client.post("/push/genesys/pushes/split", json={"call_id": GENESYS_CALL + "x"})
    record = CALL_RECORD.dump(push_app.extensions["toneflow.call_log"].get(GENESYS_CALL))
    assert [len(p["requests"]) for p in record["pushes"]] == [2]
    add_user(push_app.extensions["toneflow.call_log"].engine, "alice", PASSWORD)
    staff = push_app.test_client()
    sign_in(staff)
    page = staff.get(f"/support/calls/{GENESYS_CALL}").get_data(as_text=True)
    assert "Push genesys" in page
    assert "taken, 2 request(s)" in page
    assert "after waiting 1200 ms" in page
    assert "Bearer ****" in page and "genesys-token" not in page


def test_with_redaction_a_number_pushed_is_kept_masked(app_config, servers, tmp_path):
    from app import create_app
    from toneflow.store import migrate

    folder = tmp_path / "redacted"
    folder.mkdir()
    shutil.copy(PUSH_FLOWS / "pushes.yaml", folder)
    migrate.upgrade(app_config["DATABASE_URL"])
    config = {**app_config, "FLOWS_DIR": str(folder), "REDACT_NUMBERS": True}
    application = create_app({**config, **servers["vobiz"].config})
    try:
        client = with_api_token(application)
        body = {"call_uuid": VOBIZ_CALL, "variables": {"account": "15551230001"}}
        assert client.post("/push/vobiz/pushes/two_sends", json=body).status_code == 200
        assert servers["vobiz"].received[0].json()["digits"] == "w15551230001"  # sent whole
        record = client.get(f"/api/calls/{VOBIZ_CALL}").json
        assert "5551230001" not in str(record)
        assert record["pushes"][0]["sends"][0]["digits"] == "*******0001"
        from sqlalchemy import text

        with application.extensions["toneflow.call_log"].engine.connect() as conn:
            stored = conn.execute(text("select sends, requests from pushes")).one()
        assert "5551230001" not in str(stored)  # masked before it was written
    finally:
        application.extensions["toneflow.call_log"].engine.dispose()


def test_rendered_digits_are_held_to_max_digits(push_app, push_client):
    push_app.extensions["toneflow.flows"].max_digits = 4
    body = {"agent_user": AGENT, "variables": {"account": "12345"}}
    response = push_client.post("/push/vicidial/pushes/two_sends", json=body)
    assert response.status_code == 400
    assert "the limit is 4" in response.json["error"]["message"]


def test_every_place_that_names_the_platforms_names_the_same_three():
    from schemas.calls import PushEntrySchema
    from schemas.push import BODY_SCHEMAS
    from toneflow.push import plan, platforms

    names = ("vicidial", "vobiz", "genesys")
    assert plan.PLATFORMS == tuple(platforms.PLATFORMS) == tuple(BODY_SCHEMAS) == names
    assert PushEntrySchema().fields["platform"].metadata["enum"] == list(names)
    for name, schema in BODY_SCHEMAS.items():  # each body names its platform's reference
        assert set(platforms.PLATFORMS[name].reference) <= set(schema.fields)


def test_building_the_app_does_not_import_httpx(tmp_path):
    """Web workers load httpx only when a push is sent (it is push.client's alone)."""
    import os

    from support import PROJECT_FLOWS, python_prints

    from toneflow.store import migrate

    url = f"sqlite:///{tmp_path / 't.db'}"
    migrate.upgrade(url)
    env = {**os.environ, "DATABASE_URL": url, "TONEFLOW_FLOWS_DIR": str(PROJECT_FLOWS)}
    script = "import sys, app\napp.create_app()\nprint('httpx' in sys.modules)\n"
    assert python_prints(script, env) == "False"
