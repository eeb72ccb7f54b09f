"""The call log: what each call was served and what the platform said about it.

SQLAlchemy Core over SQLite or PostgreSQL, with no knowledge of Flask or HTTP, so the
web layer, the CLI and tests all share one implementation of the contract's rules.
Everything goes through one :class:`CallLog`; its modules each do one job:

* :mod:`~toneflow.store.ingest`: writing answers and events (the contract's rules);
* :mod:`~toneflow.store.writes`: the prebuilt statements those writes execute;
* :mod:`~toneflow.store.records`: reading a call, and a page's rows, as plain records;
* :mod:`~toneflow.store.queries`: the filtered list, its cursors, export and pruning;
* :mod:`toneflow.outcome` (pure, outside the store): the outcome rule.
"""

from toneflow.listing import CallFilter
from toneflow.outcome import OUTCOME_KINDS, derive_outcome
from toneflow.store.call_log import AnswerNotRecorded, CallLog
from toneflow.store.engine import make_engine, normalize_url, reading
from toneflow.store.ingest import dedupe_key
from toneflow.store.migrate import current, head, upgrade
from toneflow.store.queries import InvalidCursor, Page
from toneflow.store.tables import answers, api_tokens, calls, events, metadata, users

__all__ = [
    "OUTCOME_KINDS",
    "AnswerNotRecorded",
    "CallFilter",
    "CallLog",
    "InvalidCursor",
    "Page",
    "answers",
    "api_tokens",
    "calls",
    "current",
    "dedupe_key",
    "derive_outcome",
    "events",
    "head",
    "make_engine",
    "metadata",
    "normalize_url",
    "reading",
    "upgrade",
    "users",
]
