"""Read a flow's funnel: its calls in a window grouped by path and outcome, one query.

Each answer extends its call's ``path`` in the statement that updates the call row
(:mod:`toneflow.store.writes`), so nothing is counted on the write path and the read is
one index range (``flow, first_seen, flow_version``) grouped by ``(path, outcome)``:
a flow's distinct paths are few, whatever the number of calls. The counting is
:func:`toneflow.funnel.count_funnel`'s (pure), so the numbers are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from toneflow.funnel import count_funnel
from toneflow.store.engine import reading
from toneflow.store.tables import calls


def read_funnel(
    engine: Engine,
    flow: str,
    *,
    since: datetime,
    until: datetime,
    version: str | None = None,
    order: Sequence[str] = (),
) -> dict[str, Any]:
    """The funnel of ``flow``'s calls first seen in [since, until), of one version if given."""
    c = calls.c
    query = (
        sa.select(c.path, c.outcome, sa.func.count())
        .where(c.flow == flow, c.first_seen >= since, c.first_seen < until)
        .group_by(c.path, c.outcome)
    )
    if version is not None:
        query = query.where(c.flow_version == version)
    with reading(engine) as conn:
        rows = [tuple(row) for row in conn.execute(query)]
    return {
        "flow": flow,
        "since": since,
        "until": until,
        "version": version,
        **count_funnel(rows, order),
    }
