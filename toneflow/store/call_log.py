"""The call log as one object: writes, reads, export, pruning and redaction in one place.

The app builds one :class:`CallLog` in ``create_app`` (``toneflow.web.state.call_log``);
a command builds its own (``toneflow.cli.store.command_call_log``). Whether phone numbers
are masked is decided once, when it is built, so no caller passes ``redact_numbers`` and
none can forget to. With redaction on, numbers are masked before they are written and
again when read, so numbers stored before redaction was turned on never leave either.

Reads return plain data (aware datetimes, column names such as ``from_number``); the
wire shape is ``schemas.calls``' to make.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from toneflow.listing import DEFAULT_LIMIT, NO_FILTER, CallFilter
from toneflow.redact import call_numbers, mask_push, mask_record, mask_text, numbers_in
from toneflow.request import NUMBER_COLUMNS, AnswerRequest
from toneflow.store import queries
from toneflow.store.funnel import read_funnel
from toneflow.store.ingest import AnswerEntry, loggable_answer, write_answer, write_event
from toneflow.store.pushes import write_push
from toneflow.store.records import read_call
from toneflow.store.tables import calls, verifications

if TYPE_CHECKING:
    from toneflow.answer import Answer, AnswerFailed
    from toneflow.flows.model import Flow


class AnswerNotRecorded(Exception):
    """The store could not keep an answer; ``record`` is what it would have kept.

    The answer has been served already (the platform cannot wait for the store), so the
    caller logs ``record`` instead: masked exactly as the store would have masked it.
    """

    def __init__(self, error: SQLAlchemyError, record: dict[str, Any]) -> None:
        super().__init__(str(error))
        self.error = error
        self.record = record


class CallLog:
    """What each call was served and what the platform said about it."""

    def __init__(self, engine: Engine, *, redact_numbers: bool = False) -> None:
        self.engine = engine
        self.redact_numbers = redact_numbers

    # --- writes -------------------------------------------------------------------

    def record_answer(
        self,
        request: AnswerRequest,
        answer: Answer,
        *,
        at: datetime,
        duration_ms: float,
        requested_step: str | None = None,
    ) -> None:
        """Put a served answer on its call's timeline (:class:`AnswerNotRecorded` if not;
        ``PinnedElsewhere``, writing nothing, if the call started on another version)."""
        self._write(
            AnswerEntry(
                request=request,
                at=at,
                dialect=answer.dialect,
                flow=answer.flow.name,
                flow_version=answer.flow.version,
                step=answer.step,
                terminal=answer.terminal,
                body=answer.body.decode("utf-8"),
                duration_ms=duration_ms,
                fallback_from=answer.fallback_from,
                fallback_reason=answer.fallback_reason,
                decision=answer.decision.as_dict() if answer.decision else None,
                requested_step=requested_step,
            )
        )

    def record_failure(
        self,
        request: AnswerRequest,
        failed: AnswerFailed,
        *,
        flow: Flow,
        dialect: str,
        body: str,
        at: datetime,
        duration_ms: float,
    ) -> None:
        """Put a 500 on the call's timeline: the step that failed, why, and the error body."""
        self._write(
            AnswerEntry(
                request=request,
                at=at,
                dialect=dialect,
                flow=flow.name,
                flow_version=flow.version,
                step=failed.failure.step,
                terminal=False,
                body=body,
                duration_ms=duration_ms,
                error_reason=failed.failure.reason,
                decision=failed.failure.decision.as_dict(),
            )
        )

    def record_event(
        self,
        event: Mapping[str, Any],
        body: Mapping[str, Any],
        *,
        webhook_id: str | None,
        received_at: datetime,
    ) -> bool:
        """Store a validated webhook once, durably; False for a duplicate.

        ``event`` is what ``EventSchema`` loaded, ``body`` the JSON object as received.
        Returns only once the transaction has committed; a store failure raises.
        """
        return write_event(
            self.engine,
            event=event,
            body=body,
            webhook_id=webhook_id,
            received_at=received_at,
            redact=self.redact_numbers,
        )

    def record_verification(
        self,
        call_id: str,
        *,
        recording: str,
        served: str,
        heard: str,
        difference: str | None,
        at: datetime,
    ) -> None:
        """Put a recording's check (``toneflow calls verify --attach``) on the call's timeline.

        When redacting, the keys and words are masked with the call's numbers, as an
        answer's body is: a flow that sends the caller's number leaves no copy here.
        It is not call activity, so the call's ``last_seen`` stays as it was.
        """
        texts = {"recording": recording, "served": served, "heard": heard}
        texts = {key: self.masked_text(call_id, value) for key, value in texts.items()}
        texts["difference"] = None if difference is None else self.masked_text(call_id, difference)
        with self.engine.begin() as conn:
            conn.execute(sa.insert(verifications).values(call_id=call_id, at=at, **texts))

    def record_push(self, call_id: str, push: Mapping[str, Any], *, seen_at: datetime) -> None:
        """Put a push (``toneflow.push.client.PushResult.as_record()``) on the call's timeline,
        making the call's row if this is the first toneflow hears of it. When redacting, a
        number in the digits (and the call's own numbers) is masked before it is written."""
        if self.redact_numbers:
            raw = read_call(self.engine, call_id) or {}
            push = mask_push(dict(push), call_numbers(raw, NUMBER_COLUMNS))
        write_push(self.engine, call_id, push, seen_at=seen_at)

    def _write(self, entry: AnswerEntry) -> None:
        try:
            write_answer(self.engine, entry, redact=self.redact_numbers)
        except SQLAlchemyError as err:
            # The store masks what it binds, so the statement's parameters in ``err`` are too.
            record = loggable_answer(entry, redact=self.redact_numbers)
            raise AnswerNotRecorded(err, record) from err

    # --- reads --------------------------------------------------------------------

    def get(self, call_id: str) -> dict[str, Any] | None:
        """One call's record and timeline, or None if there is no such call.

        The one guard for ids no call can have: the empty id, and any id holding NUL
        (the schemas refuse it, so none is stored, and PostgreSQL cannot even compare one).
        """
        if not call_id or "\x00" in call_id:
            return None
        return self._masked(read_call(self.engine, call_id))

    def list(
        self,
        filters: CallFilter = NO_FILTER,
        *,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> queries.Page:
        """One page of summaries, newest first (:class:`~toneflow.store.InvalidCursor`)."""
        page = queries.list_calls(self.engine, filters, limit=limit, cursor=cursor)
        if not self.redact_numbers:
            return page
        return queries.Page([self._masked(row) for row in page.calls], page.next_cursor)

    def count(self, filters: CallFilter = NO_FILTER) -> int:
        """How many calls match (for an export's progress bar)."""
        return queries.count_calls(self.engine, filters)

    def export(self, filters: CallFilter = NO_FILTER, *, batch: int = 200) -> Iterator[dict]:
        """Every matching call's full record, newest first, read a batch at a time."""
        for record in queries.iter_records(self.engine, filters, batch=batch):
            yield self._masked(record)

    def funnel(
        self,
        flow: str,
        *,
        since: datetime,
        until: datetime,
        version: str | None = None,
        order: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Where ``flow``'s calls first seen in [since, until) went and ended, per step
        (:func:`toneflow.store.funnel.read_funnel`); steps in ``order`` first."""
        return read_funnel(
            self.engine, flow, since=since, until=until, version=version, order=order
        )

    def prune(self, older_than: datetime) -> int:
        """Delete calls last seen before ``older_than``, with their timelines; how many."""
        return queries.prune(self.engine, older_than)

    def ping(self) -> None:
        """Raise unless the store can be written and has the call log schema (for /healthz).

        A write transaction (``BEGIN IMMEDIATE`` on SQLite) that writes nothing: a store
        that can be read but not written (locked past its timeout, read-only) is down.
        """
        with self.engine.begin() as conn:
            conn.execute(sa.select(calls.c.call_id).limit(1)).all()

    # --- redaction ----------------------------------------------------------------

    def loggable_body(self, request: AnswerRequest, body: str) -> str:
        """An answer's body for a log line: the caller's numbers masked when redacting."""
        if not self.redact_numbers:
            return body
        return mask_text(body, numbers_in(request.as_dict()))

    def masked_text(self, call_id: str, text: str) -> str:
        """``text`` (keys heard, words about them) with the call's numbers masked when
        redacting, as an answer's body is: a recording may carry the caller's number."""
        if not self.redact_numbers:
            return text
        raw = read_call(self.engine, call_id) or {}
        return mask_text(text, call_numbers(raw, NUMBER_COLUMNS))

    def _masked(self, record: dict[str, Any] | None) -> dict[str, Any] | None:
        if record is None or not self.redact_numbers:
            return record
        return mask_record(record, NUMBER_COLUMNS)
