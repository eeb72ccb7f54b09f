"""Hostile use of support sessions: copied cookies, stale copies, hostile ``next`` targets.

A support session is a row on the server; the cookie only names it. So whatever a client
keeps or copies, a session that was signed out, expired, or belonged to a user who was
removed or given a new password opens nothing. Runs on every backend under test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_web_support import PASSWORD, csrf_token, sign_in
from werkzeug.datastructures import Headers

from toneflow.store.access import add_user, remove_user, set_password
from toneflow.store.tables import support_sessions
from toneflow.web.support import _safe_next

COOKIE = "toneflow_session"


@pytest.fixture
def store(app):
    engine = app.extensions["toneflow.call_log"].engine
    add_user(engine, "alice", PASSWORD)
    return engine


def signed_in(app):
    client = app.test_client()
    assert sign_in(client).status_code == 302
    assert client.get("/support/calls").status_code == 200
    return client


def copy_of(app, client):
    """A second client holding exactly the first one's session cookie (a stolen copy)."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE).value, domain="localhost")
    return thief


def sessions(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(support_sessions)).scalar()


def sign_out(client):
    token = csrf_token(client, "/support/calls")
    return client.post("/support/sign-out", data={"csrf_token": token})


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, store):
    alice = signed_in(app)
    thief = copy_of(app, alice)
    assert thief.get("/support/calls").status_code == 200  # the copy works while signed in
    assert sign_out(alice).status_code == 302
    refused = thief.get("/support/calls")
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/support/sign-in")
    assert alice.get("/support/calls").status_code == 302


def test_an_idle_session_ends_on_the_servers_clock_for_every_copy(app, store):
    """The cookie is still fresh; the row says the session has been idle too long."""
    alice = signed_in(app)
    stale = copy_of(app, alice)
    idle = app.config["PERMANENT_SESSION_LIFETIME"]
    long_ago = datetime.now(UTC) - idle - timedelta(seconds=1)
    with store.begin() as conn:
        conn.execute(sa.update(support_sessions).values(last_seen=long_ago))
    assert stale.get("/support/calls").status_code == 302
    # The expired row was deleted, not refreshed: nothing can use it again.
    assert sessions(store) == 0
    assert alice.get("/support/calls").status_code == 302


@pytest.mark.parametrize(
    "change",
    [
        lambda engine: remove_user(engine, "alice"),
        lambda engine: set_password(engine, "alice", "a brand new passphrase"),
    ],
    ids=["user removed", "password changed"],
)
def test_removing_a_user_or_changing_their_password_ends_every_session(app, store, change):
    browsers = [signed_in(app), signed_in(app)]
    copies = [copy_of(app, browser) for browser in browsers]
    assert change(store) is True
    for client in browsers + copies:
        assert client.get("/support/calls").status_code == 302
    assert sessions(store) == 0


def test_only_a_hash_of_the_session_id_is_stored_and_sign_in_starts_a_new_one(app, store):
    client = signed_in(app)
    serializer = app.session_interface.get_signing_serializer(app)
    first = serializer.loads(client.get_cookie(COOKIE).value)["sid"]
    with store.connect() as conn:
        rows = [tuple(map(str, row)) for row in conn.execute(sa.select(support_sessions))]
    assert len(rows) == 1 and not any(first in cell for cell in rows[0])
    old_copy = copy_of(app, client)
    assert sign_in(client).status_code == 302  # signing in again ...
    again = serializer.loads(client.get_cookie(COOKIE).value)["sid"]
    assert again != first
    assert old_copy.get("/support/calls").status_code == 302  # ... ends the session before


@pytest.mark.parametrize(
    "target",
    [
        "/support/calls\r\nSet-Cookie: evil=1",
        "/support/calls\nX-Evil: 1",
        "/support/calls\r",
        "/support/calls\x00",
        "/support/calls\x1b[31m",
        "/support/calls\x7f",
        "/support/calls\x85",
        "/support/calls\x9b",
    ],
    ids=["crlf", "lf", "cr", "nul", "esc", "del", "nel", "csi"],
)
def test_a_control_character_in_next_signs_in_to_the_default_page(app, store, target):
    client = app.test_client()
    response = sign_in(client, next_path=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/support/calls"
    assert client.get("/support/calls").status_code == 200


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.one_of(st.text(), st.text().map(lambda tail: "/support/calls" + tail)))
def test_any_next_is_a_valid_location_on_the_support_pages(app, target):
    with app.test_request_context("/support/sign-in"):
        location = _safe_next(target)
    assert location.startswith("/support/")
    assert location in (target, "/support/calls")
    Headers().add("Location", location)  # Werkzeug refuses what cannot be a header value
