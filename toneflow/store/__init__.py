"""The call log: what each call was served and what the platform said about it.

SQLAlchemy Core over SQLite or PostgreSQL, with no knowledge of Flask or HTTP, so the
web layer, the CLI and tests all share one implementation of the contract's rules.
"""

from toneflow.store.calls import (
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
from toneflow.store.tables import answers, calls, events, metadata

__all__ = [
    "ServedAnswer",
    "answers",
    "calls",
    "current",
    "dedupe_key",
    "derive_outcome",
    "events",
    "get_call",
    "head",
    "make_engine",
    "metadata",
    "normalize_url",
    "ping",
    "reading",
    "record_answer",
    "record_event",
    "upgrade",
]
