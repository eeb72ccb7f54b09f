"""Fill a call log with many realistic calls, fast, for the scale benchmark.

    python scripts/gen_calls.py --database-url sqlite:////tmp/big.db --calls 1000000
    python scripts/gen_calls.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

Each call gets ``--answers`` answers and one ``call.completed`` event, first seen over the
last 90 days, spread over four flows and every outcome; the ``calls`` row (outcome
included) is made by the same rule the store applies. Rows go in by bulk: PostgreSQL's
COPY, SQLite ``executemany`` in large transactions, with the secondary indexes dropped
during the load and built once at the end, then ANALYZE. Migrates the database first; a
PostgreSQL database given here is wiped (use a scratch database). Deterministic for a
given ``--seed``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from toneflow.funnel import path_part
from toneflow.store import answers, calls, derive_outcome, events, make_engine, migrate

FLOWS = {
    "appointment": ["connect", "done", "sorry"],
    "menu": ["greet", "menu", "route", "sales", "support"],
    "conference_pin": ["join"],
    "dtmf_parties": ["start", "end"],
}
TERMINAL = {"done", "sorry", "sales", "support", "join", "end"}
TRANSFERS = {"sales": "+15551230010", "support": "+15551230020"}
VERSION = "0123456789ab"
CALL_COLUMNS = [
    "call_id", "flow", "dialect", "status", "status_at", "direction", "from_number",
    "to_number", "customer_id", "application_id", "first_seen", "last_seen", "completed_at",
    "last_step", "last_step_terminal", "fallback_step", "fallback_reason", "error_step",
    "error_reason", "outcome", "transfer_to", "flow_version", "path",
]  # fmt: skip
ANSWER_COLUMNS = [
    "call_id", "at", "dialect", "flow", "flow_version", "step", "terminal", "request", "body",
    "duration_ms", "fallback_from", "fallback_reason", "status", "error_reason",
]  # fmt: skip
EVENT_COLUMNS = [
    "call_id", "dedupe_key", "webhook_id", "event", "created_at", "received_at", "body",
]  # fmt: skip
NOW = datetime(2026, 11, 30, tzinfo=UTC)
BODIES = {
    step: json.dumps({"actions": [{"speak": {"text": f"step {step}"}}, {"hangup": {}}]})
    for steps in FLOWS.values()
    for step in steps
}


def make_call(i: int, rng: random.Random, answers: int) -> tuple[list, list[list], list]:
    """One call's row, its answer rows and its event row, as column-ordered lists."""
    flow = rng.choice(list(FLOWS))
    steps = FLOWS[flow]
    dialect = "minivoice" if i % 3 else "ozml"
    # Never a whole second: SQLite's text times then always carry six decimals.
    first_seen = NOW - timedelta(seconds=rng.randrange(90 * 86400), microseconds=i % 997 + 1)
    call_id = f"gen_{i:07d}"
    number = f"+1555{rng.randrange(10**7):07d}"
    roll = rng.random()
    never_answered, open_call = roll < 0.02, 0.02 <= roll < 0.05
    served = [] if never_answered else [rng.choice(steps) for _ in range(answers)]
    fallback = bool(served) and rng.random() < 0.05
    failed = bool(served) and not fallback and rng.random() < 0.02
    answer_rows = []
    for n, step in enumerate(served):
        at = first_seen + timedelta(seconds=2 * n)
        is_fallback = fallback and n == len(served) - 1
        is_failed = failed and n == len(served) - 1
        request = f'{{"call": {{"id": "{call_id}", "from": "{number}"}}, "input": {{}}}}'
        body = BODIES[step]
        answer_rows.append(
            [
                call_id, at, dialect, flow, VERSION, step, step in TERMINAL,
                request, body, round(rng.uniform(0.3, 4.0), 3),
                steps[0] if is_fallback else None,
                "undefined variable: code" if is_fallback else None,
                500 if is_failed else 200,
                "undefined variable: code" if is_failed else None,
            ]
        )  # fmt: skip
    ok = [row for row in answer_rows if row[12] == 200]
    last = ok[-1] if ok else None
    transfer_to = TRANSFERS.get(last[5]) if last and flow == "menu" else None
    # What each answer adds to the call's path (toneflow.funnel.path_part).
    parts = [path_part([row[10], row[5]] if row[10] else [row[5]], row[10]) for row in answer_rows]
    ended = first_seen + timedelta(seconds=2 * answers + 5)
    completed_at = None if open_call else ended
    outcome = derive_outcome(
        completed=not open_call,
        last_step=last[5] if last else None,
        last_step_terminal=last[6] if last else None,
        fallback_step=steps[0] if fallback else None,
        fallback_reason="undefined variable: code" if fallback else None,
        error_step=served[-1] if failed else None,
        error_reason="undefined variable: code" if failed else None,
        transfer_to=transfer_to,
    )
    call_row = [
        call_id, flow if served else None, dialect if served else None,
        "answered" if open_call else "completed", ended, "inbound", number, "+15550000000",
        f"cust_{i % 5000}", "app_1", first_seen, ended, completed_at,
        last[5] if last else None, last[6] if last else None,
        outcome["step"] if fallback else None, outcome["reason"] if fallback else None,
        outcome["step"] if failed else None, outcome["reason"] if failed else None,
        outcome["kind"], transfer_to, VERSION if served else None,
        " ".join(parts) if parts else None,
    ]  # fmt: skip
    name, status = ("call.answered", "answered") if open_call else ("call.completed", "completed")
    event_body = (
        f'{{"event": "{name}", "created_at": "{ended.isoformat()}",'
        f' "call": {{"id": "{call_id}", "status": "{status}", "from": "{number}"}}}}'
    )
    event_row = [call_id, f"webhook-id:msg_{i}", f"msg_{i}", name, ended, ended, event_body]
    return call_row, answer_rows, event_row


def batches(total: int, size: int, answers: int, seed: int) -> Iterator[tuple[list, list, list]]:
    rng = random.Random(seed)
    for start in range(0, total, size):
        calls, answer_rows, event_rows = [], [], []
        for i in range(start, min(total, start + size)):
            call, answered, event = make_call(i, rng, answers)
            calls.append(call)
            answer_rows += answered
            event_rows.append(event)
        yield calls, answer_rows, event_rows


def load_postgres(engine: sa.Engine, data: Iterator[tuple[list, list, list]]) -> None:
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        for calls, answer_rows, event_rows in data:
            for table, columns, rows in (
                ("calls", CALL_COLUMNS, calls),
                ("answers", ANSWER_COLUMNS, answer_rows),
                ("events", EVENT_COLUMNS, event_rows),
            ):
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            conn.connection.driver_connection.commit()
            progress(len(calls))


def load_sqlite(engine: sa.Engine, data: Iterator[tuple[list, list, list]]) -> None:
    def text(value):
        # What UTCDateTime stores on SQLite: naive UTC in SQLAlchemy's text format.
        if isinstance(value, datetime):  # every generated time is UTC with microseconds
            return value.replace(tzinfo=None).isoformat(" ")
        return value

    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # A scratch store being filled: a crash here means run the script again.
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA cache_size = -262144")
        for calls, answer_rows, event_rows in data:
            cursor.execute("BEGIN IMMEDIATE")
            for table, columns, rows in (
                ("calls", CALL_COLUMNS, calls),
                ("answers", ANSWER_COLUMNS, answer_rows),
                ("events", EVENT_COLUMNS, event_rows),
            ):
                marks = ", ".join("?" * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    ([text(value) for value in row] for row in rows),
                )
            cursor.execute("COMMIT")
            progress(len(calls))
    finally:
        raw.close()


_done = 0


def progress(count: int) -> None:
    global _done
    _done += count
    print(f"\r{_done:,} calls", end="", file=sys.stderr, flush=True)


@contextmanager
def without_indexes(engine: sa.Engine) -> Iterator[None]:
    """Drop the secondary indexes for the load and build each once at the end (much faster)."""
    indexes = [index for table in (calls, answers, events) for index in table.indexes]
    with engine.begin() as conn:
        for index in indexes:
            index.drop(conn)
    yield
    print("\nbuilding indexes", file=sys.stderr)
    with engine.begin() as conn:
        for index in indexes:
            index.create(conn)
        conn.exec_driver_sql("ANALYZE")


def reset_postgres(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--answers", type=int, default=2, help="answers per call")
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    if engine.dialect.name == "postgresql":
        reset_postgres(engine)
    migrate.upgrade(engine)
    started = time.perf_counter()
    data = batches(args.calls, args.batch, args.answers, args.seed)
    with without_indexes(engine):
        (load_postgres if engine.dialect.name == "postgresql" else load_sqlite)(engine, data)
    seconds = time.perf_counter() - started
    print(f"\n{args.calls:,} calls in {seconds:.1f} s ({args.calls / seconds:,.0f}/s)")
    engine.dispose()


if __name__ == "__main__":
    main()
