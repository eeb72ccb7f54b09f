"""Verifications: a call recording's keys against the keys served (``calls verify``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "verifications",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.Column("recording", sa.Text(), nullable=False),
        sa.Column("served", sa.Text(), nullable=False),
        sa.Column("heard", sa.Text(), nullable=False),
        sa.Column("difference", sa.Text()),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.call_id"],
            name="fk_verifications_call_id_calls",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_verifications"),
    )
    op.create_index("ix_verifications_call_id_id", "verifications", ["call_id", "id"])


def downgrade() -> None:
    op.drop_table("verifications")
