"""Support sessions kept on the server, so signing out or removing a user ends them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 10:00:00

Sessions signed in before this revision lived only in their cookies; they are not
carried over, so everyone signs in again once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "support_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("user_id", _ROW_ID, nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("last_seen", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_support_sessions_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_hash", name="pk_support_sessions"),
    )
    op.create_index("ix_support_sessions_user_id", "support_sessions", ["user_id"])
    op.create_index("ix_support_sessions_last_seen", "support_sessions", ["last_seen"])


def downgrade() -> None:
    op.drop_table("support_sessions")
