"""Flow versions: every version's source, and the step each answer asked for.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:00:00

``flow_versions`` keeps each flow version (its source's hash) with the exact source text,
the first time any server loaded it (a call's pin is its first answer's version:
``toneflow.store.pins``). ``answers.requested_step`` is the step the platform asked for
(NULL: the start step), so ``toneflow replay`` can ask again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = sa.DateTime(timezone=True)
# Answers recorded before this revision: each call's first answer asked for the start
# step; a later one for the step it served (the failed one, when it fell back). A switch
# is recorded as the step it chose, so replaying such a call may differ at a switch.
_BACKFILL = """
UPDATE answers SET requested_step = COALESCE(fallback_from, step)
WHERE id NOT IN (SELECT MIN(id) FROM answers GROUP BY call_id)
"""


def upgrade() -> None:
    op.create_table(
        "flow_versions",
        sa.Column("flow", sa.String(64), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("first_loaded_at", _AT, nullable=False),
        sa.Column("first_loaded_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("flow", "version", name="pk_flow_versions"),
    )
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("requested_step", sa.String(64), nullable=True))
    op.execute(_BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("requested_step")
    op.drop_table("flow_versions")
