"""Send a planned push over HTTP (httpx), once: the one module that talks to platforms.

Network rules, each here only:

* **Budget.** Every request has a connect timeout of :data:`CONNECT_S`, a write timeout
  of :data:`WRITE_S`, and :data:`REPLY_S` to read the whole reply (not per chunk: a
  platform that drips bytes is cut off too), at most :data:`MAX_REPLY_BYTES` of it. A
  refused connection is tried again once, :data:`RECONNECT_PAUSE_S` later. So one
  request takes at most :data:`REQUEST_BUDGET_S`; a push takes at most that per request
  plus the pauses it waits out (Genesys).
* **Never twice.** A request that may have reached the platform is never sent again:
  DTMF sent twice is worse than once. Only a connection that was refused or could not be
  made (nothing was written) is retried. A push stops at its first failed request; the
  requests after it are not sent.
* **Pauses.** Each run waits :attr:`~toneflow.dtmf.runs.Run.wait_ms` after the previous
  reply (:mod:`toneflow.dtmf.runs` says why that is never less silence than asked).
* **Secrets.** Records, logs and dry runs hold requests built with secrets masked
  (:func:`toneflow.push.platforms.build`); only the wire sees them.

The result is plain data (:class:`PushResult`) that the store keeps on the call's
timeline; the caller (the web route, ``toneflow push``) records it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx


from toneflow.push.plan import Plan
from toneflow.push.platforms import Outgoing, Settings, build, reply_error

CONNECT_S = 2.0
WRITE_S = 2.0
REPLY_S = 5.0
RECONNECT_PAUSE_S = 0.5
CONNECT_ATTEMPTS = 2
REQUEST_BUDGET_S = CONNECT_ATTEMPTS * CONNECT_S + RECONNECT_PAUSE_S + WRITE_S + REPLY_S
MAX_REPLY_BYTES = 65_536
USER_AGENT = "toneflow-push"


@dataclass
class PushResult:
    """A push as the call's timeline keeps it: what was sent, each reply, how long it took.

    ``requests`` hold, per request: ``action`` (the step's action number), the masked
    ``method``/``url``/``headers``/``body``, ``wait_ms`` (planned), ``sent_at_ms`` (from the
    push's start), ``duration_ms``, ``attempts``, ``status`` and ``reply`` (None when none
    came) and ``error`` (None on success). ``reference`` is the call reference given.
    """

    at: datetime
    platform: str
    flow: str
    flow_version: str
    step: str
    reference: dict[str, str]
    round_up: bool
    sends: list[dict[str, Any]]
    requests: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: float = 0.0
    ok: bool = False
    error: str | None = None

    def as_record(self) -> dict[str, Any]:
        return dict(self.__dict__)


def planned_requests(
    plan: Plan, settings: Settings, reference: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Every request the push would send, in order, secrets masked (``--dry-run``)."""
    return [
        {
            "action": planned.send.action,
            "wait_ms": run.wait_ms,
            **build(settings, reference, run.text, shown=True).as_record(),
        }
        for planned in plan.sends
        for run in planned.runs
    ]


def start(plan: Plan, reference: Mapping[str, str], *, at: datetime | None = None) -> PushResult:
    """An empty result for ``plan``: what a push refused before sending is recorded as."""
    return PushResult(
        at=at or datetime.now(UTC),
        platform=plan.platform,
        flow=plan.flow,
        flow_version=plan.flow_version,
        step=plan.step,
        reference=dict(reference),
        round_up=plan.round_up,
        sends=[
            {
                "action": p.send.action,
                "digits": p.send.digits,
                "pause_before_ms": p.send.pause_before_ms,
            }
            for p in plan.sends
        ],
    )


def send(
    plan: Plan,
    settings: Settings,
    reference: Mapping[str, str],
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> PushResult:
    """Send every request of ``plan`` in order, each once, waiting out the pauses."""
    import httpx  # here, not at the top: web workers that never push do not load it

    result = start(plan, reference)
    timeout = httpx.Timeout(connect=CONNECT_S, write=WRITE_S, read=REPLY_S, pool=CONNECT_S)
    with httpx.Client(
        timeout=timeout,
        transport=transport,
        follow_redirects=False,  # a redirect could make a second request: never
        headers={"User-Agent": USER_AGENT},
        trust_env=False,  # no proxy from the environment between toneflow and the platform
    ) as client:
        began = clock()  # after the client is built (its TLS context takes ~0.1 s)
        for planned in plan.sends:
            for run in planned.runs:
                if run.wait_ms:
                    sleep(run.wait_ms / 1000)
                outgoing = build(settings, reference, run.text)
                entry = {
                    "action": planned.send.action,
                    "wait_ms": run.wait_ms,
                    **build(settings, reference, run.text, shown=True).as_record(),
                    "sent_at_ms": round((clock() - began) * 1000, 1),
                }
                error = _exchange(client, outgoing, entry, plan.platform, reference, clock, sleep)
                result.requests.append(entry)
                if error is not None:
                    result.error = _stopped(error, plan, len(result.requests))
                    result.duration_ms = round((clock() - began) * 1000, 1)
                    return result
    result.ok = True
    result.duration_ms = round((clock() - began) * 1000, 1)
    return result


def _stopped(error: str, plan: Plan, sent: int) -> str:
    total = sum(len(p.runs) for p in plan.sends)
    if total > sent:
        return f"{error}; stopped: request {sent} of {total} failed, the rest were not sent"
    return error


def _exchange(
    client: httpx.Client,
    outgoing: Outgoing,
    entry: dict[str, Any],
    platform: str,
    reference: Mapping[str, str],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> str | None:
    """Send one request (again only if its connection was refused), read the reply into
    ``entry``; the error in words, or None when the platform took the digits."""
    entry.update(attempts=0, status=None, reply=None, error=None)
    started = clock()
    request = client.build_request(
        outgoing.method, outgoing.url, headers=outgoing.headers, content=outgoing.content
    )
    if outgoing.content is not None:
        request.headers["Content-Type"] = "application/json"
    error: str | None
    try:
        status, text = _once(client, request, entry, clock, sleep)
        error = reply_error(platform, reference, status, text)
        entry.update(status=status, reply=text)
    except _Failed as failed:
        error = str(failed)
    entry["duration_ms"] = round((clock() - started) * 1000, 1)
    entry["error"] = error
    return error


class _Failed(Exception):
    """A request that got no usable reply, in words."""


def _once(
    client: httpx.Client,
    request: httpx.Request,
    entry: dict[str, Any],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> tuple[int, str]:
    import httpx  # loaded by send, which calls this

    for attempt in range(1, CONNECT_ATTEMPTS + 1):
        entry["attempts"] = attempt
        try:
            response = client.send(request, stream=True)
        except httpx.ConnectTimeout as err:
            raise _Failed(
                f"could not connect within {CONNECT_S:g} s to {request.url.host}: {err}"
            ) from err
        except httpx.ConnectError as err:
            # Nothing was written: the platform cannot have seen this request.
            if attempt < CONNECT_ATTEMPTS:
                sleep(RECONNECT_PAUSE_S)
                continue
            raise _Failed(
                f"could not connect to {request.url.host} (tried {attempt} times): {err}"
            ) from err
        except httpx.TimeoutException as err:
            raise _Failed(
                f"no reply within the timeout ({_what(err)}); the request may have reached "
                "the platform, so it is not sent again"
            ) from err
        except httpx.HTTPError as err:
            raise _Failed(
                f"the request failed after it may have reached the platform, so it is not sent "
                f"again: {type(err).__name__}: {err}"
            ) from err
        try:
            return response.status_code, _read(response, clock)
        finally:
            response.close()
    raise AssertionError("unreachable")  # pragma: no cover


def _read(response: httpx.Response, clock: Callable[[], float]) -> str:
    """The reply's text: at most :data:`MAX_REPLY_BYTES`, within :data:`REPLY_S` in all."""
    import httpx  # loaded by send, which calls this

    deadline = clock() + REPLY_S
    body = bytearray()
    try:
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_REPLY_BYTES:
                raise _Failed(
                    f"the reply is larger than {MAX_REPLY_BYTES} bytes; the request reached "
                    "the platform, so it is not sent again"
                )
            if clock() > deadline:
                raise _Failed(
                    f"the reply took longer than {REPLY_S:g} s; the request reached the "
                    "platform, so it is not sent again"
                )
    except httpx.HTTPError as err:
        raise _Failed(
            f"the reply broke off ({type(err).__name__}: {err}); the request reached the "
            "platform, so it is not sent again"
        ) from err
    return body.decode(response.encoding or "utf-8", errors="replace")


def _what(err: httpx.TimeoutException) -> str:
    import httpx  # loaded by send, which calls this

    if isinstance(err, httpx.WriteTimeout):
        return f"writing took longer than {WRITE_S:g} s"
    if isinstance(err, httpx.ReadTimeout):
        return f"{REPLY_S:g} s for the reply"
    return type(err).__name__
