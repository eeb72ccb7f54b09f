"""schemathesis against /openapi.json, in-process: every documented operation, fed
generated valid and invalid requests, never answers 5xx and always answers as documented
(status, content type, headers and body schema).

The call log it reads holds real records of every shape (served, fell back, failed, with
events, one future-dated; ids a path cannot carry), and the call id of every other
generated lookup is one of them, so the response-schema check sees real records, not only
404s. Pushes go to the three platforms' local stand-ins (tests/platform_servers.py, taking
any call), every other one to a step the platform can take, so pushed records are checked
too. That check runs on every response of every operation, and a last test says so.

``TONEFLOW_SCHEMATHESIS_EXAMPLES`` sets the examples per operation (CI: the default).
"""

from __future__ import annotations

import itertools
import os
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from store_support import COMPLETED_AT, T0, post, record_answer, served
from support import PROJECT_FLOWS

from toneflow.flows.compile import flow_version
from toneflow.web.openapi import build_spec

EXAMPLES = int(os.environ.get("TONEFLOW_SCHEMATHESIS_EXAMPLES", "30"))

# The spec as the app serves it (a test below proves the two are the same). schemathesis'
# pytest fixture loader does not work with pytest 9, so the schema is built here and the
# app under test, a fixture, is handed to each call.
schema = schemathesis.openapi.from_dict(build_spec().to_dict())
CONFORMANCE = schemathesis.checks.response_schema_conformance
#: (operation, status) of every response the body-schema check was run on.
CHECKED: set[tuple[str, int]] = set()
#: Calls in the fuzzed store, one of each shape a record can take.
SEEDED_IDS = ("call_123", "fell/back", "failed1", "..", "events-only")
#: A shipped step each push platform takes (Genesys: digits only).
PUSHABLE = {
    "vicidial": ("conference_pin", "join"),
    "vobiz": ("conference_pin", "join"),
    "genesys": ("dtmf_parties", "keys"),
}
_lookups = itertools.count()
APPOINTMENT_VERSION = flow_version((PROJECT_FLOWS / "appointment.yaml").read_bytes())


def seed(engine) -> None:
    """One call of each shape: answers and events, a fallback, a 500, no answer at all."""
    record_answer(engine, served("menu", call_id="call_123"))
    record_answer(engine, served("done", terminal=True, at=T0 + timedelta(seconds=5)))
    post(engine, webhook_id="msg_1", status="completed", **{"from": "+15551230001"})
    record_answer(
        engine, served("sorry", call_id="fell/back", fallback_from="menu", fallback_reason="x")
    )
    record_answer(engine, served("menu", call_id="failed1", error_reason="no name", body="{}"))
    record_answer(engine, served("menu", call_id="..", from_number=None, to_number=None))
    post(engine, "call.ringing", call_id="events-only", created_at=COMPLETED_AT + timedelta(days=9))


def conforms(ctx, response, case):
    """schemathesis' own response-schema check, noting that it ran on this response."""
    CHECKED.add((case.operation.label, response.status_code))
    return CONFORMANCE(ctx, response, case)


def use_seeded_ids(case) -> None:
    """Every other valid generated call id becomes a seeded one, so lookups find records.

    Only in valid (positive) cases: a case made invalid on purpose must stay invalid.
    """
    if case.meta is None or case.meta.generation.mode != schemathesis.GenerationMode.POSITIVE:
        return
    turn = next(_lookups)
    if turn % 2:
        return
    call_id = SEEDED_IDS[turn // 2 % len(SEEDED_IDS)]
    if case.operation.path.startswith("/push/"):
        # a step the platform can take, so the push is sent and its record checked
        platform = case.operation.path.split("/")[2]
        flow, step = PUSHABLE[platform]
        case.path_parameters = {**(case.path_parameters or {}), "flow": flow, "step": step}
        return
    if "flow" in (case.path_parameters or {}):
        # The app recorded the versions it serves at start-up: ask for a real one.
        case.path_parameters["flow"] = "appointment"
        if "version" in case.path_parameters:
            case.path_parameters["version"] = APPOINTMENT_VERSION
    if "call_id" in (case.path_parameters or {}) and "/" not in call_id:
        case.path_parameters["call_id"] = call_id
    elif case.operation.path == "/api/call" and isinstance(case.query, dict):
        case.query = {**case.query, "id": call_id}


@pytest.fixture(scope="module")
def platforms():
    """The push platforms' local stand-ins, taking any call, so a generated push that is
    valid is sent and its record checked against the schema (and never a 5xx)."""
    from platform_servers import PlatformServer

    running = [
        PlatformServer(name, accept_any=True).start() for name in ("vicidial", "vobiz", "genesys")
    ]
    yield {key: value for server in running for key, value in server.config.items()}
    for server in running:
        server.stop()


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory, platforms):
    from app import create_app
    from toneflow.store import migrate
    from toneflow.store.access import create_token

    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'toneflow.db'}"
    migrate.upgrade(url)
    application = create_app(
        {
            "DATABASE_URL": url,
            "FLOWS_DIR": str(PROJECT_FLOWS),
            "PUBLIC_URL": "https://toneflow.test",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "warning",
            "SECRET_KEY": "fuzz",
            **platforms,
        }
    )
    store = application.extensions["toneflow.call_log"].engine
    application.config["FUZZ_TOKEN"] = create_token(store, "fuzz")
    seed(store)
    yield application
    store.dispose()


def test_the_fuzzed_spec_is_the_one_the_app_serves(fuzzed_app):
    assert fuzzed_app.test_client().get("/openapi.json").json == build_spec().to_dict()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, fuzzed_app):
    case.operation.schema.app = fuzzed_app  # in-process: schemathesis' WSGI transport
    token = fuzzed_app.config["FUZZ_TOKEN"]
    use_seeded_ids(case)
    # The built-in body check is replaced by the same check, recorded (``conforms``).
    excluded = [CONFORMANCE]
    if "cursor" in (case.query or {}):
        # A cursor is opaque (an encoded position): a string this service did not make is
        # refused (400, as documented), however well it fits the schema.
        excluded.append(schemathesis.checks.positive_data_acceptance)
    case.call_and_validate(
        app=fuzzed_app,
        headers={"Authorization": f"Bearer {token}"},
        excluded_checks=excluded,
        additional_checks=[conforms],
    )


def test_every_operation_had_its_bodies_checked_and_the_records_were_found():
    """After the run: each operation's responses went through the body-schema check, and
    the call log's lookups answered 200 with records as well as 404s."""
    if not CHECKED:
        pytest.skip("the schemathesis run was not part of this session")
    operations = {result.ok().label for result in schema.get_all_operations()}
    assert operations <= {label for label, _ in CHECKED}
    for label in (
        "GET /api/calls",
        "GET /api/calls/{call_id}",
        "GET /api/call",
        "GET /api/flows/{flow}/versions",
        "GET /api/flows/{flow}/versions/{version}",
    ):
        assert (label, 200) in CHECKED, label
    for platform in PUSHABLE:  # pushes were sent, and their records checked
        assert (f"POST /push/{platform}/{{flow}}/{{step}}", 200) in CHECKED, platform
