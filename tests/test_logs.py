"""One log stream: JSON lines (or console lines) carrying each request's context."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import types
from pathlib import Path

import pytest
import structlog
from hypothesis import example, given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from toneflow.logs import choose_format, configure_logging, get_logger, logging_config

FLOWS = str(Path(__file__).resolve().parent.parent / "flows")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z$")
ANSI = re.compile(r"\x1b\[")


@pytest.fixture(autouse=True)
def restore_logging():
    """Tests here point logging at capsys's stream; point it back at the real stdout."""
    yield
    structlog.contextvars.clear_contextvars()
    with contextlib.redirect_stdout(sys.__stdout__):
        configure_logging("json")


def json_lines(out: str) -> list[dict]:
    lines = [line for line in out.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line, or this fails


def events_named(lines: list[dict], name: str) -> list[dict]:
    return [line for line in lines if line["event"] == name]


# --- choosing the format ----------------------------------------------------------


class _Tty:
    def isatty(self) -> bool:
        return True


class _Pipe:
    def isatty(self) -> bool:
        return False


@pytest.mark.parametrize("requested", ["json", "console"])
def test_an_explicit_format_wins(monkeypatch, requested):
    monkeypatch.setattr(sys, "stdout", _Tty())
    monkeypatch.setitem(sys.modules, "gunicorn", types.ModuleType("gunicorn"))
    assert choose_format(requested) == requested


def test_a_terminal_gets_console(monkeypatch):
    monkeypatch.setattr(sys, "stdout", _Tty())
    monkeypatch.delitem(sys.modules, "gunicorn", raising=False)
    assert choose_format(None) == "console"


def test_gunicorn_gets_json_even_on_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stdout", _Tty())
    monkeypatch.setitem(sys.modules, "gunicorn", types.ModuleType("gunicorn"))
    assert choose_format(None) == "json"


def test_a_pipe_gets_json(monkeypatch):
    monkeypatch.setattr(sys, "stdout", _Pipe())
    monkeypatch.delitem(sys.modules, "gunicorn", raising=False)
    assert choose_format(None) == "json"


def test_gunicorn_and_the_app_log_through_the_same_handler():
    config = logging_config("json")
    for name in ("gunicorn.error", "gunicorn.access"):
        assert config["loggers"][name]["handlers"] == ["stdout"]
        assert config["loggers"][name]["propagate"] is False
    assert config["root"]["handlers"] == ["stdout"]


# --- JSON lines -------------------------------------------------------------------


def test_json_lines_carry_the_request_context_and_the_exact_body(client_for, capsys):
    client = client_for({}, FLOWS_DIR=FLOWS, LOG_FORMAT="json")
    capsys.readouterr()
    response = client.get(
        "/answer/minivoice/menu?call_id=log1", headers={"X-Request-ID": "req-log-1"}
    )
    lines = json_lines(capsys.readouterr().out)
    [served] = events_named(lines, "answer_served")
    assert served["request_id"] == "req-log-1"
    assert served["call_id"] == "log1"
    assert served["flow"] == "menu"
    assert served["step"] == "greet"
    assert served["dialect"] == "minivoice"
    assert served["body"] == response.data.decode("utf-8")
    assert json.loads(served["body"]) == response.json
    assert served["level"] == "info"
    assert served["logger"] == "toneflow.web.answer"
    assert ISO_UTC.match(served["timestamp"])
    assert served["fallback_from"] is None
    assert isinstance(served["duration_ms"], float)


def test_the_ozml_body_is_logged_byte_for_byte(client_for, capsys):
    client = client_for({}, FLOWS_DIR=FLOWS, LOG_FORMAT="json")
    capsys.readouterr()
    response = client.get("/answer/ozml/dtmf_parties?CallId=oz-log")
    [served] = events_named(json_lines(capsys.readouterr().out), "answer_served")
    assert served["body"].encode("utf-8") == response.data
    assert served["body"].startswith('<?xml version="1.0" encoding="UTF-8"?><Response>')


def test_answer_served_is_captured_with_its_exact_body(client):
    with capture_logs() as logs:
        response = client.post(
            "/answer/minivoice/appointment",
            json={"call": {"id": "cap1"}, "variables": {"confirmation_code": "99"}},
        )
    [served] = [e for e in logs if e["event"] == "answer_served"]
    assert served["body"] == response.data.decode("utf-8")
    assert '"digits":"99#"' in served["body"]
    assert served["log_level"] == "info"


def test_a_fallback_is_logged_with_its_reason(client):
    with capture_logs() as logs:
        client.get("/answer/minivoice/appointment?call_id=fb1")  # no confirmation_code
    [served] = [e for e in logs if e["event"] == "answer_served"]
    assert served["fallback_from"] == "connect"
    assert "confirmation_code" in served["fallback_reason"]


def test_each_request_has_its_own_context(client_for, capsys):
    client = client_for({}, FLOWS_DIR=FLOWS, LOG_FORMAT="json")
    client.get("/answer/minivoice/menu?call_id=first1", headers={"X-Request-ID": "one"})
    capsys.readouterr()
    client.get("/answer/minivoice/menu", headers={"X-Request-ID": "two"})
    [served] = events_named(json_lines(capsys.readouterr().out), "answer_served")
    assert served["request_id"] == "two"
    assert served["call_id"] is None  # not the previous request's call


def test_an_event_is_logged_with_its_call(client_for, capsys):
    client = client_for({}, FLOWS_DIR=FLOWS, LOG_FORMAT="json")
    body = {"event": "call.completed", "created_at": "2026-05-29T12:10:00Z", "call": {"id": "e1"}}
    capsys.readouterr()
    client.post("/events/minivoice", json=body, headers={"X-Request-ID": "ev-1"})
    client.post("/events/minivoice", json=body, headers={"X-Request-ID": "ev-2"})
    lines = json_lines(capsys.readouterr().out)
    [stored] = events_named(lines, "event_stored")
    [duplicate] = events_named(lines, "event_duplicate")
    assert (stored["request_id"], stored["call_id"]) == ("ev-1", "e1")
    assert (duplicate["request_id"], duplicate["event_name"]) == ("ev-2", "call.completed")


def test_an_unexpected_error_is_a_500_with_its_traceback_logged(client_for, capsys):
    client = client_for({}, FLOWS_DIR=FLOWS, LOG_FORMAT="json")

    def boom():
        raise RuntimeError("kaboom")

    client.application.add_url_rule("/boom", view_func=boom)
    capsys.readouterr()
    response = client.get("/boom", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert response.json == {"error": {"code": "answer_url_error", "message": "internal error"}}
    assert response.headers["X-Request-ID"] == "boom-1"
    [logged] = events_named(json_lines(capsys.readouterr().out), "unhandled_error")
    assert logged["level"] == "error"
    assert logged["request_id"] == "boom-1"
    assert "RuntimeError: kaboom" in logged["exception"]


def test_standard_library_loggers_write_json_too(capsys):
    configure_logging("json")
    logging.getLogger("gunicorn.error").info("Booting worker with pid: %s", 42)
    logging.getLogger("sqlalchemy.engine").warning("slow query")
    gunicorn, sqlalchemy = json_lines(capsys.readouterr().out)
    assert gunicorn["event"] == "Booting worker with pid: 42"
    assert gunicorn["logger"] == "gunicorn.error"
    assert gunicorn["level"] == "info"
    assert sqlalchemy["logger"] == "sqlalchemy.engine"


def test_the_level_setting_filters_the_apps_own_events(capsys):
    configure_logging("json", "warning")
    log = get_logger("toneflow.test")
    log.info("quiet")
    log.warning("loud")
    assert [line["event"] for line in json_lines(capsys.readouterr().out)] == ["loud"]


def test_debug_level_lets_debug_events_through(capsys):
    configure_logging("json", "debug")
    get_logger("toneflow.test").debug("detail", n=1)
    [line] = json_lines(capsys.readouterr().out)
    assert (line["event"], line["n"], line["level"]) == ("detail", 1, "debug")


def test_bound_context_is_merged_into_every_line(capsys):
    configure_logging("json")
    structlog.contextvars.bind_contextvars(request_id="ctx-1", call_id="c-1")
    get_logger("toneflow.test").info("something")
    [line] = json_lines(capsys.readouterr().out)
    assert (line["request_id"], line["call_id"]) == ("ctx-1", "c-1")


def test_exceptions_are_rendered_into_the_json_line(capsys):
    configure_logging("json")
    try:
        raise ValueError("bad thing")
    except ValueError:
        get_logger("toneflow.test").exception("failed")
    [line] = json_lines(capsys.readouterr().out)
    assert line["event"] == "failed"
    assert "ValueError: bad thing" in line["exception"]


# --- console lines ----------------------------------------------------------------


def test_console_format_writes_readable_lines_with_the_context(capsys):
    configure_logging("console")
    structlog.contextvars.bind_contextvars(request_id="con-1")
    get_logger("toneflow.test").info("answer_served", flow="menu")
    out = capsys.readouterr().out
    [line] = out.splitlines()
    assert "answer_served" in line
    assert "request_id=con-1" in line
    assert "flow=menu" in line
    assert "info" in line
    assert not ANSI.search(line)  # not a terminal: no colours
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_console_format_for_the_whole_app(client_for, capsys):
    client = client_for({}, FLOWS_DIR=FLOWS, LOG_FORMAT="console")
    capsys.readouterr()
    client.get("/answer/minivoice/menu?call_id=con2", headers={"X-Request-ID": "con-2"})
    [line] = [line for line in capsys.readouterr().out.splitlines() if "answer_served" in line]
    assert "request_id=con-2" in line
    assert "call_id=con2" in line


@given(st.integers(min_value=0, max_value=253_402_300_799_999_999_999))
@example(1_764_590_400_000_000_000)  # a whole second: no fraction, as isoformat()
@example(1_764_590_400_000_001_999)  # nanoseconds are cut, not rounded
def test_the_timestamp_is_structlog_s_iso_utc_text(ns):
    """The cheaper stamper writes what structlog's TimeStamper(fmt="iso", utc=True) does."""
    from datetime import UTC, datetime

    from toneflow.logs import UtcIsoTimestamp

    stamp = UtcIsoTimestamp(clock=lambda: ns)
    seconds, micro = divmod(ns // 1000, 1_000_000)
    instant = datetime.fromtimestamp(seconds, UTC).replace(microsecond=micro)
    expected = instant.isoformat().replace("+00:00", "Z")
    assert stamp(None, "info", {})["timestamp"] == expected
    assert stamp(None, "info", {})["timestamp"] == expected  # and again, from its cache
