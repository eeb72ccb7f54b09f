"""``toneflow calls``, ``users`` and ``tokens``, against a real store on every backend."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from store_support import get_call, post, record_answer, served

from toneflow.cli import cli
from toneflow.store.access import check_token, check_user


@pytest.fixture
def engine(command_engine):
    return command_engine


def invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def story(engine) -> None:
    """fin1 finished, ab1 abandoned at menu (with a fallback), new1 in progress."""
    now = datetime.now(UTC).replace(microsecond=0)
    record_answer(engine, served("done", terminal=True, call_id="fin1", at=now))
    post(engine, call_id="fin1", created_at=now, received_at=now)
    record_answer(
        engine,
        served(
            "sorry",
            call_id="ab1",
            at=now + timedelta(seconds=1),
            fallback_from="menu",
            fallback_reason="undefined variable",
            body='<?xml version="1.0"?><Response><Speak>Sorry</Speak></Response>',
            from_number="=HYPERLINK(1)",
        ),
    )
    record_answer(engine, served("menu", call_id="new1", at=now + timedelta(seconds=2)))


def test_list_filters_and_pages(engine):
    story(engine)
    result = invoke("calls", "list", "--limit", "2")
    lines = result.output.splitlines()
    assert [line.split("  ")[1] for line in lines[:2]] == ["new1", "ab1"]
    assert "fell_back at menu" in lines[1]
    cursor = lines[2].removeprefix("more: --cursor ")
    rest = invoke("calls", "list", "--cursor", cursor).output.splitlines()
    assert [line.split("  ")[1] for line in rest] == ["fin1"]
    only = invoke("calls", "list", "--outcome", "finished").output
    assert "fin1" in only and "ab1" not in only
    assert invoke("calls", "list", "--q", "nobody").output == "no calls match\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outcome", "lost"], "outcome: Must be one of"),
        (["--since", "soon"], "since: Not a valid datetime"),
        (["--cursor", "junk"], "cursor: not a cursor"),
    ],
)
def test_bad_filters_are_usage_errors_naming_the_option(engine, args, message):
    result = CliRunner().invoke(cli, ["calls", "list", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_show_says_the_outcome_first_then_the_timeline_with_pretty_bodies(engine):
    story(engine)
    later = datetime.now(UTC) + timedelta(seconds=5)
    post(engine, call_id="ab1", created_at=later, received_at=later)
    output = invoke("calls", "show", "ab1").output
    lines = output.splitlines()
    assert lines[0] == "Call ab1: Fell back at step menu: undefined variable"
    assert "!! FALLBACK from menu: undefined variable" in output
    assert "    <Response>\n      <Speak>Sorry</Speak>\n    </Response>" in output
    assert output.index("ANSWER 200") < output.index("EVENT call.completed")
    missing = CliRunner().invoke(cli, ["calls", "show", "nope"])
    assert missing.exit_code == 1 and "no call with id 'nope'" in missing.output


def test_export_jsonl_is_every_full_record(engine, tmp_path):
    story(engine)
    target = tmp_path / "calls.jsonl"
    result = invoke("calls", "export", "--format", "jsonl", "--output", str(target))
    assert "exported 3 call(s)" in result.output
    records = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["call_id"] for r in records] == ["new1", "ab1", "fin1"]
    assert records[2] == get_call(engine, "fin1")


def test_export_csv_rows_are_summaries_and_formulas_are_defused(engine):
    story(engine)
    result = CliRunner().invoke(cli, ["calls", "export", "--format", "csv", "--flow", "h_menu"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["call_id"] for r in rows] == ["new1", "ab1", "fin1"]
    assert rows[1]["outcome"] == "fell_back" and rows[1]["outcome_step"] == "menu"
    assert rows[1]["from"] == "'=HYPERLINK(1)"


def test_export_since_until_selects_by_first_seen(engine):
    story(engine)
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    result = CliRunner().invoke(cli, ["calls", "export", "--since", future])
    assert result.stdout == "" and "exported 0 call(s)" in result.output


def test_prune_deletes_only_calls_older_than_asked(engine):
    old = datetime.now(UTC) - timedelta(days=31)
    record_answer(engine, served("menu", call_id="old1", at=old))
    record_answer(engine, served("menu", call_id="new1", at=datetime.now(UTC)))
    assert invoke("calls", "prune", "--older-than", "30d").output.startswith("pruned 1 call(s)")
    assert get_call(engine, "old1") is None and get_call(engine, "new1") is not None
    bad = CliRunner().invoke(cli, ["calls", "prune", "--older-than", "soon"])
    assert bad.exit_code == 2 and "--older-than" in bad.output


def test_users_add_stores_a_password_that_signs_in(engine):
    result = invoke("users", "add", "alice", stdin="correct horse battery\ncorrect horse battery\n")
    assert "user alice added" in result.output
    assert check_user(engine, "alice", "correct horse battery") is not None
    scripted = invoke("users", "add", "bob", "--password-stdin", stdin="another long one\n")
    assert scripted.exit_code == 0
    assert check_user(engine, "bob", "another long one") is not None
    again = CliRunner().invoke(cli, ["users", "add", "bob", "--password-stdin"], input="x" * 12)
    assert again.exit_code == 2 and "already exists" in again.output


def test_tokens_create_prints_a_working_token_and_revoke_stops_it(engine):
    token = invoke("tokens", "create", "crm").output.strip()
    assert check_token(engine, token) == "crm"
    assert invoke("tokens", "revoke", "crm").output == "token crm revoked\n"
    assert check_token(engine, token) is None
    assert CliRunner().invoke(cli, ["tokens", "revoke", "crm"]).exit_code == 2


# --- hostile text (issue 10, item 6) and ids a path cannot carry (item 12) --------------


def test_list_and_show_never_send_a_control_or_bidi_character_to_the_terminal(engine):
    hostile = "\x1b[2J\x1b]0;owned\x07call_\u202eevil"
    body = '{"actions": [{"say": {"text": "\x9b31m\u200b"}}]}'
    record_answer(engine, served("menu", call_id=hostile, from_number="+1555\x1b[31m", body=body))
    for args in (["calls", "list"], ["calls", "show", hostile]):
        # color=True: what a terminal gets (click strips only some ANSI when piped).
        output = CliRunner().invoke(cli, args, color=True, catch_exceptions=False).output
        assert not set(output) & set("\x1b\x07\x9b\u202e\u200b"), output
        assert "\\x1b[2J\\x1b]0;owned\\x07call_\\u202eevil" in output
        assert "+1555\\x1b[31m" in output
    shown = CliRunner().invoke(cli, ["calls", "show", hostile], color=True).output
    assert '"text": "\\u009b31m\\u200b"' in shown  # the body, still JSON
    missing = CliRunner().invoke(cli, ["calls", "show", "no\x1bpe"], color=True)
    assert missing.exit_code == 1 and "no call with id 'no\\x1bpe'" in missing.output


def test_export_jsonl_escapes_hidden_characters_and_keeps_the_record(engine):
    record_answer(engine, served("menu", call_id="call_\u202eevil\x85"))
    output = CliRunner().invoke(cli, ["calls", "export"], catch_exceptions=False).stdout
    assert "\u202e" not in output and "\x85" not in output and "\\u202e" in output
    assert json.loads(output) == get_call(engine, "call_\u202eevil\x85")


@pytest.mark.parametrize("call_id", ["x/y", "..", "a//b", "/lead", "-dash"])
def test_show_opens_any_accepted_call_id(engine, call_id):
    record_answer(engine, served("menu", call_id=call_id))
    output = invoke("calls", "show", "--", call_id).output
    assert output.startswith(f"Call {call_id}: In progress")


@pytest.mark.parametrize("age", ["1000000d", "99999999999h", "999999999999999999999m"])
def test_prune_too_far_back_is_a_usage_error_naming_the_option(engine, age):
    result = CliRunner().invoke(cli, ["calls", "prune", "--older-than", age])
    assert result.exit_code == 2 and result.exception is not None
    assert f"--older-than: {age} reaches back past the year 1" in result.output
    assert "Traceback" not in result.output
