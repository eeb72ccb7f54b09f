"""One log stream: structlog and the standard library (gunicorn, Flask, SQLAlchemy) alike.

Configured once, before the app is built. Lines are JSON under gunicorn or whenever
stdout is not a terminal, and structlog's console renderer on a terminal. Every line of
a request carries the context bound by the web layer (request id, then call id, flow,
step as they become known) through ``structlog.contextvars``.
"""

from __future__ import annotations

import logging
import logging.config
import sys
from typing import Any

import structlog

_SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def choose_format(requested: str | None) -> str:
    """``json`` in production (gunicorn, pipes), ``console`` for a person at a terminal."""
    if requested:
        return requested
    under_gunicorn = "gunicorn" in sys.modules
    return "console" if sys.stdout.isatty() and not under_gunicorn else "json"


def logging_config(log_format: str | None = None, level: str = "info") -> dict[str, Any]:
    """A ``dictConfig`` for the whole process; gunicorn.conf.py hands it to gunicorn too."""
    fmt = choose_format(log_format)
    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
    )
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


def configure_logging(log_format: str | None = None, level: str = "info") -> None:
    """Route structlog through the standard library's handlers, formatted as one stream."""
    logging.config.dictConfig(logging_config(log_format, level))
    structlog.configure(
        processors=[*_SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str = "toneflow") -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
