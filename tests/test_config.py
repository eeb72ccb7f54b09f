"""Configuration: defaults, then the environment, then overrides; bad values refused."""

from __future__ import annotations

import os

import pytest

from toneflow.config import DEFAULTS, PROJECT_ROOT, ConfigError, load_config


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No setting leaks in from the shell that runs the tests."""
    for name in list(os.environ):
        if name.startswith("TONEFLOW_") or name in ("DATABASE_URL", "PORT"):
            monkeypatch.delenv(name)


def test_defaults_are_the_contract_defaults():
    config = load_config()
    assert config["DATABASE_URL"] == f"sqlite:///{PROJECT_ROOT / 'instance' / 'toneflow.db'}"
    assert config["FLOWS_DIR"] == "flows"
    assert config["PUBLIC_URL"] is None
    assert config["LOG_FORMAT"] is None  # chosen at start-up: json under gunicorn
    assert config["LOG_LEVEL"] == "info"
    assert config["WEBHOOK_SECRET"] is None
    assert config["MAX_DIGITS"] == 128
    assert config["MAX_BODY_BYTES"] == 1_048_576
    assert "PORT" not in config


def test_the_default_database_is_under_the_project_root_whatever_the_cwd(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert load_config()["DATABASE_URL"].startswith(f"sqlite:///{PROJECT_ROOT}/")


def test_loading_does_not_change_the_defaults():
    before = dict(DEFAULTS)
    load_config({"MAX_DIGITS": 5})
    assert before == DEFAULTS


@pytest.mark.parametrize(
    ("variable", "value", "key", "expected"),
    [
        ("TONEFLOW_MAX_DIGITS", "4", "MAX_DIGITS", 4),
        ("TONEFLOW_MAX_BODY_BYTES", "2048", "MAX_BODY_BYTES", 2048),
        ("TONEFLOW_FLOWS_DIR", "/srv/flows", "FLOWS_DIR", "/srv/flows"),
        ("TONEFLOW_PUBLIC_URL", "https://ivr.example.com", "PUBLIC_URL", "https://ivr.example.com"),
        ("DATABASE_URL", "postgresql://db.internal/calls", "DATABASE_URL", "postgresql://db.internal/calls"),
        ("TONEFLOW_LOG_FORMAT", "console", "LOG_FORMAT", "console"),
        ("TONEFLOW_LOG_LEVEL", "debug", "LOG_LEVEL", "debug"),
        ("TONEFLOW_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "WEBHOOK_SECRET",
         "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ("PORT", "5005", "PORT", "5005"),
    ],
)  # fmt: skip
def test_each_variable_is_read_from_the_environment(monkeypatch, variable, value, key, expected):
    monkeypatch.setenv(variable, value)
    assert load_config()[key] == expected


def test_any_other_setting_reads_its_prefixed_variable(monkeypatch):
    monkeypatch.setenv("TONEFLOW_SUPPORT_EMAIL", "help@example.com")
    assert load_config()["SUPPORT_EMAIL"] == "help@example.com"


def test_overrides_beat_the_environment(monkeypatch):
    monkeypatch.setenv("TONEFLOW_MAX_DIGITS", "4")
    monkeypatch.setenv("DATABASE_URL", "sqlite:////env.db")
    config = load_config({"MAX_DIGITS": 9, "DATABASE_URL": "sqlite:////override.db"})
    assert config["MAX_DIGITS"] == 9
    assert config["DATABASE_URL"] == "sqlite:////override.db"


def test_an_unprefixed_toneflow_database_url_is_not_needed(monkeypatch):
    """``DATABASE_URL`` is the platform convention; the prefixed spelling works as well."""
    monkeypatch.setenv("TONEFLOW_DATABASE_URL", "sqlite:////prefixed.db")
    assert load_config()["DATABASE_URL"] == "sqlite:////prefixed.db"


@pytest.mark.parametrize("name", ["MAX_DIGITS", "MAX_BODY_BYTES"])
@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5", "true", "", "[1]", "null"])
def test_a_bad_number_is_refused_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(f"TONEFLOW_{name}", value)
    with pytest.raises(ConfigError) as caught:
        load_config()
    message = str(caught.value)
    assert f"TONEFLOW_{name}" in message
    assert "positive whole number" in message


@pytest.mark.parametrize("value", [0, -1, "12", 2.0, True, None])
def test_a_bad_number_is_refused_from_overrides_too(value):
    with pytest.raises(ConfigError, match="TONEFLOW_MAX_DIGITS"):
        load_config({"MAX_DIGITS": value})


def test_the_smallest_limits_are_accepted(monkeypatch):
    monkeypatch.setenv("TONEFLOW_MAX_DIGITS", "1")
    monkeypatch.setenv("TONEFLOW_MAX_BODY_BYTES", "1")
    config = load_config()
    assert (config["MAX_DIGITS"], config["MAX_BODY_BYTES"]) == (1, 1)


@pytest.mark.parametrize("value", ["xml", "JSON", "text"])
def test_a_bad_log_format_is_refused_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("TONEFLOW_LOG_FORMAT", value)
    with pytest.raises(ConfigError, match="TONEFLOW_LOG_FORMAT"):
        load_config()


@pytest.mark.parametrize("value", ["bogus", "10", "verbose", ""])
def test_a_bad_log_level_is_refused_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("TONEFLOW_LOG_LEVEL", value)
    with pytest.raises(ConfigError, match="TONEFLOW_LOG_LEVEL"):
        load_config()


@pytest.mark.parametrize("value", ["debug", "INFO", "Warning", "error", "critical"])
def test_log_levels_are_accepted_in_any_case(monkeypatch, value):
    monkeypatch.setenv("TONEFLOW_LOG_LEVEL", value)
    assert load_config()["LOG_LEVEL"] == value


# --- the docs say what the code does ------------------------------------------------


def _gunicorn_timeout() -> int:
    import runpy
    import sys

    saved, hook = os.environ.get("PROMETHEUS_MULTIPROC_DIR"), sys.excepthook
    settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    sys.excepthook = hook  # the config sets its own
    if settings["_OWN_METRICS_DIR"]:  # reading the file made a metrics folder: remove it
        settings["on_exit"](None)
    if saved is None:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return settings["timeout"]


def test_every_worker_timeout_the_docs_state_is_gunicorns():
    import re

    timeout = _gunicorn_timeout()
    stated = [
        int(seconds)
        for page in ("docs/decisions.md", "docs/hardening.md", "docs/performance.md")
        for seconds in re.findall(
            r"(\d+) s (?:gunicorn )?worker timeout", (PROJECT_ROOT / page).read_text()
        )
    ]
    assert stated and set(stated) == {timeout}


def test_every_sqlite_busy_timeout_the_docs_state_is_the_default():
    import re

    from toneflow.store import engine

    seconds = DEFAULTS["SQLITE_BUSY_TIMEOUT_MS"] / 1000
    assert DEFAULTS["SQLITE_BUSY_TIMEOUT_MS"] == engine.SQLITE_BUSY_TIMEOUT_MS
    texts = [engine.__doc__, (PROJECT_ROOT / "docs" / "decisions.md").read_text()]
    stated = [
        float(found)
        for text in texts
        for found in re.findall(r"(\d+(?:\.\d+)?) s busy timeout|`busy_timeout` (\d+) s", text)
        for found in found
        if found
    ]
    assert len(stated) >= 2 and set(stated) == {seconds}


def test_version_is_toneflows_own():
    from importlib.metadata import version

    from click.testing import CliRunner

    from toneflow.cli import cli

    result = CliRunner().invoke(cli, ["--version"], prog_name="toneflow")
    assert result.exit_code == 0
    assert result.output == f"toneflow {version('toneflow')}\n"
    assert "Flask" not in result.output


def test_push_settings_are_unset_by_default_and_read_as_text_exactly(monkeypatch):
    config = load_config()
    names = ("VICIDIAL_URL", "VICIDIAL_USER", "VICIDIAL_PASS", "VOBIZ_URL", "VOBIZ_AUTH_ID")
    names += ("VOBIZ_AUTH_TOKEN", "GENESYS_URL", "GENESYS_TOKEN")
    assert all(config[name] is None for name in names)
    # Flask's prefixed reader would parse JSON: 1234 a number, 1e3 the float 1000.0
    monkeypatch.setenv("TONEFLOW_VICIDIAL_PASS", "1e3")
    monkeypatch.setenv("TONEFLOW_VICIDIAL_USER", "6666")
    monkeypatch.setenv("TONEFLOW_GENESYS_TOKEN", '"quoted"')
    config = load_config()
    assert config["VICIDIAL_PASS"] == "1e3"
    assert config["VICIDIAL_USER"] == "6666"
    assert config["GENESYS_TOKEN"] == '"quoted"'
