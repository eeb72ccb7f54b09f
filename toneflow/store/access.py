"""Who may read the call log: support users (passwords) and API tokens (bearer secrets).

Neither secret is ever stored. Passwords are kept as werkzeug's scrypt hashes (salted,
deliberately slow: a leaked table does not give the passwords away). API tokens are long
random strings, so one fast SHA-256 suffices; a token reads ``tf_<key id>_<secret>``, the
key id finds the row and the secret's hash is compared with :func:`hmac.compare_digest`,
in constant time, so response timing reveals nothing about a guessed secret.

Support sessions live here too: signing in makes a random session id, the cookie carries
it and only its SHA-256 is stored (found by primary key: the id is 256 random bits, so a
timing difference on its hash tells a guesser nothing). Every request refreshes the row's
``last_seen`` on the server's clock, and a session idle too long is deleted, never
renewed. Deleting the rows is what ends sessions: signing out ends one, removing a user or
changing their password ends all of theirs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from toneflow.store.engine import reading
from toneflow.store.tables import api_tokens, support_sessions, users

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "tf"
#: Checked against when a user name is unknown, so that case takes as long as a wrong password:
#: werkzeug's scrypt hash of a dummy, with the parameters it hashes passwords with (a
#: literal: hashing it at import cost every process about 140 ms of CPU and 32 MiB).
_DUMMY_HASH = (
    "scrypt:32768:8:1$9MVYhdAvZ6de4afg$38a6388eb72967821269bb9807cb27b8418d98bc0ad50396a26776"
    "572ce6eb03e33569fdd8b8cb874f09a8fac5dff20dc7a2444fdee16ab042df9549c9b8b4db"
)


class AccessError(ValueError):
    """A name or password that cannot be used; the message says why."""


class NameTaken(AccessError):
    """The user or token name is in use already."""


def add_user(engine: Engine, name: str, password: str) -> None:
    """Create a support user; :class:`AccessError` for a bad or taken name or a weak password."""
    _check_name(name)
    _insert_unique(engine, users, name, password_hash=_password_hash(password))


def set_password(engine: Engine, name: str, password: str) -> bool:
    """Give user ``name`` a new password and end all their sessions; False if no such user."""
    password_hash = _password_hash(password)
    with engine.begin() as conn:
        user_id = conn.execute(
            sa.update(users)
            .where(users.c.name == name)
            .values(password_hash=password_hash)
            .returning(users.c.id)
        ).scalar()
        if user_id is None:
            return False
        conn.execute(sa.delete(support_sessions).where(support_sessions.c.user_id == user_id))
    return True


def remove_user(engine: Engine, name: str) -> bool:
    """Delete user ``name`` and with them their sessions; False if there was no such user."""
    with engine.begin() as conn:
        user_id = conn.execute(sa.select(users.c.id).where(users.c.name == name)).scalar()
        if user_id is None:
            return False
        # The foreign key cascades too; said here so no setting of the backend is relied on.
        conn.execute(sa.delete(support_sessions).where(support_sessions.c.user_id == user_id))
        conn.execute(sa.delete(users).where(users.c.id == user_id))
    return True


def list_users(engine: Engine) -> list[dict[str, Any]]:
    """Every support user by name: when created, and how many sessions are open now."""
    sessions = (
        sa.select(sa.func.count()).where(support_sessions.c.user_id == users.c.id).scalar_subquery()
    )
    query = sa.select(users.c.name, users.c.created_at, sessions.label("sessions"))
    with reading(engine) as conn:
        return [row._asdict() for row in conn.execute(query.order_by(users.c.name))]


def check_user(engine: Engine, name: str, password: str) -> int | None:
    """The user's id when ``password`` is theirs, else None (unknown name or wrong password)."""
    with reading(engine) as conn:
        row = conn.execute(
            sa.select(users.c.id, users.c.password_hash).where(users.c.name == name)
        ).first()
    if row is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return row.id if check_password_hash(row.password_hash, password) else None


def has_user(engine: Engine, name: str) -> bool:
    """Whether a support user called ``name`` exists."""
    with reading(engine) as conn:
        return conn.execute(sa.select(users.c.id).where(users.c.name == name)).first() is not None


def user_name(engine: Engine, user_id: int) -> str | None:
    """The name of an existing user, or None once they have been removed."""
    with reading(engine) as conn:
        return conn.execute(sa.select(users.c.name).where(users.c.id == user_id)).scalar()


def create_token(engine: Engine, name: str, *, replace: bool = False) -> str:
    """Make an API token called ``name``; returns it (the only time it can be seen).

    With ``replace``, a token already called ``name`` is revoked in the same transaction,
    so a script can run again and always gets a working token.
    """
    _check_name(name)
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    _insert_unique(
        engine,
        api_tokens,
        name,
        replace=replace,
        key_id=key_id,
        secret_hash=_digest(secret),
    )
    return f"{TOKEN_PREFIX}_{key_id}_{secret}"


def list_tokens(engine: Engine) -> list[dict[str, Any]]:
    """Every API token by name: its public key id and when it was made (never the secret)."""
    query = sa.select(api_tokens.c.name, api_tokens.c.key_id, api_tokens.c.created_at)
    with reading(engine) as conn:
        return [row._asdict() for row in conn.execute(query.order_by(api_tokens.c.name))]


def check_token(engine: Engine, token: str) -> str | None:
    """The token's name when ``token`` is a valid API token, else None."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or not key_id or not secret:
        return None
    with reading(engine) as conn:
        row = conn.execute(
            sa.select(api_tokens.c.name, api_tokens.c.secret_hash).where(
                api_tokens.c.key_id == key_id
            )
        ).first()
    expected = row.secret_hash if row is not None else _digest("")
    matches = hmac.compare_digest(expected, _digest(secret))
    return row.name if row is not None and matches else None


def revoke_token(engine: Engine, name: str) -> bool:
    """Delete the token called ``name``; False if there was none."""
    with engine.begin() as conn:
        return conn.execute(sa.delete(api_tokens).where(api_tokens.c.name == name)).rowcount > 0


def start_session(engine: Engine, user_id: int, *, now: datetime, idle: timedelta) -> str:
    """Open a session for ``user_id``; returns its id, for the cookie (only a hash is kept).

    Sessions left idle past ``idle`` are swept here, so the table holds only live ones
    plus those that expired since the last sign-in.
    """
    session_id = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(sa.delete(support_sessions).where(support_sessions.c.last_seen < now - idle))
        conn.execute(
            sa.insert(support_sessions).values(
                id_hash=_digest(session_id), user_id=user_id, created_at=now, last_seen=now
            )
        )
    return session_id


def session_user(engine: Engine, session_id: str, *, now: datetime, idle: timedelta) -> str | None:
    """The user a live session belongs to, marking it seen at ``now``; else None.

    A session not seen for longer than ``idle`` is deleted rather than refreshed, so no
    copy of its cookie can bring it back.
    """
    id_hash = _digest(session_id)
    with engine.begin() as conn:
        live = conn.execute(
            sa.update(support_sessions)
            .where(support_sessions.c.id_hash == id_hash)
            .where(support_sessions.c.last_seen >= now - idle)
            .values(last_seen=now)
            .returning(support_sessions.c.user_id)
        ).scalar()
        if live is None:
            conn.execute(sa.delete(support_sessions).where(support_sessions.c.id_hash == id_hash))
            return None
        return conn.execute(sa.select(users.c.name).where(users.c.id == live)).scalar()


def end_session(engine: Engine, session_id: str) -> None:
    """Delete the session: every copy of its cookie is signed out."""
    with engine.begin() as conn:
        conn.execute(
            sa.delete(support_sessions).where(support_sessions.c.id_hash == _digest(session_id))
        )


def _check_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise AccessError(
            f"name {name!r} must be 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )


def _password_hash(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccessError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return generate_password_hash(password, method="scrypt")


def _insert_unique(
    engine: Engine, table: sa.Table, name: str, *, replace: bool = False, **values: str
) -> None:
    try:
        with engine.begin() as conn:
            if replace:
                conn.execute(sa.delete(table).where(table.c.name == name))
            conn.execute(sa.insert(table).values(name=name, created_at=datetime.now(UTC), **values))
    except IntegrityError as err:
        raise NameTaken(f"{table.name[:-1].replace('_', ' ')} {name!r} already exists") from err


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
