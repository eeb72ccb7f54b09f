"""Write a push (digits sent into a live call by API) onto its call's timeline.

A push may be the first toneflow hears of a call (VICIdial names an agent's session, not
a call toneflow served), so the call row is made when it is missing, with no step served
(``never_answered`` until an answer comes), and its ``last_seen`` moved on when it is not.
One transaction, committed durably (``synchronous=FULL``): the digits have gone out, and
their record is what support reads to know it. Only :class:`~toneflow.store.CallLog`
calls this.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from toneflow.store.ingest import check_call_id
from toneflow.store.tables import calls, pushes
from toneflow.store.writes import OUTCOME_COLUMNS, _insert, _with_outcome

#: The push row's own columns, as :class:`toneflow.push.client.PushResult` names them.
PUSH_COLUMNS = (
    "at", "platform", "flow", "flow_version", "step", "reference", "round_up", "sends",
    "requests", "duration_ms", "ok", "error",
)  # fmt: skip


@cache
def _call_upsert(dialect: str) -> sa.Executable:
    seen = sa.bindparam("seen_at", type_=calls.c.last_seen.type)
    new_call = {
        "call_id": sa.bindparam("call_id", type_=calls.c.call_id.type),
        "first_seen": seen,
        "last_seen": seen,
        **{name: sa.null() for name in OUTCOME_COLUMNS},
    }
    later = sa.case((calls.c.last_seen < seen, seen), else_=calls.c.last_seen)
    return (
        _insert(dialect, calls)
        .values(_with_outcome(new_call))
        .on_conflict_do_update(index_elements=[calls.c.call_id], set_={"last_seen": later})
    )


def write_push(engine: Engine, call_id: str, push: Mapping[str, Any], *, seen_at: datetime) -> None:
    """Put ``push`` (a :class:`~toneflow.push.client.PushResult`'s record) on ``call_id``."""
    check_call_id(call_id)
    row = {column: push[column] for column in PUSH_COLUMNS}
    with engine.begin() as conn:
        conn.execute(_call_upsert(engine.dialect.name), {"call_id": call_id, "seen_at": seen_at})
        conn.execute(sa.insert(pushes).values(call_id=call_id, **row))
