"""A call keeps its flow version: the one that served its first step serves every later
step, on any server, after any edit, reload or HUP.

The store is the truth: the answer's own insert is refused when the call's earlier
answers came from another version (``toneflow.store.pins``), so learning the pin costs
no statement. Then nothing was written, and the step is served again by the pinned
version: compiled once from the source in the store
(:class:`~toneflow.store.versions.VersionCache`) and written then.

Each process also remembers the pins it has seen (:class:`CallPins`, bounded). A pin
never changes once set, so a remembered one is never wrong on any server: it spares the
second rendering of a call pinned to an older version, and it lets a step be served
while the store is down. When the store is down and the pin is not remembered, only the
start step is served (a call's first request, which any server answers with what it
serves); any other step gets ``503 store_unavailable``, never a silent switch
(docs/versions.md).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from toneflow.flows.registry import FlowSet
from toneflow.store.ingest import PinnedElsewhere
from toneflow.store.versions import VersionCache, VersionUnavailable, stored_pin
from toneflow.web.errors import RETRY_AFTER_SECONDS, ApiError
from toneflow.web.state import flows, store

PINS = "toneflow.call_pins"
VERSIONS = "toneflow.flow_versions"
#: (call id, flow) pairs a process remembers: a few minutes of calls on a busy server.
MAX_REMEMBERED_CALLS = 50_000


class CallPins:
    """The pins this process has seen, newest kept: (call id, flow) → version."""

    def __init__(self, limit: int = MAX_REMEMBERED_CALLS) -> None:
        self.limit = limit
        self._pins: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, call_id: str, flow: str) -> str | None:
        return self._pins.get((call_id, flow))

    def remember(self, call_id: str, flow: str, version: str) -> None:
        with self._lock:
            self._pins[(call_id, flow)] = version
            if len(self._pins) > self.limit:
                self._pins.popitem(last=False)


class StoreUnavailable(ApiError):
    """The call's pinned version cannot be known or loaded: a 503 the platform may retry."""

    def __init__(self, message: str) -> None:
        super().__init__(
            503, "store_unavailable", f"{message}; not serving another version",
            {"Retry-After": RETRY_AFTER_SECONDS},
        )  # fmt: skip


def init_app(app) -> None:
    app.extensions[PINS] = CallPins()
    app.extensions[VERSIONS] = VersionCache(max_digits=app.config["MAX_DIGITS"])


def flow_set_for(call_id: str | None, flow: str) -> FlowSet:
    """The set to answer ``call_id`` from: the one served, unless the call is known to be
    pinned to another version of ``flow``."""
    serving = flows()
    if call_id is None:
        return serving
    pinned = current_app.extensions[PINS].get(call_id, flow)
    current = serving.get(flow)
    if pinned is None or (current is not None and current.version == pinned):
        return serving
    return pinned_set(flow, pinned)


def pinned_set(flow: str, version: str) -> FlowSet:
    """A set holding ``version`` of ``flow``, from the store when not served here."""
    current = flows().get(flow)
    if current is not None and current.version == version:
        return flows()
    try:
        return current_app.extensions[VERSIONS].get(store(), flow, version)
    except VersionUnavailable as err:
        raise StoreUnavailable(str(err)) from err


def keep_replaced(app, replaced: FlowSet) -> None:
    """A reload replaces ``replaced``: its versions stay at hand for the calls on them."""
    app.extensions[VERSIONS].keep(replaced)


def remember(call_id: str, flow: str, version: str) -> None:
    current_app.extensions[PINS].remember(call_id, flow, version)


def known(call_id: str, flow: str) -> str | None:
    """The pin this process remembers for the call, if any."""
    return current_app.extensions[PINS].get(call_id, flow)


def check_missing_step(call_id: str, flow: str, served_version: str | None) -> None:
    """A step (or flow) the served version lacks: raise :class:`PinnedElsewhere` when the
    call is pinned to another version, which may have it; return when it is not."""
    pinned = known(call_id, flow)
    if pinned is None:
        try:
            pinned = stored_pin(store(), call_id, flow)
        except SQLAlchemyError as err:
            raise StoreUnavailable(
                f"flow '{flow}' has no such step here, and the version call '{call_id}' "
                "started on cannot be read: the store is unavailable"
            ) from err
    if pinned is not None and pinned != served_version:
        raise PinnedElsewhere(flow, pinned)
