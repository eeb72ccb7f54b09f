"""``/support/calls.csv``: the call list, filtered as on the page, as a CSV download.

The columns and the escaping are ``toneflow calls export --format csv``'s (one place:
:mod:`toneflow.export`); the filters are the page's, validated by the same schema. Every
matching call, newest first, streamed a batch at a time (``CallLog.export``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from flask import Response, request, stream_with_context
from marshmallow import ValidationError

from schemas.calls import CALL_RECORD
from schemas.errors import describe_validation
from toneflow.export import csv_writer
from toneflow.web.state import call_log
from toneflow.web.support import LIST_ARGS, _whole_days, bp


@bp.get("/calls.csv")
def calls_csv() -> Response | tuple[str, int]:
    given = {k: v for k, v in request.args.items() if v.strip() and k != "cursor"}
    try:
        filters = LIST_ARGS.load(_whole_days(given))["filters"]
    except ValidationError as err:
        message = describe_validation(err)
        return message, 400, {"Content-Type": "text/plain; charset=utf-8"}
    return Response(
        stream_with_context(_rows(call_log().export(filters))),
        200,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="calls.csv"'},
    )


def _rows(records: Iterator[dict]) -> Iterator[str]:
    buffer = io.StringIO()
    write = csv_writer(buffer)
    for record in records:
        write(CALL_RECORD.dump(record))
        if buffer.tell() > 64 * 1024:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
