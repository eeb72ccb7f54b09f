"""Support users and API tokens: nothing secret is stored, and only the right secret opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from toneflow.cli import cli
from toneflow.store.access import (
    AccessError,
    add_user,
    check_token,
    check_user,
    create_token,
    end_session,
    list_tokens,
    list_users,
    remove_user,
    revoke_token,
    session_user,
    set_password,
    start_session,
    user_name,
)
from toneflow.store.tables import api_tokens, support_sessions, users

PASSWORD = "correct horse battery"


def stored_text(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return " ".join(
            str(row)
            for table in (users, api_tokens, support_sessions)
            for row in conn.execute(sa.select(table))
        )


def test_a_user_signs_in_with_their_password_only(engine):
    add_user(engine, "alice", PASSWORD)
    user_id = check_user(engine, "alice", PASSWORD)
    assert user_id is not None and user_name(engine, user_id) == "alice"
    assert check_user(engine, "alice", PASSWORD + "!") is None
    assert check_user(engine, "bob", PASSWORD) is None
    assert PASSWORD not in stored_text(engine)
    assert "scrypt:" in stored_text(engine)


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("alice", "short", "at least 10"),
        ("", PASSWORD, "must be 1-64"),
        ("a b", PASSWORD, "must be 1-64"),
        ("x" * 65, PASSWORD, "must be 1-64"),
    ],
)
def test_bad_users_are_refused_with_the_reason(engine, name, password, message):
    with pytest.raises(AccessError, match=message):
        add_user(engine, name, password)


def test_a_taken_user_name_is_refused(engine):
    add_user(engine, "alice", PASSWORD)
    with pytest.raises(AccessError, match="user 'alice' already exists"):
        add_user(engine, "alice", PASSWORD)


def test_a_token_opens_until_it_is_revoked_and_only_its_hash_is_stored(engine):
    token = create_token(engine, "crm")
    assert token.startswith("tf_")
    assert check_token(engine, token) == "crm"
    # tf_<key id>_<secret>: the secret is URL-safe base64 and may itself hold "_".
    secret = token.split("_", 2)[2]
    assert len(secret) >= 40
    assert secret not in stored_text(engine)
    assert revoke_token(engine, "crm") is True
    assert check_token(engine, token) is None
    assert revoke_token(engine, "crm") is False


def test_wrong_or_malformed_tokens_open_nothing(engine):
    token = create_token(engine, "crm")
    key = token.rsplit("_", 1)[0]
    for wrong in ("", "tf_", "tf__x", "xx_" + token[3:], key + "_wrong", token + "x", "Bearer"):
        assert check_token(engine, wrong) is None
    with pytest.raises(AccessError, match="api token 'crm' already exists"):
        create_token(engine, "crm")


IDLE = timedelta(minutes=30)
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def alice(engine) -> int:
    add_user(engine, "alice", PASSWORD)
    return check_user(engine, "alice", PASSWORD)


def test_a_session_lives_while_used_and_only_its_hash_is_stored(engine):
    session_id = start_session(engine, alice(engine), now=T0, idle=IDLE)
    assert session_id not in stored_text(engine)
    # Each use moves the idle timer on: used every 20 minutes it outlives 30 minutes.
    for minutes in (20, 40, 60):
        assert session_user(engine, session_id, now=T0 + timedelta(minutes=minutes), idle=IDLE)
    assert session_user(engine, session_id + "x", now=T0, idle=IDLE) is None
    end_session(engine, session_id)
    assert session_user(engine, session_id, now=T0 + timedelta(minutes=61), idle=IDLE) is None


def test_an_idle_session_is_deleted_and_no_earlier_clock_brings_it_back(engine):
    session_id = start_session(engine, alice(engine), now=T0, idle=IDLE)
    assert session_user(engine, session_id, now=T0 + IDLE, idle=IDLE) == "alice"  # just in
    late = T0 + 2 * IDLE + timedelta(microseconds=1)
    assert session_user(engine, session_id, now=late, idle=IDLE) is None
    assert session_user(engine, session_id, now=T0, idle=IDLE) is None


def test_signing_in_sweeps_away_sessions_that_have_expired(engine):
    user_id = alice(engine)
    start_session(engine, user_id, now=T0, idle=IDLE)
    live = start_session(engine, user_id, now=T0 + IDLE, idle=IDLE)
    start_session(engine, user_id, now=T0 + IDLE + timedelta(seconds=1), idle=IDLE)
    assert list_users(engine)[0]["sessions"] == 2  # the first one, idle too long, is gone
    assert session_user(engine, live, now=T0 + IDLE, idle=IDLE) == "alice"


def test_a_new_password_or_removal_ends_the_users_sessions(engine):
    user_id = alice(engine)
    add_user(engine, "bob", PASSWORD)
    bobs = start_session(engine, check_user(engine, "bob", PASSWORD), now=T0, idle=IDLE)
    first = start_session(engine, user_id, now=T0, idle=IDLE)
    assert set_password(engine, "alice", "a brand new passphrase") is True
    assert session_user(engine, first, now=T0, idle=IDLE) is None
    assert check_user(engine, "alice", PASSWORD) is None
    assert check_user(engine, "alice", "a brand new passphrase") == user_id
    with pytest.raises(AccessError, match="at least 10"):
        set_password(engine, "alice", "short")
    second = start_session(engine, user_id, now=T0, idle=IDLE)
    assert remove_user(engine, "alice") is True
    assert session_user(engine, second, now=T0, idle=IDLE) is None
    assert session_user(engine, bobs, now=T0, idle=IDLE) == "bob"  # other users keep theirs
    assert remove_user(engine, "alice") is False
    assert set_password(engine, "alice", "a brand new passphrase") is False
    assert [row["name"] for row in list_users(engine)] == ["bob"]


def test_replacing_a_token_revokes_the_old_one_and_lists_never_show_secrets(engine):
    old = create_token(engine, "crm")
    new = create_token(engine, "crm", replace=True)
    assert check_token(engine, old) is None and check_token(engine, new) == "crm"
    [listed] = list_tokens(engine)
    assert (listed["name"], listed["key_id"]) == ("crm", new.split("_")[1])
    assert new.split("_", 2)[2] not in str(listed)


# --- the commands ----------------------------------------------------------------------


@pytest.fixture
def command(engine, database_url, monkeypatch):
    """Run ``toneflow ...`` against the test's store; exit code and everything printed."""
    monkeypatch.setenv("DATABASE_URL", database_url)

    def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = CliRunner().invoke(cli, list(args), input=stdin)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        return result.exit_code, result.output

    return run


def test_tokens_create_replace_can_run_again_and_again(command, engine):
    tokens = [command("tokens", "create", "support-bot", "--replace") for _ in range(3)]
    assert [code for code, _ in tokens] == [0, 0, 0]
    assert [check_token(engine, out.strip()) for _, out in tokens] == [None, None, "support-bot"]
    code, out = command("tokens", "create", "support-bot")
    assert code == 2 and "already exists; --replace revokes it and makes a new one" in out


def test_tokens_list_names_key_ids_and_never_the_secret(command):
    assert command("tokens", "list") == (
        0,
        "no API tokens (make one with: toneflow tokens create NAME)\n",
    )
    token = command("tokens", "create", "crm")[1].strip()
    code, out = command("tokens", "list")
    assert code == 0
    assert out.startswith(f"crm\tkey {token.split('_')[1]}\tcreated 20")
    assert token.split("_", 2)[2] not in out
    assert command("tokens", "revoke", "crm") == (0, "token crm revoked\n")
    code, out = command("tokens", "revoke", "crm")
    assert code == 2 and "no API token called 'crm'" in out


def test_users_list_remove_and_password(command, engine):
    assert command("users", "add", "alice", "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    code, out = command("users", "list")
    assert code == 0 and out.startswith("alice\tadded 20") and out.endswith("\t0 session(s)\n")
    changed = command("users", "password", "alice", stdin="a new passphrase\na new passphrase\n")
    assert changed == (
        0,
        "Password: \nRepeat for confirmation: \npassword for alice changed; "
        "their sessions have ended\n",
    )
    assert check_user(engine, "alice", "a new passphrase") is not None
    scripted = command("users", "password", "alice", "--password-stdin", stdin="third one!!\n")
    assert scripted[0] == 0 and check_user(engine, "alice", "third one!!") is not None
    code, out = command("users", "password", "alice", "--password-stdin", stdin="short\n")
    assert code == 2 and "password must be at least 10 characters" in out
    assert command("users", "remove", "alice") == (
        0,
        "user alice removed; their sessions have ended\n",
    )
    assert command("users", "list")[1] == "no users (add one with: toneflow users add NAME)\n"


@pytest.mark.parametrize(
    "args",
    [("users", "remove", "nobody"), ("users", "password", "nobody"), ("tokens", "revoke", "x")],
)
def test_unknown_names_are_a_clear_usage_error(command, args):
    code, out = command(*args)
    assert code == 2
    assert out.splitlines()[-1] in (
        "Error: no user called 'nobody'",
        "Error: no API token called 'x'",
    )
    assert "Password" not in out  # no password is asked for a user who does not exist


def test_an_unknown_name_is_checked_against_a_hash_as_costly_as_a_password_s():
    """The dummy hash (a literal) has the method and cost a new password's hash has."""
    from werkzeug.security import check_password_hash, generate_password_hash

    from toneflow.store.access import _DUMMY_HASH

    method = generate_password_hash("a password of ten+", method="scrypt").split("$", 1)[0]
    assert _DUMMY_HASH.split("$", 1)[0] == method
    assert check_password_hash(_DUMMY_HASH, "not a real password")
