"""A call keeps its flow version: the answer's insert refuses any other version.

A call is pinned to the version of its first answer of a flow. The answer row is
inserted only if the call has no answer of that flow served by another version
(``INSERT … SELECT … WHERE NOT EXISTS``), in the transaction whose call-row upsert has
just locked the call's row (PostgreSQL) or the database (SQLite ``BEGIN IMMEDIATE``), so
two first answers on two servers cannot both win. Finding the pin so costs no statement
of its own: it is the insert every answer already runs, with a subquery over the call's
own answers (the ``(call_id, id)`` index). When the insert is refused, the caller reads
the pin (:func:`first_version`) and serves the step again with it.

Why not a pin column on the call row: the call-row upsert is the longest statement the
store runs, just under the 4,096 bytes psycopg caches the parsed form of; a longer one
is parsed again on every execution (docs/decisions.md measures it).
"""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from toneflow.store.tables import answers

#: The answer row's columns, as the insert binds them (by column name).
INSERTED = tuple(c.name for c in answers.columns if c.name != "id")


@cache
def pinned_insert() -> sa.Executable:
    """Insert one answer unless the call has an answer of its flow by another version;
    returns the new row's id (no row: refused)."""
    values = [sa.bindparam(name, type_=answers.c[name].type) for name in INSERTED]
    other = answers.alias("other")
    elsewhere = sa.exists().where(
        other.c.call_id == sa.bindparam("call_id", type_=answers.c.call_id.type),
        other.c.flow == sa.bindparam("flow", type_=answers.c.flow.type),
        other.c.flow_version != sa.bindparam("flow_version", type_=answers.c.flow_version.type),
    )
    return (
        sa.insert(answers)
        .from_select(list(INSERTED), sa.select(*values).where(~elsewhere))
        .returning(answers.c.id)
    )


@cache
def first_version_query() -> sa.Executable:
    """The version of the call's first answer of a flow (``call_id``, ``flow`` bound)."""
    return (
        sa.select(answers.c.flow_version)
        .where(
            answers.c.call_id == sa.bindparam("call_id", type_=answers.c.call_id.type),
            answers.c.flow == sa.bindparam("flow", type_=answers.c.flow.type),
        )
        .order_by(answers.c.id)
        .limit(1)
    )


def first_version(conn: Connection, call_id: str, flow: str) -> str | None:
    """The version of the call's first answer of ``flow``: its pin (None: not pinned)."""
    return conn.execute(
        first_version_query(), {"call_id": call_id, "flow": flow}
    ).scalar_one_or_none()
