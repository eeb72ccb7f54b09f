"""The call log: what each call was served and what the platform said about it.

SQLAlchemy Core over SQLite or PostgreSQL, with no knowledge of Flask or HTTP, so the
web layer, the CLI and tests all share one implementation of the contract's rules.
"""

from toneflow.store.calls import (
    OUTCOME_KINDS,
    ServedAnswer,
    dedupe_key,
    derive_outcome,
    get_call,
    ping,
    record_answer,
    record_event,
)
from toneflow.store.engine import make_engine, normalize_url, reading
from toneflow.store.migrate import current, head, upgrade
from toneflow.store.queries import (
    CallFilter,
    InvalidCursor,
    Page,
    count_calls,
    iter_records,
    list_calls,
    prune,
)
from toneflow.store.tables import answers, api_tokens, calls, events, metadata, users

__all__ = [
    "OUTCOME_KINDS",
    "CallFilter",
    "InvalidCursor",
    "Page",
    "ServedAnswer",
    "answers",
    "api_tokens",
    "calls",
    "count_calls",
    "current",
    "dedupe_key",
    "derive_outcome",
    "events",
    "get_call",
    "head",
    "iter_records",
    "list_calls",
    "make_engine",
    "metadata",
    "normalize_url",
    "ping",
    "prune",
    "reading",
    "record_answer",
    "record_event",
    "upgrade",
    "users",
]
