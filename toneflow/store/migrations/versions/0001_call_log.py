"""Call log: calls, the answers served to them, and the platform events about them.

Revision ID: 0001
Revises:
Create Date: 2026-05-29 12:00:00

Written out in full rather than importing ``toneflow.store.tables``: a revision must
keep creating the schema it was written for after the tables module moves on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("flow", sa.String(64), nullable=True),
        sa.Column("dialect", sa.String(64), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("status_at", _AT, nullable=True),
        sa.Column("direction", sa.Text(), nullable=True),
        sa.Column("from_number", sa.Text(), nullable=True),
        sa.Column("to_number", sa.Text(), nullable=True),
        sa.Column("customer_id", sa.Text(), nullable=True),
        sa.Column("application_id", sa.Text(), nullable=True),
        sa.Column("first_seen", _AT, nullable=False),
        sa.Column("last_seen", _AT, nullable=False),
        sa.Column("completed_at", _AT, nullable=True),
        sa.Column("last_step", sa.String(64), nullable=True),
        sa.Column("last_step_terminal", sa.Boolean(), nullable=True),
        sa.Column("fallback_step", sa.String(64), nullable=True),
        sa.Column("fallback_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("call_id", name="pk_calls"),
    )
    op.create_index("ix_calls_first_seen", "calls", ["first_seen"])
    op.create_index("ix_calls_status", "calls", ["status"])
    op.create_index("ix_calls_flow", "calls", ["flow"])
    op.create_index("ix_calls_last_step", "calls", ["last_step"])

    op.create_table(
        "answers",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.Column("dialect", sa.String(64), nullable=False),
        sa.Column("flow", sa.String(64), nullable=False),
        sa.Column("flow_version", sa.String(128), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("terminal", sa.Boolean(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("fallback_from", sa.String(64), nullable=True),
        sa.Column("fallback_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.call_id"], name="fk_answers_call_id_calls", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_answers"),
    )
    op.create_index("ix_answers_call_id_id", "answers", ["call_id", "id"])

    op.create_table(
        "events",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=False),
        sa.Column("webhook_id", sa.Text(), nullable=True),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("received_at", _AT, nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.call_id"], name="fk_events_call_id_calls", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("dedupe_key", name="uq_events_dedupe_key"),
    )
    op.create_index("ix_events_call_id_created_at", "events", ["call_id", "created_at"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("answers")
    op.drop_table("calls")
