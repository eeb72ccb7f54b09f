"""The call log's write statements, built once per backend with named parameters.

Building a SQLAlchemy expression per request (CASEs, COALESCEs, typed literals) cost
more than executing it, and it ran inside the write transaction, so it lengthened the
time each writer held SQLite's lock. These statements are built once; each request only
binds values. A statement object is immutable and memoises its cache key, so executing
it again reuses its compiled SQL.

The rules stay in SQL over the row's current values, as :mod:`toneflow.store.ingest`
explains: a parameter that is NULL (a call field not given) keeps the column as it is,
and a boolean parameter switches a rule on (``served``, ``has_fallback``, ``has_error``,
``has_status``, ``completes``). Events are ordered by ``order_at``, not by the
``created_at`` they are stored with (the two differ only for a future-dated event).
The call row is written by one upsert per write (``INSERT … ON CONFLICT DO UPDATE``, on
SQLite and PostgreSQL alike) whose ``outcome`` is :data:`OUTCOME_SQL` over the values
that same statement writes, so it is the outcome of the row as the write leaves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from toneflow.funnel import PATH_MAX, TRUNCATED_MARK
from toneflow.request import DETAIL_FIELDS
from toneflow.store.tables import answers, calls, events

#: What ends a path cut at ``PATH_MAX``.
CUT = " " + TRUNCATED_MARK
#: Call fields both answers and events may fill in (only while still NULL).
CALL_FIELDS = tuple(f.column for f in DETAIL_FIELDS)


class Statements(NamedTuple):
    answer_upsert: sa.Executable
    answer_insert: sa.Executable
    event_insert: sa.Executable
    event_upsert: sa.Executable
    #: SQLite: the upsert's update, for an answer that leaves :data:`STEADY` as they are.
    answer_steady: sa.Executable | None = None


#: Indexed columns of the call row that an answer to a known call almost never changes:
#: its first sighting, its flow, its numbers. See ``answer_steady`` in :func:`statements`.
STEADY = ("first_seen", "flow", "from_number", "to_number")


def _outcome_sql(row: Mapping[str, sa.ColumnElement[Any]] = calls.c) -> sa.Case:
    """The outcome kind over a call row's columns: ``derive_outcome``, in SQL.

    ``row`` maps a column name to its value: the stored row's columns by default, or the
    expressions an upsert is about to write, so the outcome is computed from the row as
    that write leaves it, in the same statement.
    """
    return sa.case(
        (row["fallback_step"].is_not(None), "fell_back"),
        (row["error_step"].is_not(None), "failed"),
        (row["last_step"].is_(None), "never_answered"),
        (row["transfer_to"].is_not(None), "transferred"),
        (row["completed_at"].is_(None), "in_progress"),
        (row["last_step_terminal"].is_(True), "finished"),
        else_="abandoned",
    )


#: The outcome kind of a call row, as SQL (``toneflow.outcome.derive_outcome`` in Python).
OUTCOME_SQL = _outcome_sql()


def _param(name: str, column: sa.ColumnElement[Any]) -> sa.BindParameter[Any]:
    """A named parameter typed like ``column``, so it is stored exactly as the column is.

    Parameters are named ``v_<name>``: SQLAlchemy keeps plain column names for itself in
    INSERT and UPDATE statements.
    """
    return sa.bindparam(f"v_{name}", type_=column.type)


def _switch(name: str) -> sa.BindParameter[bool]:
    return sa.bindparam(f"v_{name}", type_=sa.Boolean())


def params(**values: Any) -> dict[str, Any]:
    """Values for these statements' parameters, under their ``v_`` names."""
    return {f"v_{name}": value for name, value in values.items()}


def _insert(dialect: str, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that supports ``on_conflict_do_nothing`` on this backend."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"unsupported database backend {dialect!r}")


def _with_outcome(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` for a call row plus its outcome, computed from them (the columns a
    write does not set keep their stored values)."""
    row = {name: values.get(name, calls.c[name]) for name in OUTCOME_COLUMNS}
    return {**values, "outcome": _outcome_sql(row)}


#: The columns the outcome rule reads.
OUTCOME_COLUMNS = (
    "fallback_step",
    "error_step",
    "last_step",
    "completed_at",
    "last_step_terminal",
    "transfer_to",
)


@cache
def statements(dialect: str) -> Statements:
    """Each write as few statements as it can be: an answer is one upsert of its call
    row and one insert of its own row; an event one insert-or-nothing of its row and,
    when it is new, one upsert of its call row."""
    c = calls.c
    fills = {name: sa.func.coalesce(c[name], _param(name, c[name])) for name in CALL_FIELDS}
    seen = _param("seen_at", c.first_seen)
    seen_bounds = {
        "first_seen": sa.case((c.first_seen > seen, seen), else_=c.first_seen),
        "last_seen": sa.case((c.last_seen < seen, seen), else_=c.last_seen),
    }
    new_call = {
        "call_id": _param("call_id", c.call_id),
        "first_seen": seen,
        "last_seen": seen,
        **{name: _param(name, c[name]) for name in CALL_FIELDS},
    }

    # Flow and dialect follow the last step served; completion freezes all three. A
    # failed answer (a 500: nothing of its step was served) moves none of them.
    served = _switch("served")
    is_open = sa.and_(served, c.completed_at.is_(None))
    flow, dialect_ = _param("flow", c.flow), _param("dialect", c.dialect)
    step, terminal = _param("step", c.last_step), _param("terminal", c.last_step_terminal)
    transfer_to, path_part = _param("transfer_to", c.transfer_to), _param("path_part", c.path)
    flow_version = _param("flow_version", c.flow_version)
    has_fallback, has_error = _switch("has_fallback"), _switch("has_error")
    fallback_from = _param("fallback_from", c.fallback_step)
    fallback_reason = _param("fallback_reason", c.fallback_reason)
    error_reason = _param("error_reason", c.error_reason)
    first_fallback = sa.and_(has_fallback, c.fallback_step.is_(None))
    first_error = sa.and_(has_error, c.error_step.is_(None))
    # A call first seen by this answer: what the update below makes of an empty row.
    answer_new_call = {
        **new_call,
        "flow": flow,
        "dialect": dialect_,
        "last_step": sa.case((served, step), else_=sa.null()),
        "last_step_terminal": sa.case((served, terminal), else_=sa.null()),
        "transfer_to": sa.case((served, transfer_to), else_=sa.null()),
        "flow_version": flow_version,
        "path": path_part,
        "fallback_step": sa.case((has_fallback, fallback_from), else_=sa.null()),
        "fallback_reason": sa.case((has_fallback, fallback_reason), else_=sa.null()),
        "error_step": sa.case((has_error, _param("step", c.error_step)), else_=sa.null()),
        "error_reason": sa.case((has_error, error_reason), else_=sa.null()),
        "completed_at": sa.null(),
    }
    answer_update = {
        "flow": sa.case((is_open, flow), else_=sa.func.coalesce(c.flow, flow)),
        "dialect": sa.case((is_open, dialect_), else_=sa.func.coalesce(c.dialect, dialect_)),
        "last_step": sa.case((is_open, step), else_=c.last_step),
        "last_step_terminal": sa.case((is_open, terminal), else_=c.last_step_terminal),
        "transfer_to": sa.case((is_open, transfer_to), else_=c.transfer_to),
        "flow_version": sa.func.coalesce(c.flow_version, flow_version),
        # Until completion every answer adds its steps, a failed one too (it reached them),
        # while the path stays within PATH_MAX; then it is marked cut, once.
        "path": sa.case(
            (c.completed_at.is_not(None), c.path),
            (
                sa.func.coalesce(sa.func.length(c.path) + 1, 0) + sa.func.length(path_part)
                <= PATH_MAX - len(CUT),
                sa.func.coalesce(c.path + " ", "") + path_part,
            ),
            (c.path.endswith(CUT), c.path),
            else_=c.path + CUT,
        ),
        "fallback_step": sa.case((first_fallback, fallback_from), else_=c.fallback_step),
        "fallback_reason": sa.case((first_fallback, fallback_reason), else_=c.fallback_reason),
        "error_step": sa.case((first_error, _param("step", c.error_step)), else_=c.error_step),
        "error_reason": sa.case((first_error, error_reason), else_=c.error_reason),
        **seen_bounds,
        **fills,
    }
    # One statement for the call row, whether the call is new or not. On PostgreSQL the
    # row lock it takes orders concurrent answers to one call, so answer ids (inserted
    # after it, in the same transaction) follow serving order.
    answer_upsert = (
        _insert(dialect, calls)
        .values(_with_outcome(answer_new_call))
        .on_conflict_do_update(index_elements=[c.call_id], set_=_with_outcome(answer_update))
    )
    # SQLite rewrites the entry of every index that holds a column an UPDATE's SET names,
    # changed or not, and the upsert's names first_seen (in seven of the nine indexes)
    # and flow. So an answer to a stored call first tries the same update without the
    # STEADY columns, where each of them would keep its value (the update's own
    # expression for it IS the stored value): four indexes instead of nine, with the
    # same row as the upsert's (tests/test_store_queries.py compares them). No row
    # updated, and the upsert runs. PostgreSQL writes a new row version and index
    # entries whatever the SET names, so there the upsert alone runs.
    answer_steady = None
    if dialect == "sqlite":
        moving = {name: value for name, value in answer_update.items() if name not in STEADY}
        answer_steady = (
            sa.update(calls)
            .where(
                c.call_id == _param("call_id", c.call_id),
                *(answer_update[name].is_not_distinct_from(c[name]) for name in STEADY),
            )
            .values(_with_outcome(moving))
        )

    # An event's place in the call's order: its created_at, or its receipt time when it
    # claims to come from the future (``toneflow.store.ingest.order_time``).
    order_at = _param("order_at", c.status_at)
    has_status, completes = _switch("has_status"), _switch("completes")
    not_older = sa.and_(has_status, sa.or_(c.status_at.is_(None), c.status_at <= order_at))
    # The earliest completion reported: a later-stored completion that happened earlier
    # (a late delivery, or one whose future-dated twin was placed at its receipt) wins.
    earlier_completion = sa.or_(c.completed_at.is_(None), c.completed_at > order_at)
    status = _param("status", c.status)
    event_new_call = {
        **new_call,
        "status": sa.case((has_status, status), else_=sa.null()),
        "status_at": sa.case((has_status, order_at), else_=sa.null()),
        "completed_at": sa.case((completes, order_at), else_=sa.null()),
        "last_step": sa.null(),
        "last_step_terminal": sa.null(),
        "transfer_to": sa.null(),
        "fallback_step": sa.null(),
        "error_step": sa.null(),
    }
    event_update = {
        "status": sa.case((not_older, status), else_=c.status),
        "status_at": sa.case((not_older, order_at), else_=c.status_at),
        "completed_at": sa.case(
            (sa.and_(completes, earlier_completion), order_at), else_=c.completed_at
        ),
        **seen_bounds,
        **fills,
    }
    event_upsert = (
        _insert(dialect, calls)
        .values(_with_outcome(event_new_call))
        .on_conflict_do_update(index_elements=[c.call_id], set_=_with_outcome(event_update))
    )
    e = events.c
    event_insert = (
        _insert(dialect, events)
        .values(
            call_id=_param("call_id", e.call_id),
            dedupe_key=_param("dedupe_key", e.dedupe_key),
            webhook_id=_param("webhook_id", e.webhook_id),
            event=_param("event", e.event),
            created_at=_param("created_at", e.created_at),
            received_at=_param("received_at", e.received_at),
            body=_param("body", e.body),
        )
        .on_conflict_do_nothing(index_elements=[e.dedupe_key])
        .returning(e.id)
    )
    return Statements(answer_upsert, sa.insert(answers), event_insert, event_upsert, answer_steady)
