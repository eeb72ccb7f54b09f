"""Time the call log's reads on a big store: list pages (every filter) and call details.

    python scripts/gen_calls.py   --database-url sqlite:////tmp/big.db --calls 1000000
    python scripts/bench_calls.py --database-url sqlite:////tmp/big.db

Each request goes through the real app (Flask's test client, in process: routing, token
or session check, schema, store, JSON or the HTML template), against the store given.
Every case runs a few times to warm up, then ``--runs`` times; the median, p95 and worst
are printed in milliseconds next to the target (100 ms). Adds one API token and one
support user (``bench``) to the store. Exit status 1 if a median misses the target.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app import create_app
from toneflow.store import calls
from toneflow.store.access import (
    AccessError,
    add_user,
    check_user,
    create_token,
    start_session,
)
from toneflow.web.auth import SESSION_KEY

TARGET_MS = 100.0
#: Issue 14: a 30-day funnel of one flow, at a million calls.
FUNNEL_TARGET_MS = 300.0
WARMUP = 3


def sample(engine: sa.Engine) -> dict[str, Any]:
    """Real values to filter on: a call in the middle of the store, and its neighbours."""
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(calls)).scalar_one()
        middle = conn.execute(
            sa.select(calls).order_by(calls.c.call_id).offset(total // 2).limit(1)
        ).first()
    return {"total": total, "call": middle}


def cases(example: Any) -> list[tuple[str, str]]:
    week_end = example.first_seen
    week_start = week_end.replace(day=1)
    return [
        ("api: first page", "/api/calls"),
        ("api: outcome=fell_back", "/api/calls?outcome=fell_back"),
        ("api: outcome=never_answered", "/api/calls?outcome=never_answered"),
        ("api: flow=menu", "/api/calls?flow=menu"),
        ("api: status=answered", "/api/calls?status=answered"),
        ("api: last_step=route", "/api/calls?last_step=route"),
        ("api: flow + outcome", "/api/calls?flow=menu&outcome=failed"),
        (
            "api: since/until (a month)",
            "/api/calls?"
            + urllib.parse.urlencode(
                {"since": week_start.isoformat(), "until": week_end.isoformat()}
            ),
        ),
        ("api: q=call id", f"/api/calls?q={example.call_id}"),
        ("api: q=phone number", "/api/calls?" + urllib.parse.urlencode({"q": example.from_number})),
        (
            "api: q=number on every call",
            "/api/calls?" + urllib.parse.urlencode({"q": example.to_number}),
        ),
        ("api: q=no match", "/api/calls?q=nobody"),
        ("api: call detail", f"/api/calls/{example.call_id}"),
        ("page: /support/calls", "/support/calls"),
        ("page: /support/calls?outcome=failed", "/support/calls?outcome=failed"),
        ("page: /support/calls/<id>", f"/support/calls/{example.call_id}"),
    ]


def funnel_cases(example: Any) -> list[tuple[str, str]]:
    """A 30-day funnel of one flow (a quarter of the generated calls), ending at a call."""
    until = example.first_seen.replace(microsecond=0)
    window = urllib.parse.urlencode(
        {"since": (until - timedelta(days=30)).isoformat(), "until": until.isoformat()}
    )
    return [
        ("api: funnel menu, 30 days", f"/api/flows/menu/funnel?{window}"),
        (
            "api: funnel menu, 30 days, one version",
            f"/api/flows/menu/funnel?{window}&version={example.flow_version}",
        ),
        ("page: /support/flows/menu, 30 days", f"/support/flows/menu?{window}"),
    ]


def timed(client, path: str, runs: int) -> list[float]:
    times = []
    for n in range(WARMUP + runs):
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}: {response.get_data()[:300]!r}")
        if n >= WARMUP:
            times.append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", help="run only the cases whose name holds this text")
    args = parser.parse_args()
    app = create_app(
        {"DATABASE_URL": args.database_url, "LOG_LEVEL": "warning", "LOG_FORMAT": "json"}
    )
    engine = app.extensions["toneflow.call_log"].engine
    facts = sample(engine)
    token = create_token(engine, f"bench-{secrets.token_hex(4)}")
    password = secrets.token_urlsafe(16)
    try:
        add_user(engine, "bench", password)
        user_id = check_user(engine, "bench", password)
    except AccessError:
        with engine.connect() as conn:
            user_id = conn.execute(sa.text("SELECT id FROM users WHERE name = 'bench'")).scalar()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    with client.session_transaction() as session:
        idle = app.config["PERMANENT_SESSION_LIFETIME"]
        now = datetime.now(UTC)
        session[SESSION_KEY] = start_session(engine, user_id, now=now, idle=idle)

    print(f"{engine.dialect.name}: {facts['total']:,} calls; {args.runs} runs per case (ms)")
    print(
        f"| case | median | p95 | worst | under target ({TARGET_MS:.0f} ms;"
        f" funnel {FUNNEL_TARGET_MS:.0f}) |"
    )
    print("|---|---:|---:|---:|---|")
    missed = False
    targeted = [(name, path, TARGET_MS) for name, path in cases(facts["call"])]
    targeted += [(name, path, FUNNEL_TARGET_MS) for name, path in funnel_cases(facts["call"])]
    for name, path, target in targeted:
        if args.only and args.only not in name:
            continue
        times = sorted(timed(client, path, args.runs))
        median = statistics.median(times)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        ok = median < target
        missed |= not ok
        print(f"| {name} | {median:.1f} | {p95:.1f} | {times[-1]:.1f} | {'yes' if ok else 'NO'} |")
    engine.dispose()
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
