"""The store engine for commands that need no app: configuration read, engine made, disposed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine

from toneflow.config import load_config
from toneflow.store import make_engine


@contextmanager
def command_store() -> Iterator[tuple[Engine, dict]]:
    """The configured store's engine and the configuration, for the length of a command."""
    config = load_config()
    engine = make_engine(config["DATABASE_URL"])
    try:
        yield engine, config
    finally:
        engine.dispose()
