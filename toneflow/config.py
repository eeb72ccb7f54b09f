"""Configuration: defaults, then the environment, then what the caller passes in.

Read once, in :func:`load_config`, so the web app and the CLI commands that need no app
(``toneflow db upgrade``) agree on every value.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Config

from toneflow.dtmf.parsing import DEFAULT_MAX_DIGITS
from toneflow.push.platforms import SETTING_KEYS as PUSH_SETTINGS
from toneflow.webhook_secrets import SecretError, parse_secrets

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": f"sqlite:///{PROJECT_ROOT / 'instance' / 'toneflow.db'}",
    "FLOWS_DIR": "flows",
    "PUBLIC_URL": None,
    "LOG_FORMAT": None,  # None: json under gunicorn or when not on a terminal, else console
    "LOG_LEVEL": "info",
    "WEBHOOK_SECRET": None,  # one or more whsec_… secrets, space-separated (rotation)
    "SIGN_ANSWERS": False,  # with a secret: answer requests must be signed too
    "MAX_DIGITS": DEFAULT_MAX_DIGITS,
    "MAX_BODY_BYTES": 1_048_576,
    "SQLITE_BUSY_TIMEOUT_MS": 2000,  # how long a SQLite write waits for a lock
    "RELOAD": False,  # 1: reload edited flow files before each request (development)
    "REDACT_NUMBERS": False,  # 1: store and show phone numbers masked but the last 4 digits
    "SECRET_KEY": None,  # signs support sessions; random per start when unset
    "SESSION_IDLE_MINUTES": 30,  # a support session ends after this long without a request
    "PROXY_HOPS": 0,  # reverse proxies in front whose X-Forwarded-* headers are trusted
    # Push platforms (TONEFLOW_VICIDIAL_URL, …): unset until configured (toneflow.push).
    **dict.fromkeys(PUSH_SETTINGS),
    "SERVER_ID": None,  # names this server in flow_versions.first_loaded_by; None: host:port
}

#: Settings read from unprefixed variables, by long-standing platform convention.
UNPREFIXED = ("DATABASE_URL", "PORT")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
PREFIX = "TONEFLOW_"


class ConfigError(ValueError):
    """A setting has a value the app cannot run with."""


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, overlaid by ``TONEFLOW_*`` (and ``DATABASE_URL``), overlaid by ``overrides``."""
    config = Config(PROJECT_ROOT, DEFAULTS)
    for name in UNPREFIXED:
        if name in os.environ:
            config[name] = os.environ[name]
    # Flask's own reader: values are parsed as JSON when they parse (`128` is a number).
    config.from_prefixed_env(PREFIX.rstrip("_"))
    # Credentials and URLs are text exactly as set: JSON parsing would make a password of
    # 1234 a number and one of 1e3 the float 1000.0.
    for name in PUSH_SETTINGS:
        if PREFIX + name in os.environ:
            config[name] = os.environ[PREFIX + name]
    config.update(overrides or {})
    _check(config)
    return dict(config)


def _check(config: dict[str, Any]) -> None:
    for name in ("MAX_DIGITS", "MAX_BODY_BYTES", "SQLITE_BUSY_TIMEOUT_MS", "SESSION_IDLE_MINUTES"):
        value = config[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"TONEFLOW_{name} must be a positive whole number, not {value!r}")
    _check_whole_number(config, "PROXY_HOPS", least=0)
    for name in ("SIGN_ANSWERS", "RELOAD", "REDACT_NUMBERS"):
        if config[name] not in (True, False, 0, 1):
            raise ConfigError(f"TONEFLOW_{name} must be 1 or 0")
    if config["WEBHOOK_SECRET"]:
        try:
            parse_secrets(config["WEBHOOK_SECRET"])  # the CLI's `webhooks sign` uses it too
        except SecretError as err:
            raise ConfigError(str(err)) from None  # no chained traceback quoting the value
    if config["SIGN_ANSWERS"] and not config["WEBHOOK_SECRET"]:
        raise ConfigError("TONEFLOW_SIGN_ANSWERS=1 needs TONEFLOW_WEBHOOK_SECRET")
    if config["LOG_FORMAT"] not in (None, "json", "console"):
        raise ConfigError("TONEFLOW_LOG_FORMAT must be 'json' or 'console'")
    level = config["LOG_LEVEL"]
    if not isinstance(level, str) or level.lower() not in LOG_LEVELS:
        raise ConfigError(
            f"TONEFLOW_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {level!r}"
        )


def _check_whole_number(config: dict[str, Any], name: str, *, least: int) -> None:
    value = config[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigError(
            f"TONEFLOW_{name} must be a whole number of at least {least}, not {value!r}"
        )
