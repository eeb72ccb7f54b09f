"""The store's side of issue 13: the version table, the pin kept by the answer upsert,
the version cache, and migration 0006 (down, up, and the backfill of older answers)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_support import T0, record_answer, served

from toneflow.flows.compile import flow_version
from toneflow.flows.model import Flow
from toneflow.store import migrate
from toneflow.store.ingest import PinnedElsewhere
from toneflow.store.versions import (
    MAX_CACHED_VERSIONS,
    VersionCache,
    VersionUnavailable,
    get_version,
    list_versions,
    record_versions,
    stored_pin,
)

FLOW = """\
start: hello
steps:
  hello:
    - speak: "{text}"
    - hangup: {{}}
"""


def a_flow(name: str, source: str) -> Flow:
    return Flow(
        name=name, path=f"{name}.yaml", version=flow_version(source.encode()), steps={},
        start="hello", source=source,
    )  # fmt: skip


def answers_of(engine, call_id: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                sa.text("select flow, flow_version from answers where call_id = :c order by id"),
                {"c": call_id},
            )
        ]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(source=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00")))
def test_a_stored_source_is_the_exact_text_and_hashes_to_its_version(engine, source):
    flow = a_flow("any", source)
    record_versions(engine, [flow], server="s1", at=T0)
    row = get_version(engine, "any", flow.version)
    assert row["source"] == source
    assert flow_version(row["source"].encode()) == flow.version


def test_recording_twice_keeps_the_first_load(engine):
    flow = a_flow("greet", FLOW.format(text="hi"))
    assert record_versions(engine, [flow], server="first", at=T0) == 1
    assert record_versions(engine, [flow], server="second", at=datetime.now(UTC)) == 0
    row = get_version(engine, "greet", flow.version)
    assert (row["first_loaded_by"], row["first_loaded_at"]) == ("first", T0)


def test_the_answer_upsert_pins_the_first_version_and_refuses_another(engine):
    record_answer(engine, served("menu", call_id="p1", flow_version="v1"))
    with pytest.raises(PinnedElsewhere) as refused:
        record_answer(engine, served("done", call_id="p1", flow_version="v2"))
    assert refused.value.version == "v1"
    assert answers_of(engine, "p1") == [("h_menu", "v1")]  # the refused write left nothing
    record_answer(engine, served("done", call_id="p1", flow_version="v1"))
    assert answers_of(engine, "p1") == [("h_menu", "v1"), ("h_menu", "v1")]
    assert stored_pin(engine, "p1", "h_menu") == "v1"
    assert stored_pin(engine, "nobody", "h_menu") is None


def test_a_second_flow_on_one_call_is_pinned_by_its_own_first_answer(engine):
    record_answer(engine, served("menu", call_id="two", flow="a", flow_version="a1"))
    assert stored_pin(engine, "two", "b") is None
    record_answer(engine, served("menu", call_id="two", flow="b", flow_version="b1"))
    with pytest.raises(PinnedElsewhere):
        record_answer(engine, served("menu", call_id="two", flow="b", flow_version="b2"))
    assert stored_pin(engine, "two", "b") == "b1"
    assert stored_pin(engine, "two", "a") == "a1"


def test_an_event_before_any_answer_does_not_pin(engine):
    from store_support import post

    post(engine, call_id="ev1", webhook_id="w1")
    record_answer(engine, served("menu", call_id="ev1", flow_version="v9"))
    assert stored_pin(engine, "ev1", "h_menu") == "v9"


def test_history_counts_calls_and_times_per_version(engine):
    old, new = a_flow("h_menu", FLOW.format(text="a")), a_flow("h_menu", FLOW.format(text="b"))
    record_versions(engine, [old], server="s", at=T0)
    record_versions(engine, [new], server="s", at=datetime(2026, 6, 1, tzinfo=UTC))
    for call_id in ("c1", "c2"):
        record_answer(engine, served("menu", call_id=call_id, flow_version=old.version))
    history = list_versions(engine, "h_menu")
    assert [(v["version"], v["calls"]) for v in history] == [(old.version, 2), (new.version, 0)]
    assert history[0]["first_served"] == T0 and history[1]["last_served"] is None


def test_the_version_cache_compiles_once_and_stays_bounded(engine):
    flows = [a_flow("greet", FLOW.format(text=f"n{n}")) for n in range(MAX_CACHED_VERSIONS + 3)]
    record_versions(engine, flows, server="s", at=T0)
    cache = VersionCache(max_digits=128)
    first = cache.get(engine, "greet", flows[0].version)
    assert cache.get(engine, "greet", flows[0].version) is first
    assert first.get("greet").version == flows[0].version
    for flow in flows[1:]:
        cache.get(engine, "greet", flow.version)
    assert len(cache._sets) == MAX_CACHED_VERSIONS
    with pytest.raises(VersionUnavailable, match="holds no version"):
        cache.get(engine, "greet", "000000000000")


def test_a_tampered_source_is_refused(engine):
    flow = a_flow("greet", FLOW.format(text="hi"))
    record_versions(engine, [flow], server="s", at=T0)
    with engine.begin() as conn:
        conn.execute(sa.text("update flow_versions set source = source || ' '"))
    with pytest.raises(VersionUnavailable, match="does not match"):
        VersionCache(max_digits=128).get(engine, "greet", flow.version)


def test_migration_0006_goes_down_and_up_and_fills_the_step_asked_for(database_url):
    from alembic import command

    from toneflow.store import make_engine

    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            config = migrate.alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0004")
        assert "flow_versions" not in sa.inspect(engine).get_table_names()
        with engine.begin() as conn:  # two answers as 0004 recorded them
            conn.execute(
                sa.text(
                    "insert into calls (call_id, first_seen, last_seen) values ('old', :t, :t)"
                ),
                {"t": T0},
            )
            for step, fallback in (("menu", None), ("sorry", "route")):
                conn.execute(
                    sa.text(
                        "insert into answers (call_id, at, dialect, flow, flow_version, step, "
                        "terminal, request, body, duration_ms, fallback_from) values ('old', "
                        ":t, 'minivoice', 'menu', 'v', :s, false, '{}', '{}', 1, :f)"
                    ),
                    {"t": T0, "s": step, "f": fallback},
                )
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head()
        with engine.connect() as conn:
            asked = conn.execute(
                sa.text("select requested_step from answers order by id")
            ).scalars()
            assert list(asked) == [None, "route"]
    finally:
        engine.dispose()
