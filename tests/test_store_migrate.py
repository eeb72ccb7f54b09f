"""toneflow.store.migrate: the revisions shipped, the revision stored, and no Alembic in
the app's processes (only migrating imports it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from support import python_prints

from toneflow.store import make_engine, metadata, migrate


def test_the_revisions_shipped_are_the_ones_alembic_reads():
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    assert migrate.head() == scripts.get_current_head()
    assert migrate.shipped_revisions() == {
        script.revision: tuple(
            ()
            if script.down_revision is None
            else (script.down_revision,)
            if isinstance(script.down_revision, str)
            else script.down_revision
        )
        for script in scripts.walk_revisions()
    }


def test_a_database_never_migrated_has_no_revision(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert migrate.current(engine) is None
        with pytest.raises(migrate.StoreNotMigrated, match="never been migrated"):
            migrate.check(engine)
    finally:
        engine.dispose()


def test_a_migrated_database_is_at_the_head(database_url):
    migrate.upgrade(database_url)
    assert migrate.current(database_url) == migrate.head()
    engine = make_engine(database_url)
    try:
        migrate.check(engine)  # does not raise
    finally:
        engine.dispose()


def test_the_app_does_not_import_alembic(tmp_path):
    """Alembic is for migrating: the app's start-up check and /healthz read the revision
    without it, so gunicorn's master does not hand its ~10 MB to every worker."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"}
    toneflow = str(Path(sys.executable).with_name("toneflow"))
    subprocess.run([toneflow, "db", "upgrade"], env=env, check=True, capture_output=True)
    script = (
        "import sys, app\n"
        "client = app.create_app().test_client()\n"
        "assert client.get('/healthz').status_code == 200\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))\n"
    )
    assert python_prints(script, env) == "[]"


def test_migration_creates_exactly_the_tables_metadata_describes(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, metadata) == []


def test_upgrade_records_head_and_is_idempotent(database_url):
    assert migrate.current(database_url) is None
    migrate.upgrade(database_url)
    migrate.upgrade(database_url)
    assert migrate.current(database_url) == migrate.head()
