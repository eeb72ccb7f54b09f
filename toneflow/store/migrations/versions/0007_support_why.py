"""Support sees why: each answer's decision, a call's transfer, version and path.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:00:00

Calls recorded before this revision have no path, version or transfer (they count in no
funnel and keep the outcome they had); their answers have no recorded decision.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("decision", sa.JSON()))
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("transfer_to", sa.Text()))
        batch.add_column(sa.Column("flow_version", sa.String(128)))
        batch.add_column(sa.Column("path", sa.Text()))
    op.create_index(
        "ix_calls_flow_first_seen_flow_version_outcome_path",
        "calls",
        ["flow", "first_seen", "flow_version", "outcome", "path"],
    )


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+ has it), not a batch copy: on SQLite a copy
    # drops the old calls table, and its ON DELETE CASCADE would empty every timeline.
    op.drop_index("ix_calls_flow_first_seen_flow_version_outcome_path", table_name="calls")
    for table, column in (
        ("calls", "path"),
        ("calls", "flow_version"),
        ("calls", "transfer_to"),
        ("answers", "decision"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
