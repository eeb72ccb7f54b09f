"""One log stream: structlog and the standard library (gunicorn, Flask, SQLAlchemy) alike.

Configured once, before the app is built. Lines are JSON under gunicorn or whenever
stdout is not a terminal, and structlog's console renderer on a terminal. Every line of
a request carries the context bound by the web layer (request id, then call id, flow,
step as they become known) through ``structlog.contextvars``.

The app's own events (one per answer, on the hot path) take structlog's native path: its
processors render the line and write it to stdout, with no standard-library record in
between, which made a line cost about three times as much. Standard-library loggers
(gunicorn, SQLAlchemy) reach the same stdout through a handler whose formatter runs the
same processors and renderer, so the stream reads as one.
"""

from __future__ import annotations

import json
import logging
import logging.config
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog


class UtcIsoTimestamp:
    """``timestamp``: exactly structlog's ``TimeStamper(fmt="iso", utc=True)`` text
    (``2026-12-01T12:00:00.123456Z``, no fraction on a whole second), for a third of its
    cost: the date and time of day are formatted once per second, not once per line
    (every answer and event has two lines: its own and gunicorn's access line).
    """

    def __init__(self, clock: Callable[[], int] = time.time_ns) -> None:
        self.clock = clock
        self._second: tuple[int, str] = (-1, "")

    def __call__(self, _logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
        second, micro = divmod(self.clock() // 1000, 1_000_000)
        cached = self._second
        if cached[0] != second:
            text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            cached = self._second = (second, text)
        event["timestamp"] = f"{cached[1]}.{micro:06d}Z" if micro else f"{cached[1]}Z"
        return event


_TIMESTAMPER = UtcIsoTimestamp()
#: For standard-library records (their logger name comes from the record).
_SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    _TIMESTAMPER,
]


def choose_format(requested: str | None) -> str:
    """``json`` in production (gunicorn, pipes), ``console`` for a person at a terminal."""
    if requested:
        return requested
    under_gunicorn = "gunicorn" in sys.modules
    return "console" if sys.stdout.isatty() and not under_gunicorn else "json"


def _unserialisable(value: Any) -> Any:
    """What structlog's JSONRenderer writes for a value JSON has no type for."""
    method = getattr(value, "__structlog__", None)
    return method() if method is not None else repr(value)


#: One encoder for every line: JSONRenderer's default serialiser is ``json.dumps`` with a
#: ``default=``, which builds a new encoder per line (about 7 of its 11 us). Same output.
_ENCODER = json.JSONEncoder(default=_unserialisable)


def _encode(event_dict: dict[str, Any], **_json_options: Any) -> str:
    return _ENCODER.encode(event_dict)


def _renderer(fmt: str) -> Any:
    """The last processor: a JSON line, or structlog's console rendering."""
    if fmt == "json":
        return structlog.processors.JSONRenderer(serializer=_encode)
    return structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())


def logging_config(log_format: str | None = None, level: str = "info") -> dict[str, Any]:
    """A ``dictConfig`` for the whole process; gunicorn.conf.py hands it to gunicorn too."""
    renderer = _renderer(choose_format(log_format))
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "toneflow": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    renderer,
                ],
                "foreign_pre_chain": _SHARED_PROCESSORS,
            }
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "toneflow",
                "stream": "ext://sys.stdout",
            },
        },
        "root": {"handlers": ["stdout"], "level": "WARNING"},
        "loggers": {
            "toneflow": {"level": level.upper()},
            "gunicorn.error": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        },
    }


#: Where :func:`get_logger` keeps the logger's name until :func:`_logger_name` moves it.
_NAME_KEY = "_toneflow_logger"


def _logger_name(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """``logger``: the module that logged, given to :func:`get_logger`, as stdlib's name."""
    event["logger"] = event.pop(_NAME_KEY, "toneflow")
    return event


#: How many times :func:`configure_logging` has run: a logger bound before is bound again.
_configurations = 0


def configure_logging(log_format: str | None = None, level: str = "info") -> None:
    """Standard-library logging to stdout, and structlog's own path beside it, as one stream."""
    global _configurations
    logging.config.dictConfig(logging_config(log_format, level))
    fmt = choose_format(log_format)
    # The console renderer formats exceptions itself (and warns if they already are).
    exceptions = [structlog.processors.format_exc_info] if fmt == "json" else []
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _logger_name,
            _TIMESTAMPER,
            *exceptions,
            _renderer(fmt),
        ],
        logger_factory=structlog.WriteLoggerFactory(sys.stdout),
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        cache_logger_on_first_use=False,
    )
    _configurations += 1


class _Logger:
    """A module's logger: structlog's, bound once per :func:`configure_logging`.

    structlog's lazy proxy builds a new bound logger for every line unless loggers are
    cached on first use, and caching would keep the first configuration for good (each
    app the tests build configures logging again). This binds once per configuration:
    about 13 us less per line (one per answer and per event).
    """

    __slots__ = ("_bound", "_bound_for", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._bound: Any = None
        self._bound_for = -1

    def __getattr__(self, method: str) -> Any:
        configuration = _configurations
        if self._bound_for != configuration:
            self._bound = structlog.get_logger(**{_NAME_KEY: self._name}).bind()
            self._bound_for = configuration
        return getattr(self._bound, method)


def get_logger(name: str = "toneflow") -> Any:
    """A structlog logger whose lines say ``logger: name``."""
    return _Logger(name)
