"""What a call-log list asks for: the filter and the page sizes.

Pure: no Flask, no SQL. The list schema (``schemas.calls``) builds a :class:`CallFilter`
from query arguments or command-line options, and the store answers it; neither needs
the other to say what a filter is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class CallFilter:
    """What a list asks for; every field is optional and they combine with AND.

    ``q`` finds a call by its exact id or by its exact from/to number. ``since`` is
    inclusive and ``until`` exclusive, both on ``first_seen`` (aware datetimes).
    """

    status: str | None = None
    outcome: str | None = None
    flow: str | None = None
    last_step: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None


#: The filter that matches every call.
NO_FILTER = CallFilter()
