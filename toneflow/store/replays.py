"""What ``toneflow replay`` reads: the answers recorded for a call, and the calls of a flow.

Reads only, each in one consistent snapshot (:func:`~toneflow.store.engine.reading`):
replay writes nothing to the call log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from toneflow.store.engine import reading
from toneflow.store.tables import answers

#: An answer's columns replay needs: what was asked, with what, and what was sent.
REPLAY_COLUMNS = (
    "id", "at", "dialect", "flow", "flow_version", "requested_step", "step", "request",
    "body", "status",
)  # fmt: skip


def recorded_answers(engine: Engine, call_id: str) -> list[dict[str, Any]]:
    """The call's answers in serving order (empty: no such call, or none answered)."""
    columns = [answers.c[name] for name in REPLAY_COLUMNS]
    with reading(engine) as conn:
        rows = conn.execute(
            sa.select(*columns).where(answers.c.call_id == call_id).order_by(answers.c.id)
        ).mappings()
        return [dict(row) for row in rows]


def calls_of_flow(engine: Engine, flow: str, since: datetime) -> list[str]:
    """Calls served a step of ``flow`` at or after ``since``, oldest first."""
    with reading(engine) as conn:
        first = sa.func.min(answers.c.id)
        rows = conn.execute(
            sa.select(answers.c.call_id)
            .where(answers.c.flow == flow, answers.c.at >= since)
            .group_by(answers.c.call_id)
            .order_by(first)
        )
        return [row.call_id for row in rows]
