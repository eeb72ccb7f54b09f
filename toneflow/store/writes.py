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
``calls.outcome`` is refreshed by its own UPDATE after each write, so it is computed
from the row as that write left it (:data:`OUTCOME_SQL`).
"""

from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from toneflow.request import DETAIL_FIELDS
from toneflow.store.tables import answers, calls, events

#: Call fields both answers and events may fill in (only while still NULL).
CALL_FIELDS = tuple(f.column for f in DETAIL_FIELDS)


class Statements(NamedTuple):
    ensure_call: sa.Executable
    answer_update: sa.Executable
    answer_insert: sa.Executable
    event_insert: sa.Executable
    event_update: sa.Executable
    outcome_update: sa.Executable


def _outcome_sql() -> sa.Case:
    """The outcome kind over a call row's columns: ``derive_outcome``, in SQL."""
    c = calls.c
    return sa.case(
        (c.fallback_step.is_not(None), "fell_back"),
        (c.error_step.is_not(None), "failed"),
        (c.last_step.is_(None), "never_answered"),
        (c.completed_at.is_(None), "in_progress"),
        (c.last_step_terminal.is_(True), "finished"),
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


@cache
def statements(dialect: str) -> Statements:
    c = calls.c
    fills = {name: sa.func.coalesce(c[name], _param(name, c[name])) for name in CALL_FIELDS}
    seen = _param("seen_at", c.first_seen)
    seen_bounds = {
        "first_seen": sa.case((c.first_seen > seen, seen), else_=c.first_seen),
        "last_seen": sa.case((c.last_seen < seen, seen), else_=c.last_seen),
    }
    ensure_call = (
        _insert(dialect, calls)
        .values(
            call_id=_param("call_id", c.call_id),
            first_seen=seen,
            last_seen=seen,
            flow=_param("flow", c.flow),
            dialect=_param("dialect", c.dialect),
            **{name: _param(name, c[name]) for name in CALL_FIELDS},
        )
        .on_conflict_do_nothing(index_elements=[c.call_id])
    )
    where_call = c.call_id == _param("call_id", c.call_id)

    # Flow and dialect follow the last step served; completion freezes all three. A
    # failed answer (a 500: nothing of its step was served) moves none of them.
    is_open = sa.and_(_switch("served"), c.completed_at.is_(None))
    flow, dialect_ = _param("flow", c.flow), _param("dialect", c.dialect)
    first_fallback = sa.and_(_switch("has_fallback"), c.fallback_step.is_(None))
    first_error = sa.and_(_switch("has_error"), c.error_step.is_(None))
    answer_update = (
        sa.update(calls)
        .where(where_call)
        .values(
            flow=sa.case((is_open, flow), else_=sa.func.coalesce(c.flow, flow)),
            dialect=sa.case((is_open, dialect_), else_=sa.func.coalesce(c.dialect, dialect_)),
            last_step=sa.case((is_open, _param("step", c.last_step)), else_=c.last_step),
            last_step_terminal=sa.case(
                (is_open, _param("terminal", c.last_step_terminal)), else_=c.last_step_terminal
            ),
            fallback_step=sa.case(
                (first_fallback, _param("fallback_from", c.fallback_step)), else_=c.fallback_step
            ),
            fallback_reason=sa.case(
                (first_fallback, _param("fallback_reason", c.fallback_reason)),
                else_=c.fallback_reason,
            ),
            error_step=sa.case((first_error, _param("step", c.error_step)), else_=c.error_step),
            error_reason=sa.case(
                (first_error, _param("error_reason", c.error_reason)), else_=c.error_reason
            ),
            **seen_bounds,
            **fills,
        )
    )

    # An event's place in the call's order: its created_at, or its receipt time when it
    # claims to come from the future (``toneflow.store.ingest.order_time``).
    order_at = _param("order_at", c.status_at)
    not_older = sa.and_(
        _switch("has_status"), sa.or_(c.status_at.is_(None), c.status_at <= order_at)
    )
    # The earliest completion reported: a later-stored completion that happened earlier
    # (a late delivery, or one whose future-dated twin was placed at its receipt) wins.
    earlier_completion = sa.or_(c.completed_at.is_(None), c.completed_at > order_at)
    event_update = (
        sa.update(calls)
        .where(where_call)
        .values(
            status=sa.case((not_older, _param("status", c.status)), else_=c.status),
            status_at=sa.case((not_older, order_at), else_=c.status_at),
            completed_at=sa.case(
                (sa.and_(_switch("completes"), earlier_completion), order_at),
                else_=c.completed_at,
            ),
            **seen_bounds,
            **fills,
        )
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
    outcome_update = sa.update(calls).where(where_call).values(outcome=OUTCOME_SQL)
    return Statements(
        ensure_call, answer_update, sa.insert(answers), event_insert, event_update, outcome_update
    )
