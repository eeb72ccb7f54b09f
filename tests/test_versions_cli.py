"""Issue 13, parts 3 and 4 from a terminal and the API: history, show, diff, replay.

The issue's "Done when", in-process: a call starts on the appointment flow, its ``done``
step is renamed and the folder reloaded, the call's redirect is still served by the old
version while a new call gets the new one; ``flows history`` shows both versions, and
``replay`` of the first call against the edited folder shows the difference, exit 1.
"""

from __future__ import annotations

import itertools
import shutil

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import PROJECT_FLOWS, with_api_token

from toneflow.cli import cli
from toneflow.flows.compile import flow_version
from toneflow.store import migrate

RENAMED = "    - redirect: finished\n  finished:\n"
COUNTER = itertools.count()


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def story(command_engine, database_url, tmp_path, monkeypatch):
    """The issue's story, served by an app with reload on; returns what a test needs."""
    from app import create_app

    folder = tmp_path / "flows"
    folder.mkdir()
    for path in PROJECT_FLOWS.glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    original = folder / "appointment.yaml"
    old = flow_version(original.read_bytes())
    pristine = tmp_path / "pristine"
    shutil.copytree(folder, pristine)
    migrate.upgrade(database_url)
    application = create_app(
        {
            "DATABASE_URL": database_url,
            "FLOWS_DIR": str(folder),
            "PUBLIC_URL": "https://toneflow.test",
            "LOG_FORMAT": "json",
            "RELOAD": True,
            "SERVER_ID": "app-1",
        }
    )
    client = with_api_token(application)
    first = client.get("/answer/minivoice/appointment?call_id=c_old&confirmation_code=1234")
    assert first.status_code == 200
    original.write_text(original.read_text().replace("    - redirect: done\n  done:\n", RENAMED))
    new = flow_version(original.read_bytes())
    done = client.get("/answer/minivoice/appointment/done?call_id=c_old")
    assert done.status_code == 200, done.data
    fresh = client.get("/answer/minivoice/appointment?call_id=c_new&confirmation_code=9")
    assert fresh.json["actions"][-1]["redirect"]["url"].endswith("/finished")
    monkeypatch.setenv("TONEFLOW_FLOWS_DIR", str(folder))
    yield {
        "app": application,
        "client": client,
        "old": old,
        "new": new,
        "edited": folder,
        "pristine": pristine,
    }
    application.extensions["toneflow.call_log"].engine.dispose()


def test_history_shows_both_versions_with_their_calls(story):
    result = invoke("flows", "history", "appointment")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "appointment: 2 version(s), times in UTC"
    assert lines[1].startswith("version       first loaded         by     first served")
    old_line = next(line for line in lines if line.startswith(story["old"]))
    new_line = next(line for line in lines if line.startswith(story["new"]))
    assert "app-1" in old_line and old_line.split()[-1] == "1"
    assert new_line.split()[-1] == "1"
    assert lines.index(old_line) < lines.index(new_line)


def test_history_of_an_unknown_flow_says_so(story):
    result = invoke("flows", "history", "nope")
    assert result.exit_code == 1
    assert "no versions of a flow named 'nope'" in result.output


def test_show_prints_the_exact_source(story):
    result = invoke("flows", "show", f"appointment@{story['old']}")
    assert result.exit_code == 0
    assert result.output == (PROJECT_FLOWS / "appointment.yaml").read_text()
    assert invoke("flows", "show", "appointment").exit_code == 2
    missing = invoke("flows", "show", "appointment@000000000000")
    assert missing.exit_code == 1
    assert "no version '000000000000' of flow 'appointment'" in missing.output


def test_diff_is_a_unified_diff(story):
    result = invoke("flows", "diff", "appointment", story["old"], story["new"])
    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        f"--- appointment@{story['old']}",
        f"+++ appointment@{story['new']}",
    ]
    assert "-    - redirect: done\n-  done:\n+    - redirect: finished\n+  finished:\n" in (
        result.output
    )
    same = invoke("flows", "diff", "appointment", story["old"], story["old"])
    assert (same.exit_code, same.output) == (0, "")


def test_replay_of_the_first_call_against_the_edited_folder_differs(story):
    result = invoke("replay", "c_old", "--flows", str(story["edited"]))
    assert result.exit_code == 1, result.output
    assert "call c_old: 2 answer(s) replayed against" in result.output
    assert "step 1: appointment (start) (minivoice): served connect by version" in result.output
    assert "now: DIFFERENT" in result.output
    assert "appointment/done" in result.output and "appointment/finished" in result.output
    assert "step 2: appointment done (minivoice)" in result.output
    assert "404 not_found: flow 'appointment' has no step named 'done'" in result.output
    assert result.output.rstrip().endswith("2 of 2 step(s) would be served differently")


def test_replay_against_the_folder_that_served_it_is_the_same(story):
    result = invoke("replay", "c_old", "--flows", str(story["pristine"]))
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("all 2 step(s) would be served the same")
    # The default folder is the configured one (the edited folder, here).
    assert invoke("replay", "c_new").exit_code == 0


def test_replay_since_summarises_every_call(story):
    result = invoke("replay", "--flow", "appointment", "--since", "7d")
    assert result.exit_code == 1
    assert "replayed 2 call(s) of appointment since" in result.output
    assert "  same: 1\n  different: 0\n  would now fail or 404: 1\n" in result.output
    assert "call c_old, step 1 (appointment (start)):" in result.output
    removed = [line.split() for line in result.output.splitlines() if line.startswith("  -")]
    assert ["-", '"url":', '"https://toneflow.test/answer/minivoice/appointment/done"'] in removed
    assert "replaying 2 call(s)" in result.output  # the progress bar (stderr, mixed in)


def test_replay_usage_and_missing_calls(story):
    assert invoke("replay").exit_code == 2
    assert invoke("replay", "c_old", "--flow", "appointment").exit_code == 2
    assert invoke("replay", "--flow", "appointment").exit_code == 2
    assert invoke("replay", "--flow", "appointment", "--since", "0d").exit_code == 2
    missing = invoke("replay", "nobody")
    assert missing.exit_code == 2
    assert "no answers recorded for call 'nobody'" in missing.output


def _everything(engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {
            table: [tuple(row) for row in conn.execute(sa.text(f"select * from {table}"))]
            for table in sa.inspect(engine).get_table_names()
        }


def test_replay_writes_nothing(story, command_engine):
    before = _everything(command_engine)
    invoke("replay", "c_old", "--flows", str(story["edited"]))
    invoke("replay", "--flow", "appointment", "--since", "7d", "--flows", str(story["pristine"]))
    assert _everything(command_engine) == before


def test_the_api_lists_versions_and_serves_a_source(story):
    client = story["client"]
    listed = client.get("/api/flows/appointment/versions")
    assert listed.status_code == 200
    versions = listed.json["versions"]
    assert [v["version"] for v in versions] == [story["old"], story["new"]]
    assert versions[0]["calls"] == 1 and versions[0]["first_loaded_by"] == "app-1"
    assert versions[0]["first_loaded_at"].endswith("Z")
    source = client.get(f"/api/flows/appointment/versions/{story['old']}")
    assert source.json["source"] == (PROJECT_FLOWS / "appointment.yaml").read_text()
    assert client.get("/api/flows/appointment/versions/nope").status_code == 404
    assert client.get("/api/flows/nope/versions").json["error"]["code"] == "not_found"
    anonymous = story["app"].test_client().get("/api/flows/appointment/versions")
    assert anonymous.status_code == 401


def test_the_support_call_page_links_the_version_to_its_source(story):
    from test_web_support import PASSWORD, sign_in

    from toneflow.store.access import add_user

    application = story["app"]
    add_user(application.extensions["toneflow.call_log"].engine, "alice", PASSWORD)
    browser = application.test_client()
    assert sign_in(browser).status_code in (302, 303)
    call = browser.get("/support/calls/c_old").data.decode()
    link = f'href="/support/flows/appointment/versions/{story["old"]}"'
    assert link in call
    source = browser.get(f"/support/flows/appointment/versions/{story['old']}")
    assert source.status_code == 200
    text = source.data.decode()
    assert "Your appointment is confirmed. Goodbye." in text
    assert "{{ variables.confirmation_code }}#" in text
    missing = browser.get("/support/flows/appointment/versions/nope")
    assert missing.status_code == 404


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    code=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
    digits=st.text("0123456789*#AB", max_size=4),
    dialect=st.sampled_from(["minivoice", "ozml"]),
)
def test_a_call_replayed_against_the_flows_that_served_it_is_the_same(app, code, digits, dialect):
    """Whatever a caller sent (any confirmation code, any digits, either dialect, served
    or fallen back), replaying the call against the folder that served it is the same."""
    from toneflow.cli.replay import base_url, replay
    from toneflow.flows.registry import load_flow_dir
    from toneflow.store.replays import recorded_answers

    client = app.test_client()
    call_id = f"h{next(COUNTER)}"
    start = {"call_id": call_id, "confirmation_code": code}
    client.get(f"/answer/{dialect}/appointment", query_string=start)
    client.post(f"/answer/{dialect}/menu/route", data={"CallId": call_id, "DtmfDigits": digits})
    client.get(f"/answer/{dialect}/appointment/done", query_string={"call_id": call_id})
    engine = app.extensions["toneflow.call_log"].engine
    rows = recorded_answers(engine, call_id)
    assert len(rows) == 3
    steps = replay(rows, load_flow_dir(PROJECT_FLOWS, max_digits=128), base_url(rows, None))
    assert [step.same for step in steps] == [True, True, True], [s.body for s in steps]
