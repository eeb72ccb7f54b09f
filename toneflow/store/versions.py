"""Flow versions in the store: each version's exact source, who loaded it first, and the
compiled versions a server serves for calls that started on them.

A version is the hash of its file's bytes (``flows.compile.flow_version``), so the same
text is the same version on every server. Start-up and every reload record the set they
serve (:func:`record_versions`: insert-or-nothing, so the first server to load a version
is the one named). A server asked for a step of a call pinned to a version it never
loaded reads that version's source here and compiles it once (:class:`VersionCache`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from toneflow.flows.compile import compile_flow, flow_version
from toneflow.flows.model import Flow
from toneflow.flows.registry import FlowSet
from toneflow.store.engine import reading
from toneflow.store.pins import first_version
from toneflow.store.tables import answers, flow_versions
from toneflow.store.writes import _insert

#: Compiled versions a process keeps for calls pinned to a version it does not serve.
MAX_CACHED_VERSIONS = 32


class VersionUnavailable(LookupError):
    """A pinned version cannot be served: the store is down, or it does not hold it."""


def record_versions(engine: Engine, flows: Iterable[Flow], *, server: str, at: datetime) -> int:
    """Store every version in ``flows`` not stored yet; return how many were new."""
    rows = [
        {
            "flow": flow.name,
            "version": flow.version,
            "source": flow.source,
            "first_loaded_at": at,
            "first_loaded_by": server,
        }
        for flow in flows
    ]
    if not rows:
        return 0
    statement = (
        _insert(engine.dialect.name, flow_versions)
        .on_conflict_do_nothing(index_elements=[flow_versions.c.flow, flow_versions.c.version])
        .returning(flow_versions.c.version)
    )
    with engine.begin() as conn:
        return sum(len(conn.execute(statement, row).all()) for row in rows)


def get_version(engine: Engine, flow: str, version: str) -> dict[str, Any] | None:
    """One stored version: its source and first load, or None."""
    with reading(engine) as conn:
        row = (
            conn.execute(
                sa.select(flow_versions).where(
                    flow_versions.c.flow == flow, flow_versions.c.version == version
                )
            )
            .mappings()
            .first()
        )
    return None if row is None else dict(row)


def list_versions(engine: Engine, flow: str) -> list[dict[str, Any]]:
    """Every stored version of ``flow``, oldest first, with when it was first and last
    served and how many calls it served (from the answers it served)."""
    a = answers.c
    served = (
        sa.select(
            a.flow_version.label("version"),
            sa.func.min(a.at).label("first_served"),
            sa.func.max(a.at).label("last_served"),
            sa.func.count(sa.distinct(a.call_id)).label("calls"),
        )
        .where(a.flow == flow)
        .group_by(a.flow_version)
        .subquery()
    )
    v = flow_versions.c
    query = (
        sa.select(
            v.flow,
            v.version,
            v.first_loaded_at,
            v.first_loaded_by,
            served.c.first_served,
            served.c.last_served,
            sa.func.coalesce(served.c.calls, 0).label("calls"),
        )
        .select_from(flow_versions.outerjoin(served, served.c.version == v.version))
        .where(v.flow == flow)
        .order_by(v.first_loaded_at, v.version)
    )
    with reading(engine) as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


class VersionCache:
    """Compiled flow versions read from the store, each compiled once, the newest
    :data:`MAX_CACHED_VERSIONS` kept (a version is immutable: a cached one is never stale).
    """

    def __init__(self, *, max_digits: int) -> None:
        self.max_digits = max_digits
        self._sets: OrderedDict[tuple[str, str], FlowSet] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, engine: Engine, flow: str, version: str) -> FlowSet:
        """A flow set holding ``version`` of ``flow`` (:class:`VersionUnavailable`)."""
        key = (flow, version)
        with self._lock:
            found = self._sets.get(key)
            if found is not None:
                self._sets.move_to_end(key)
                return found
        flow_set = self._load(engine, flow, version)
        self._put(key, flow_set)
        return flow_set

    def keep(self, flow_set: FlowSet) -> None:
        """Keep the versions of a set being replaced: calls that started on them go on
        without reading the store."""
        for flow in flow_set.flows.values():
            self._put((flow.name, flow.version), FlowSet({flow.name: flow}, flow_set.max_digits))

    def _put(self, key: tuple[str, str], flow_set: FlowSet) -> None:
        with self._lock:
            self._sets[key] = flow_set
            self._sets.move_to_end(key)
            while len(self._sets) > MAX_CACHED_VERSIONS:
                self._sets.popitem(last=False)

    def _load(self, engine: Engine, flow: str, version: str) -> FlowSet:
        try:
            row = get_version(engine, flow, version)
        except SQLAlchemyError as err:
            raise VersionUnavailable(
                f"version {version} of flow '{flow}' cannot be read: the store is unavailable"
            ) from err
        if row is None:
            raise VersionUnavailable(f"the store holds no version {version} of flow '{flow}'")
        data = row["source"].encode("utf-8")
        if flow_version(data) != version:
            raise VersionUnavailable(f"the stored source of {flow}@{version} does not match it")
        compiled, _problems = compile_flow(
            flow, f"{flow}@{version}", data, max_digits=self.max_digits
        )
        if compiled is None:
            raise VersionUnavailable(f"{flow}@{version} no longer compiles")
        return FlowSet(flows={flow: compiled}, max_digits=self.max_digits)


def stored_pin(engine: Engine, call_id: str, flow: str) -> str | None:
    """The version of ``flow`` call ``call_id`` is pinned to, or None (a read, for a step
    the served version lacks: the write that usually tells was never reached)."""
    with reading(engine) as conn:
        return first_version(conn, call_id, flow)
