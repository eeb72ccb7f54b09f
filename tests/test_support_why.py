"""Issue 14, parts 1-3 through the app: the keys pressed and the switch decision recorded
with each answer, transfers as outcomes, the completion event's duration and cause, and
the timeline in the order toneflow served and received, in the API, CLI and page."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_web_support import sign_in, staff  # noqa: F401  (the signed-in client fixture)

from toneflow.cli import cli


def toneflow(*args: str):
    """The ``toneflow`` command, on the store the app writes (``command_engine``)."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def menu_call(client, call_id: str, digits: str | None) -> None:
    """A caller walks the menu flow: greet, menu, then route with ``digits`` pressed."""
    for step in ("", "/menu"):
        assert client.get(f"/answer/minivoice/menu{step}?call_id={call_id}").status_code == 200
    data = {"CallId": call_id, **({"DtmfDigits": digits} if digits is not None else {})}
    assert client.post("/answer/ozml/menu/route", data=data).status_code == 200


def complete(client, call_id: str, **data) -> None:
    event = {
        "event": "call.completed",
        "created_at": "2026-05-29T12:10:00Z",  # whole seconds, long before the answers
        "call": {"id": call_id},
        "data": data,
    }
    assert client.post("/events/minivoice", json=event).status_code == 200


def test_pressing_a_key_no_case_matches_records_the_default_decision(client):
    menu_call(client, "k5", "5")
    complete(client, "k5", duration="27", hangup_cause="caller_hangup")
    record = client.get("/api/calls/k5").json
    route = record["answers"][-1]
    assert route["request"]["input"]["digits"] == "5"
    assert route["step"] == "goodbye"
    assert route["decision"] == {
        "steps": ["route", "goodbye"],
        "switches": [{"step": "route", "value": "5", "case": None, "to": "goodbye"}],
        "awaits_digits_ms": None,
        "transfer_to": None,
    }
    assert record["answers"][1]["decision"]["awaits_digits_ms"] == 5000  # the menu waits
    assert record["outcome"] == {"kind": "finished", "step": "goodbye", "reason": None}
    assert (record["duration_s"], record["hangup_cause"]) == (27.0, "caller_hangup")


def test_a_served_transfer_is_transferred_without_a_completion_event(client):
    menu_call(client, "t1", "1")
    record = client.get("/api/calls/t1").json
    assert record["status"] is None  # the platform has said nothing yet
    assert record["outcome"] == {
        "kind": "transferred",
        "step": "sales",
        "reason": "to +15551230010",
    }
    assert record["answers"][-1]["decision"]["transfer_to"] == "+15551230010"
    listed = client.get("/api/calls?outcome=transferred").json["calls"]
    assert [call["call_id"] for call in listed] == ["t1"]


def test_a_fallback_records_the_steps_it_passed_through(client):
    assert client.get("/answer/minivoice/appointment?call_id=f1").status_code == 200
    [answer] = client.get("/api/calls/f1").json["answers"]
    assert answer["fallback_from"] == "connect"
    assert answer["decision"]["steps"] == ["connect", "sorry"]


def test_the_timeline_puts_the_completion_after_the_answers_it_ended(client, command_engine):
    menu_call(client, "order1", "5")
    complete(client, "order1")
    result = toneflow("calls", "show", "order1")
    assert result.exit_code == 0, result.output
    headings = [
        line for line in result.output.splitlines() if "  ANSWER " in line or "  EVENT " in line
    ]
    assert [("EVENT" in line) for line in headings] == [False, False, False, True]
    assert "caller pressed: 5" in result.output
    assert "switch route: value '5' matched no case, went to default → goodbye" in result.output
    assert "platform created_at 2026-05-29 12:10:00.000 UTC" in result.output


@pytest.mark.parametrize("digits", ["5", "\u202e1"])
def test_the_call_page_shows_keys_decision_and_millisecond_times(staff, app, digits):  # noqa: F811
    menu_call(staff, "page1", digits)
    complete(staff, "page1", duration=12.5)
    sign_in(staff)
    page = staff.get("/support/calls/page1").get_data(as_text=True)
    shown = "5" if digits == "5" else '<span class="escape">\\u202e</span>1'
    assert f"Caller pressed <kbd>{shown}</kbd>" in page
    assert "matched no case, went to default → goodbye" in page
    assert "12.5 s" in page
    assert "platform created_at 2026-05-29 12:10:00.000 UTC" in page
    assert '<span class="delta">+' in page


def test_the_decision_is_json_in_the_cli_record_too(client, command_engine):
    menu_call(client, "j1", "2")
    result = toneflow("calls", "show", "j1", "--json")
    record = json.loads(result.output)
    assert record["answers"][-1]["decision"]["switches"][0]["case"] == "2"
    assert record["outcome"]["kind"] == "transferred"


def test_migration_0007_goes_down_and_up_again(database_url):
    """0007 only adds columns: down to 0004 drops them and keeps the calls."""
    import sqlalchemy as sa
    from alembic import command
    from store_support import get_call, record_answer, served

    from toneflow.store import make_engine, migrate

    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        record_answer(engine, served("greet", call_id="keep7"))
        with engine.begin() as connection:
            config = migrate.alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0004")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("calls")}
        assert not columns & {"path", "flow_version", "transfer_to"}
        migrate.upgrade(engine)
        assert get_call(engine, "keep7")["answers"][0]["decision"] is None
    finally:
        engine.dispose()
