"""Support users and API tokens: nothing secret is stored, and only the right secret opens."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from toneflow.store.access import (
    AccessError,
    add_user,
    check_token,
    check_user,
    create_token,
    revoke_token,
    user_name,
)
from toneflow.store.tables import api_tokens, users

PASSWORD = "correct horse battery"


def stored_text(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return " ".join(
            str(row) for table in (users, api_tokens) for row in conn.execute(sa.select(table))
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
