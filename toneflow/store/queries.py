"""Find calls: the filtered, newest-first list with keyset pagination, export and pruning.

The list is ordered by ``(first_seen, call_id)`` descending, and a page ends with a
cursor naming its last row; the next page starts strictly after it. Unlike an offset,
this costs the same on page 1 and page 10,000, and a call arriving between two pages
neither repeats a row nor hides one. Every filter has an index ending in the same pair
(``toneflow.store.tables``), so the first page of any filtered list reads a few rows.

The web pages, the JSON API and the CLI all list through ``CallLog.list``, which calls
:func:`list_calls`; rows come back as plain records (:mod:`toneflow.store.records`).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from toneflow.listing import DEFAULT_LIMIT, MAX_LIMIT, NO_FILTER, CallFilter
from toneflow.redact import mask_number
from toneflow.store.engine import reading
from toneflow.store.records import call_summary, read_records
from toneflow.store.tables import calls

PRUNE_BATCH = 1000


class InvalidCursor(ValueError):
    """A cursor this store did not hand out (or one mangled on the way back)."""


@dataclass(frozen=True)
class Page:
    calls: list[dict[str, Any]]
    next_cursor: str | None


def list_calls(
    engine: Engine,
    filters: CallFilter = NO_FILTER,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page:
    """One page of call summaries, newest first, and the cursor of the next page (or None)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    after = decode_cursor(cursor) if cursor is not None else None
    with reading(engine) as conn:
        rows = _page_rows(conn, filters, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    summaries = [call_summary(row) for row in rows]
    next_cursor = encode_cursor(rows[-1]["first_seen"], rows[-1]["call_id"]) if more else None
    return Page(summaries, next_cursor)


def count_calls(engine: Engine, filters: CallFilter = NO_FILTER) -> int:
    """How many calls match (for an export's progress bar)."""
    query = _filtered(filters).with_only_columns(sa.func.count(), maintain_column_froms=True)
    with reading(engine) as conn:
        return conn.execute(query).scalar_one()


def iter_records(
    engine: Engine,
    filters: CallFilter = NO_FILTER,
    *,
    batch: int = 200,
) -> Iterator[dict[str, Any]]:
    """Every matching call's full record, newest first, read a batch at a time.

    Each batch is its own short read (three queries), so a long export neither holds one
    snapshot open for minutes nor loads every call into memory.
    """
    query = _newest_first(_filtered(filters)).limit(batch)
    after: tuple[datetime, str] | None = None
    while True:
        page = query
        if after is not None:
            page = page.where(_after(*after))
        with reading(engine) as conn:
            rows = conn.execute(page).mappings().all()
            records = read_records(conn, rows)
        yield from records
        if len(rows) < batch:
            return
        after = (rows[-1]["first_seen"], rows[-1]["call_id"])


def prune(engine: Engine, older_than: datetime) -> int:
    """Delete calls last seen before ``older_than``, with their timelines; how many.

    In batches, each its own transaction, so pruning a large store never holds the write
    lock (SQLite) or a huge set of row locks (PostgreSQL) long enough to delay an answer.
    """
    stale = (
        sa.select(calls.c.call_id).where(calls.c.last_seen < older_than).limit(PRUNE_BATCH)
    ).scalar_subquery()
    deleted = 0
    while True:
        with engine.begin() as conn:
            count = conn.execute(sa.delete(calls).where(calls.c.call_id.in_(stale))).rowcount
        deleted += count
        if count < PRUNE_BATCH:
            return deleted


def encode_cursor(first_seen: datetime, call_id: str) -> str:
    raw = json.dumps([first_seen.astimezone(UTC).isoformat(), call_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (first_seen, call_id) a cursor names; :class:`InvalidCursor` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        first_seen, call_id = json.loads(raw)
        at = datetime.fromisoformat(first_seen).astimezone(UTC)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError) as err:
        raise InvalidCursor("not a cursor this service made") from err
    # A naive time would be read as local; NUL cannot even be compared by PostgreSQL.
    if not isinstance(call_id, str) or "\x00" in call_id or "+" not in first_seen[10:]:
        raise InvalidCursor("not a cursor this service made")
    return at, call_id


def _page_rows(
    conn: Connection, filters: CallFilter, after: tuple[datetime, str] | None, limit: int
) -> list[Mapping[str, Any]]:
    """Up to ``limit`` rows after the cursor, newest first.

    A search is one query per place ``q`` can match (the id, each spelling of the number as
    from or as to), each walking its own (column, first_seen, call_id) index, merged here:
    a single OR query would make the database choose one plan for a number with one call
    and for the company's main number, on every call.
    """
    base = dataclasses.replace(filters, q=None)
    if filters.q:
        c = calls.c
        numbers = sorted({filters.q, mask_number(filters.q)})
        branches = [
            c.call_id == filters.q,
            *(c.from_number == number for number in numbers),
            *(c.to_number == number for number in numbers),
        ]
    else:
        branches = [sa.true()]
    found: dict[str, Mapping[str, Any]] = {}
    for branch in branches:
        query = _filtered(base).where(branch)
        if after is not None:
            query = query.where(_after(*after))
        for row in conn.execute(_newest_first(query).limit(limit)).mappings():
            found[row["call_id"]] = row
    ordered = sorted(found.values(), key=lambda r: (r["first_seen"], r["call_id"]), reverse=True)
    return ordered[:limit]


def _filtered(filters: CallFilter) -> sa.Select:
    c = calls.c
    query = sa.select(calls)
    for column, value in (
        (c.status, filters.status),
        (c.outcome, filters.outcome),
        (c.flow, filters.flow),
        (c.last_step, filters.last_step),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.since is not None:
        query = query.where(c.first_seen >= filters.since)
    if filters.until is not None:
        query = query.where(c.first_seen < filters.until)
    if filters.q:
        # A number may have been stored masked (redaction on) or whole (before it was).
        numbers = {filters.q, mask_number(filters.q)}
        query = query.where(
            sa.or_(c.call_id == filters.q, c.from_number.in_(numbers), c.to_number.in_(numbers))
        )
    return query


def _after(first_seen: datetime, call_id: str) -> sa.ColumnElement[bool]:
    """Rows that come after (first_seen, call_id) in newest-first order."""
    c = calls.c
    return sa.or_(
        c.first_seen < first_seen, sa.and_(c.first_seen == first_seen, c.call_id < call_id)
    )


def _newest_first(query: sa.Select) -> sa.Select:
    return query.order_by(calls.c.first_seen.desc(), calls.c.call_id.desc())
