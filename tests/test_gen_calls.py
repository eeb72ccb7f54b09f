"""scripts/gen_calls.py writes rows the store reads back exactly as it writes its own."""

from __future__ import annotations

import subprocess
import sys

import sqlalchemy as sa
from store_support import get_call, list_calls
from support import ROOT

from toneflow.store import OUTCOME_KINDS, CallFilter, calls, make_engine


def test_generated_calls_read_back_with_consistent_outcomes_and_order(database_url):
    subprocess.run(
        [sys.executable, "scripts/gen_calls.py", "--database-url", database_url,
         "--calls", "400", "--batch", "150"],
        cwd=ROOT, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            query = sa.select(calls.c.outcome, sa.func.count()).group_by(calls.c.outcome)
            kinds = {kind: n for kind, n in conn.execute(query)}
        assert set(kinds) == set(OUTCOME_KINDS) and sum(kinds.values()) == 400
        seen, cursor = [], None
        while True:
            page = list_calls(engine, limit=150, cursor=cursor)
            seen += page.calls
            if (cursor := page.next_cursor) is None:
                break
        assert len({row["call_id"] for row in seen}) == 400
        assert [row["first_seen"] for row in seen] == sorted(
            (row["first_seen"] for row in seen), reverse=True
        )
        for row in seen[:60]:
            record = get_call(engine, row["call_id"])
            assert record["outcome"] == row["outcome"]
            with engine.connect() as conn:
                stored = conn.execute(
                    sa.select(calls.c.outcome).where(calls.c.call_id == row["call_id"])
                ).scalar_one()
            assert stored == record["outcome"]["kind"]
        failed = list_calls(engine, CallFilter(outcome="failed")).calls
        assert failed and all(row["outcome"]["kind"] == "failed" for row in failed)
        number = seen[0]["from"]
        assert seen[0]["call_id"] in [
            r["call_id"] for r in list_calls(engine, CallFilter(q=number)).calls
        ]
    finally:
        engine.dispose()
