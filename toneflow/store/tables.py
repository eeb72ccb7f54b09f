"""The call log schema, as SQLAlchemy Core tables: the one description of the database.

Alembic revisions create it and a test proves they match it. The call log's tables:

* ``calls``: one row per call id, the summary a list or a support person reads first
  (status, last step, first fallback), kept current by each write so listing calls
  never has to scan answers or events;
* ``answers``: every answer served to a call, with the exact body sent;
* ``events``: every platform webhook stored once, deduplicated by ``dedupe_key``;
* ``flow_versions``: every flow version any server loaded, with its exact source;
* ``verifications``: what a call recording was heard to carry against what was served
  (``toneflow calls verify --attach``);
* ``pushes``: digits pushed into a live call by a platform's API (``toneflow push``);

and who may read it: ``users`` (support staff), their ``support_sessions``, and
``api_tokens``.

Strings that come from a platform (status, numbers, ids other than the call id) are
``Text``: the platform decides their length, and a too-long value must not turn a
webhook into an error the platform retries forever. Names this project controls
(flows, steps, dialects) have the bounds their own validation enforces.
"""

from __future__ import annotations

import sqlalchemy as sa

from toneflow.store.types import UTCDateTime

CALL_ID_MAX = 128
NAME_MAX = 64  # flow and step names: ^[a-z0-9][a-z0-9_-]{0,63}$
DEDUPE_KEY_MAX = 255
OUTCOME_MAX = 32
USER_NAME_MAX = 64

# Big on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is an autoincrementing rowid.
_RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

calls = sa.Table(
    "calls",
    metadata,
    sa.Column("call_id", sa.String(CALL_ID_MAX), primary_key=True),
    sa.Column("flow", sa.String(NAME_MAX)),
    sa.Column("dialect", sa.String(NAME_MAX)),
    sa.Column("status", sa.Text),
    # created_at of the event that set ``status``: an older event never overrides it.
    sa.Column("status_at", UTCDateTime),
    sa.Column("direction", sa.Text),
    sa.Column("from_number", sa.Text),
    sa.Column("to_number", sa.Text),
    sa.Column("customer_id", sa.Text),
    sa.Column("application_id", sa.Text),
    # Server clock: when this service first and last heard of the call.
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("last_seen", UTCDateTime, nullable=False),
    # created_at of call.completed; once set, last_step no longer moves.
    sa.Column("completed_at", UTCDateTime),
    sa.Column("last_step", sa.String(NAME_MAX)),
    sa.Column("last_step_terminal", sa.Boolean),
    # The first fallback served: the step that could not render, and why.
    sa.Column("fallback_step", sa.String(NAME_MAX)),
    sa.Column("fallback_reason", sa.Text),
    # The first answer that failed with no fallback to serve (the platform got a 500).
    sa.Column("error_step", sa.String(NAME_MAX)),
    sa.Column("error_reason", sa.Text),
    # The outcome kind, kept current by every write so the list can filter on an index.
    sa.Column("outcome", sa.String(OUTCOME_MAX)),
    # Where the last step served transferred the call (NULL: it did not transfer).
    sa.Column("transfer_to", sa.Text),
    # The version of the flow that served the call's first answer (the call is pinned to it).
    sa.Column("flow_version", sa.String(128)),
    # Every step the call passed through until completion, space-separated, a step entered
    # as a fallback marked "!" (``toneflow.funnel``): what the per-flow funnel counts.
    sa.Column("path", sa.Text),
    # The list is newest first with (first_seen, call_id) as its keyset; each filter has
    # an index that ends in the same pair, so a filtered first page reads a few rows.
    sa.Index(None, "first_seen", "call_id"),
    sa.Index(None, "status", "first_seen", "call_id"),
    sa.Index(None, "outcome", "first_seen", "call_id"),
    sa.Index(None, "flow", "first_seen", "call_id"),
    sa.Index(None, "last_step", "first_seen", "call_id"),
    sa.Index(None, "from_number", "first_seen", "call_id"),
    sa.Index(None, "to_number", "first_seen", "call_id"),
    sa.Index(None, "last_seen"),  # retention: prune by last activity
    # The funnel: one flow's calls first seen in a window (and of one version), read from
    # the index alone (it holds every column the funnel groups by; ``path`` is bounded by
    # ``toneflow.funnel.PATH_MAX`` so an entry fits PostgreSQL's index tuple limit).
    sa.Index(None, "flow", "first_seen", "flow_version", "outcome", "path"),
)


def _timeline_columns() -> tuple[sa.Column, sa.Column]:
    """A row id, and the call the row belongs to (timeline rows go with their call)."""
    return (
        sa.Column("id", _RowId, primary_key=True, autoincrement=True),
        sa.Column(
            "call_id",
            sa.String(CALL_ID_MAX),
            sa.ForeignKey(calls.c.call_id, ondelete="CASCADE"),
            nullable=False,
        ),
    )


answers = sa.Table(
    "answers",
    metadata,
    *_timeline_columns(),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("dialect", sa.String(NAME_MAX), nullable=False),
    sa.Column("flow", sa.String(NAME_MAX), nullable=False),
    sa.Column("flow_version", sa.String(128), nullable=False),
    sa.Column("step", sa.String(NAME_MAX), nullable=False),
    sa.Column("terminal", sa.Boolean, nullable=False),
    sa.Column("request", sa.JSON, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("duration_ms", sa.Float, nullable=False),
    sa.Column("fallback_from", sa.String(NAME_MAX)),
    sa.Column("fallback_reason", sa.Text),
    # The HTTP status sent: 200, or 500 when the step failed and there was no fallback.
    sa.Column("status", sa.Integer, nullable=False, server_default="200"),
    sa.Column("error_reason", sa.Text),  # why it failed, when status is 500
    # What toneflow decided at serve time (``toneflow.answer.Decision.as_dict``): the steps
    # passed through, each switch's value and case, a collect_digits wait, a transfer.
    sa.Column("decision", sa.JSON),
    # The step the platform asked for (NULL: the start step), for ``toneflow replay``.
    sa.Column("requested_step", sa.String(NAME_MAX)),
    sa.Index(None, "call_id", "id"),
)

events = sa.Table(
    "events",
    metadata,
    *_timeline_columns(),
    sa.Column("dedupe_key", sa.String(DEDUPE_KEY_MAX), nullable=False, unique=True),
    sa.Column("webhook_id", sa.Text),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    # Plain JSON, not JSONB: PostgreSQL keeps the object exactly as received.
    sa.Column("body", sa.JSON, nullable=False),
    sa.Index(None, "call_id", "created_at"),
)

#: ``toneflow calls verify --attach``: a recording's keys against the keys served. Only
#: keys and words are kept (masked like an answer's body when redacting), never the audio.
verifications = sa.Table(
    "verifications",
    metadata,
    *_timeline_columns(),
    sa.Column("at", UTCDateTime, nullable=False),  # server clock: when it was checked
    sa.Column("recording", sa.Text, nullable=False),  # the file's name, without its folder
    sa.Column("served", sa.Text, nullable=False),
    sa.Column("heard", sa.Text, nullable=False),
    sa.Column("difference", sa.Text),  # the first difference; NULL when they matched
    sa.Index(None, "call_id", "id"),
)

#: Digits pushed into a live call by API (``POST /push/…``, ``toneflow push``): every request
#: sent (secrets masked), each reply, the timing, and success or why not.
pushes = sa.Table(
    "pushes",
    metadata,
    *_timeline_columns(),
    sa.Column("at", UTCDateTime, nullable=False),  # server clock: when the push began
    sa.Column("platform", sa.String(NAME_MAX), nullable=False),
    sa.Column("flow", sa.String(NAME_MAX), nullable=False),
    sa.Column("flow_version", sa.String(128), nullable=False),
    sa.Column("step", sa.String(NAME_MAX), nullable=False),
    sa.Column("reference", sa.JSON, nullable=False),  # the platform's call reference, as given
    sa.Column("round_up", sa.Boolean, nullable=False),
    sa.Column("sends", sa.JSON, nullable=False),  # the step's send_digits, as rendered
    sa.Column("requests", sa.JSON, nullable=False),  # each request sent and its reply
    sa.Column("duration_ms", sa.Float, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),  # why not, when ok is false
    sa.Index(None, "call_id", "id"),
)


#: Every flow version any server has loaded: its exact source, and who loaded it first.
flow_versions = sa.Table(
    "flow_versions",
    metadata,
    sa.Column("flow", sa.String(NAME_MAX), primary_key=True),
    sa.Column("version", sa.String(128), primary_key=True),  # flows.compile.flow_version
    sa.Column("source", sa.Text, nullable=False),  # the file's text, exactly
    sa.Column("first_loaded_at", UTCDateTime, nullable=False),
    sa.Column("first_loaded_by", sa.Text, nullable=False),  # TONEFLOW_SERVER_NAME
)

#: Support staff who may sign in to /support (``toneflow users add NAME``).
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", _RowId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(USER_NAME_MAX), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),  # werkzeug scrypt
    sa.Column("created_at", UTCDateTime, nullable=False),
)

#: Bearer tokens for /api (``toneflow tokens create NAME``): only a hash is kept.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", _RowId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(USER_NAME_MAX), nullable=False, unique=True),
    # Public part of the token, used to find the row; the secret part is only hashed.
    sa.Column("key_id", sa.String(32), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),  # sha256 hex
    sa.Column("created_at", UTCDateTime, nullable=False),
)

#: Signed-in support sessions: the cookie holds a random session id, and only its SHA-256
#: is kept here, so a copy of this table opens nothing. Deleting the row ends the session
#: for every copy of the cookie (sign-out, ``users remove``, ``users password``).
support_sessions = sa.Table(
    "support_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),  # sha256 hex of the session id
    sa.Column("user_id", _RowId, sa.ForeignKey(users.c.id, ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # Server clock: the last request made with this session; the idle timeout counts from it.
    sa.Column("last_seen", UTCDateTime, nullable=False),
    sa.Index(None, "user_id"),
    sa.Index(None, "last_seen"),  # expired sessions are swept by age
)
