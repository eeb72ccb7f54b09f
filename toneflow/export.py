"""Calls as CSV: the one column list and cell escaping, for ``toneflow calls export
--format csv`` and the support list page's download alike.

Pure: it writes rows of dumped records (``schemas.calls``) to any text stream. Cells a
spreadsheet would run as a formula get a leading ``'`` (CSV injection); everything else
is written as stored.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import Any, TextIO

CSV_COLUMNS = (
    "call_id", "first_seen", "last_seen", "completed_at", "status", "direction", "from", "to",
    "flow", "dialect", "last_step", "outcome", "outcome_step", "outcome_reason",
)  # fmt: skip
#: OWASP's list: cells starting so are formulas to Excel and LibreOffice (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_writer(output: TextIO) -> Callable[[dict[str, Any]], None]:
    """Write the header to ``output``; return a function that writes one dumped record."""
    writer = csv.DictWriter(output, CSV_COLUMNS)
    writer.writeheader()

    def write(record: dict[str, Any]) -> None:
        outcome = record["outcome"]
        row = {column: record.get(column) for column in CSV_COLUMNS}
        row.update(
            outcome=outcome["kind"], outcome_step=outcome["step"], outcome_reason=outcome["reason"]
        )
        writer.writerow({column: cell(value) for column, value in row.items()})

    return write


def cell(value: Any) -> Any:
    """A caller-controlled text that a spreadsheet would run as a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
