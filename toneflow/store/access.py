"""Who may read the call log: support users (passwords) and API tokens (bearer secrets).

Neither secret is ever stored. Passwords are kept as werkzeug's scrypt hashes (salted,
deliberately slow: a leaked table does not give the passwords away). API tokens are long
random strings, so one fast SHA-256 suffices; a token reads ``tf_<key id>_<secret>``, the
key id finds the row and the secret's hash is compared with :func:`hmac.compare_digest`,
in constant time, so response timing reveals nothing about a guessed secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from toneflow.store.engine import reading
from toneflow.store.tables import api_tokens, users

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "tf"
#: Checked against when a user name is unknown, so that case takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")


class AccessError(ValueError):
    """A name or password that cannot be used; the message says why."""


def add_user(engine: Engine, name: str, password: str) -> None:
    """Create a support user; :class:`AccessError` for a bad or taken name or a weak password."""
    _check_name(name)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccessError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    _insert_unique(
        engine,
        users,
        name,
        password_hash=generate_password_hash(password, method="scrypt"),
    )


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


def user_name(engine: Engine, user_id: int) -> str | None:
    """The name of an existing user, or None once they have been removed."""
    with reading(engine) as conn:
        return conn.execute(sa.select(users.c.name).where(users.c.id == user_id)).scalar()


def create_token(engine: Engine, name: str) -> str:
    """Make an API token called ``name``; returns it (the only time it can be seen)."""
    _check_name(name)
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    _insert_unique(engine, api_tokens, name, key_id=key_id, secret_hash=_digest(secret))
    return f"{TOKEN_PREFIX}_{key_id}_{secret}"


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


def _check_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise AccessError(
            f"name {name!r} must be 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )


def _insert_unique(engine: Engine, table: sa.Table, name: str, **values: str) -> None:
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(table).values(name=name, created_at=datetime.now(UTC), **values))
    except IntegrityError as err:
        raise AccessError(f"{table.name[:-1].replace('_', ' ')} {name!r} already exists") from err


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
