"""toneflow.store.call_log: the CallLog object the app and the commands share, and the
store package's place below the web layer.

Runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL (``database_url``).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa

from toneflow.store import CallLog, make_engine, migrate

# --- the store -------------------------------------------------------------------


def test_ping_needs_a_migrated_store(database_url):
    engine = make_engine(database_url)
    try:
        with pytest.raises(sa.exc.DBAPIError):
            CallLog(engine).ping()
        migrate.upgrade(engine)
        CallLog(engine).ping()
    finally:
        engine.dispose()


def test_ping_raises_when_the_server_is_unreachable():
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")
    try:
        with pytest.raises(sa.exc.OperationalError):
            CallLog(engine).ping()
    finally:
        engine.dispose()


def test_the_store_does_not_import_the_web_layer():
    code = (
        "import sys, toneflow.store, toneflow.store.migrate;"
        "bad = sorted(m for m in sys.modules if m == 'flask' or m.startswith('toneflow.web'));"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
