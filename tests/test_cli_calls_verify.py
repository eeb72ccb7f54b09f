"""``toneflow calls verify``: a call recording's keys against what toneflow served.

Recordings are made with toneflow's own renderer from the served plans (with silence
for the prompts between sends), then cut or truncated to make the mismatches.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from store_support import get_call, record_answer, served
from support import with_api_token

from toneflow.cli import cli
from toneflow.dtmf import audio
from toneflow.dtmf.heard import compare, served_sends
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.tokens import Pause
from toneflow.dtmf.wire import wire_plan
from toneflow.store import make_engine, migrate

T0 = datetime(2026, 5, 29, 12, 0, tzinfo=UTC)
MINIVOICE = (
    '{"actions":[{"speak":{"text":"hi"}},{"send_digits":{"digits":"1234*","pause_before_ms":500}},'
    '{"send_digits":{"digits":"6654#"}}]}'
)
OZML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Speak>hi</Speak><Delay>1</Delay>'
    '<SendDTMF Party="callee" Keys="12"/><Delay>2</Delay><SendDTMF Party="callee" Keys="3#"/>'
    "<Hangup/></Response>"
)
PROMPT_S = 1.5  # silence the recording has before each send (speech, the platform's delay)


@pytest.fixture
def engine(command_engine):
    return command_engine


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def recording(path: Path, plans, *, cut_key: int | None = None, keep_s: float | None = None):
    """The plans rendered one after another, PROMPT_S apart; one key silenced or the end cut."""
    parts = []
    for plan in plans:
        parts.append(np.zeros(int(PROMPT_S * 8000)))
        parts.append(audio.render_plan(plan))
    samples = np.concatenate(parts)
    if cut_key is not None:
        tones = [(i, t) for i, plan in enumerate(plans) for t in plan.tones]
        index, tone = tones[cut_key]
        offset = sum(int(PROMPT_S * 8000) * 1 + len(audio.render_plan(p)) for p in plans[:index])
        start = offset + int(PROMPT_S * 8000) + tone.start_ms * 8
        samples[start : offset + int(PROMPT_S * 8000) + tone.end_ms * 8] = 0
    if keep_s is not None:
        samples = samples[: int(keep_s * 8000)]
    audio.write_wav(path, samples)
    return path


def minivoice_plans():
    return [
        wire_plan(parse("1234*", "minivoice"), pause_before_ms=500),
        wire_plan(parse("6654#", "minivoice")),
    ]


def ozml_plans():
    seq = (Pause(1000, None), *parse("12", "ozml"), Pause(2000, None), *parse("3#", "ozml"))
    return [wire_plan(seq, "ozml")]


def story(engine, *, dialect="minivoice", body=MINIVOICE, call_id="v1"):
    record_answer(engine, served("greet", call_id=call_id, at=T0, dialect=dialect, body=body))


def test_served_sends_read_both_dialects_back_from_their_bodies():
    mv = served_sends([{"dialect": "minivoice", "step": "a", "status": 200, "body": MINIVOICE}])
    assert [s.plan for s in mv] == minivoice_plans()
    oz = served_sends([{"dialect": "ozml", "step": "a", "status": 200, "body": OZML}])
    assert [s.plan for s in oz] == ozml_plans()
    assert [t.start_ms for t in oz[0].plan.tones] == [1000, 1200, 3300, 3500]
    failed = {"dialect": "minivoice", "step": "a", "status": 500, "body": MINIVOICE}
    assert served_sends([failed]) == []


def test_a_matching_recording_exits_0(engine, tmp_path):
    story(engine)
    wav = recording(tmp_path / "call.wav", minivoice_plans())
    result = invoke("calls", "verify", "v1", str(wav))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("served 1234*6654#; heard 1234*6654# — every key, in order")


def test_ozml_delays_and_keys_match_their_recording(engine, tmp_path):
    story(engine, dialect="ozml", body=OZML)
    wav = recording(tmp_path / "call.wav", ozml_plans())
    result = invoke("calls", "verify", "v1", str(wav))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("served 123#; heard 123#")


def test_a_truncated_recording_says_when_nothing_more_was_heard(engine, tmp_path):
    story(engine)
    plans = minivoice_plans()
    # 1.5 s prompt, then 0.5 s pause_before and five keys: the '*' ends at 2.9 s
    wav = recording(tmp_path / "call.wav", plans, keep_s=3.2)
    result = invoke("calls", "verify", "v1", str(wav))
    assert result.exit_code == 1
    assert result.output.strip() == "served 1234*6654#; heard 1234* — nothing heard after 2.9 s"


def test_a_key_cut_out_is_named(engine, tmp_path):
    story(engine)
    wav = recording(tmp_path / "call.wav", minivoice_plans(), cut_key=2)
    result = invoke("calls", "verify", "v1", str(wav))
    assert result.exit_code == 1
    assert result.output.startswith("served 1234*6654#; heard 124*6654# — key 3 ('3') was not")


def test_a_key_late_within_its_send_is_named():
    [send] = served_sends([{"dialect": "minivoice", "step": "a", "status": 200,
                            "body": '{"actions":[{"send_digits":{"digits":"12"}}]}'}])  # fmt: skip
    assert compare([send], [("1", 5000, 5100), ("2", 5215, 5315)]).matched
    late = compare([send], [("1", 5000, 5100), ("2", 5260, 5360)])
    assert late.difference.startswith("key 2 ('2') was heard at 5.3 s, 60 ms late")
    assert compare([send], [("1", 0, 100), ("2", 200, 300), ("3", 900, 999)]).difference == (
        "an extra '3' was heard at 0.9 s, after every served key"
    )
    assert compare([send], []).summary == (
        "served 12; heard nothing — nothing heard in the whole recording"
    )


def test_unknown_call_and_unreadable_file_exit_2(engine, tmp_path):
    story(engine)
    wav = recording(tmp_path / "call.wav", minivoice_plans())
    missing = invoke("calls", "verify", "nope", str(wav))
    assert missing.exit_code == 2
    assert "no call with id 'nope'" in missing.output
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    unreadable = invoke("calls", "verify", "v1", str(junk))
    assert unreadable.exit_code == 2
    assert "cannot read the recording" in unreadable.output and "junk.wav" in unreadable.output
    gone = invoke("calls", "verify", "v1", str(tmp_path / "absent.wav"))
    assert gone.exit_code == 2 and "cannot read the recording" in gone.output


def test_attach_puts_the_result_on_the_record(engine, tmp_path):
    story(engine)
    wav = recording(tmp_path / "short.wav", minivoice_plans(), keep_s=3.2)
    assert invoke("calls", "verify", "v1", str(wav), "--attach").exit_code == 1
    record = get_call(engine, "v1")
    [check] = record["verifications"]
    assert check["recording"] == "short.wav"
    assert (check["served"], check["heard"], check["matched"]) == ("1234*6654#", "1234*", False)
    assert check["difference"] == "nothing heard after 2.9 s"
    good = recording(tmp_path / "good.wav", minivoice_plans())
    assert invoke("calls", "verify", "v1", str(good), "--attach").exit_code == 0
    assert [c["matched"] for c in get_call(engine, "v1")["verifications"]] == [False, True]
    assert get_call(engine, "v1")["verifications"][1]["difference"] is None


def test_attach_masks_the_callers_number_when_redacting(engine, tmp_path, monkeypatch):
    body = '{"actions":[{"send_digits":{"digits":"15551230001#"}}]}'
    story(engine, body=body)
    monkeypatch.setenv("TONEFLOW_REDACT_NUMBERS", "1")
    plans = [wire_plan(parse("15551230001#", "minivoice"))]
    wav = recording(tmp_path / "r.wav", plans)
    result = invoke("calls", "verify", "v1", str(wav), "--attach")
    # the store kept the body masked, so what was served cannot be checked: a mismatch
    assert result.exit_code == 1
    assert "5551230001" not in result.output and "*******0001" in result.output
    record = get_call(engine, "v1", redact_numbers=False)
    assert "5551230001" not in str(record["verifications"])


def test_attach_shows_on_the_support_page_and_in_the_api(app, monkeypatch, tmp_path):
    """A real answer served by the app, its recording checked and attached by the command,
    then read by support (served and heard side by side) and by the API (as described)."""
    import jsonschema
    from test_web_support import sign_in

    from toneflow.store.access import add_user

    for name in list(os.environ):
        if name.startswith("TONEFLOW_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    client = with_api_token(app)
    query = {"call_id": "page1", "confirmation_code": "1234"}
    assert client.get("/answer/minivoice/appointment", query_string=query).status_code == 200
    record = client.get("/api/calls/page1").json
    sends = served_sends(record["answers"])
    assert sends, "the appointment flow's first step sends digits"
    served_keys = "".join(t.key for s in sends for t in s.plan.tones)
    wav = recording(tmp_path / "page1.wav", [s.plan for s in sends], keep_s=PROMPT_S + 0.05)
    result = invoke("calls", "verify", "page1", str(wav), "--attach")
    assert result.exit_code == 1, result.output

    record = client.get("/api/calls/page1").json
    assert list(record)[-1] == "verifications"
    [check] = record["verifications"]
    assert (check["served"], check["heard"], check["matched"]) == (served_keys, "", False)
    assert check["difference"] == "nothing heard in the whole recording"
    spec = client.get("/openapi.json").json
    schema = {"$ref": "#/components/schemas/CallRecord", "components": spec["components"]}
    jsonschema.validate(record, schema)  # raises if the record is not what is published
    described = spec["components"]["schemas"]["CallRecord"]["properties"]
    assert "verifications" in described

    add_user(app.extensions["toneflow.store"], "alice", "correct horse battery")
    staff = app.test_client()
    sign_in(staff)
    page = staff.get("/support/calls/page1").get_data(as_text=True)
    assert "Recordings checked" in page
    assert f'<code class="served">{served_keys}</code>' in page
    assert '<code class="heard">nothing</code>' in page
    assert "nothing heard in the whole recording" in page


def test_migration_0004_goes_down_and_up_again(database_url):
    """0004 only adds ``verifications``: down to 0003 drops it and keeps the calls."""
    import sqlalchemy as sa
    from alembic import command

    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        record_answer(engine, served("greet", call_id="keep1", body=MINIVOICE))
        with engine.begin() as connection:
            config = migrate.alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0003")
        assert migrate.current(engine) == "0003"
        assert "verifications" not in sa.inspect(engine).get_table_names()
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head()
        assert "verifications" in sa.inspect(engine).get_table_names()
        assert get_call(engine, "keep1")["verifications"] == []
    finally:
        engine.dispose()
