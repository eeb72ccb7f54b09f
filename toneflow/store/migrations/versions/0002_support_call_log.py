"""Support call log: outcome and failure columns, list indexes, users and API tokens.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 11:00:00

The outcome kind becomes a column so the list can filter on it through an index; it is
filled here for calls recorded before this revision, by the same rule the store uses.
The single-column indexes of 0001 are replaced by ones ending in the list's keyset
(first_seen, call_id), which also serve every query the old ones served.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)
_KEYSET = ["first_seen", "call_id"]
_OLD_INDEXES = ("first_seen", "status", "flow", "last_step")
_NEW_INDEXES = {
    "ix_calls_first_seen_call_id": _KEYSET,
    "ix_calls_status_first_seen_call_id": ["status", *_KEYSET],
    "ix_calls_outcome_first_seen_call_id": ["outcome", *_KEYSET],
    "ix_calls_flow_first_seen_call_id": ["flow", *_KEYSET],
    "ix_calls_last_step_first_seen_call_id": ["last_step", *_KEYSET],
    "ix_calls_from_number_first_seen_call_id": ["from_number", *_KEYSET],
    "ix_calls_to_number_first_seen_call_id": ["to_number", *_KEYSET],
    "ix_calls_last_seen": ["last_seen"],
}

# The outcome rule as of this revision (toneflow.store.writes.OUTCOME_SQL says the same).
_BACKFILL = """
UPDATE calls SET outcome = CASE
    WHEN fallback_step IS NOT NULL THEN 'fell_back'
    WHEN error_step IS NOT NULL THEN 'failed'
    WHEN last_step IS NULL THEN 'never_answered'
    WHEN completed_at IS NULL THEN 'in_progress'
    WHEN last_step_terminal THEN 'finished'
    ELSE 'abandoned'
END
"""


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("error_step", sa.String(64), nullable=True))
        batch.add_column(sa.Column("error_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(32), nullable=True))
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("status", sa.Integer(), server_default="200", nullable=False))
        batch.add_column(sa.Column("error_reason", sa.Text(), nullable=True))
    op.execute(_BACKFILL)
    for column in _OLD_INDEXES:
        op.drop_index(f"ix_calls_{column}", table_name="calls")
    for name, columns in _NEW_INDEXES.items():
        op.create_index(name, "calls", columns)

    op.create_table(
        "users",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("name", name="uq_api_tokens_name"),
        sa.UniqueConstraint("key_id", name="uq_api_tokens_key_id"),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_table("users")
    for name in _NEW_INDEXES:
        op.drop_index(name, table_name="calls")
    for column in _OLD_INDEXES:
        op.create_index(f"ix_calls_{column}", "calls", [column])
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("error_reason")
        batch.drop_column("status")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("outcome")
        batch.drop_column("error_reason")
        batch.drop_column("error_step")
