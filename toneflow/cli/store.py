"""The store for commands that need no app: configuration read, engine made, disposed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine

from toneflow.config import load_config
from toneflow.store import CallLog, make_engine


@contextmanager
def command_store() -> Iterator[tuple[Engine, dict]]:
    """The configured store's engine and the configuration, for the length of a command."""
    config = load_config()
    engine = make_engine(config["DATABASE_URL"])
    try:
        yield engine, config
    finally:
        engine.dispose()


@contextmanager
def command_call_log() -> Iterator[CallLog]:
    """The configured call log (redacting as the app would), for the length of a command."""
    with command_store() as (engine, config):
        yield CallLog(engine, redact_numbers=config["REDACT_NUMBERS"])
