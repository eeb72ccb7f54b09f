"""toneflow against bare Flask, in one run, under the same gunicorn settings.

    .venv/bin/python bench/run.py            # full run, about 4 minutes
    .venv/bin/python bench/run.py --smoke    # about half a minute: proves the benchmark works

Starts a bare Flask app serving toneflow's exact bytes (with and without one durable
SQLite insert per request) and toneflow itself, both as ``gunicorn -c gunicorn.conf.py``;
drives each with wrk on loopback, alternating bare and toneflow run by run (A B A B) so
machine noise falls on both sides; then measures start-up with many flow files and the
workers' memory. Writes ``bench.json`` and ``bench.md`` (default folder
``bench/results/``) and prints the Markdown table. Ratios are toneflow / baseline within
this run; absolute numbers depend on the machine and on what else it is doing.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import flowgen
import report
import servers
import startup
from load import Load, WrkMissing, find_wrk, run_wrk

from toneflow import answer as engine
from toneflow.flows.registry import load_flow_dir
from toneflow.store import migrate

PUBLIC_URL = "https://toneflow.example"
TEMPLATE_VARIABLES = {"name": "Ada", "code": "1234"}
EVENT = {
    "event": "call.completed",
    "created_at": "2026-05-29T12:10:00Z",
    "call": {"id": "call_check", "status": "completed", "direction": "inbound"},
    "variables": {},
    "data": {},
}


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    bare_path: str
    toneflow_path: str
    mode: str  # wrk.lua's BENCH_MODE
    baseline: str
    target: float


SCENARIOS = (
    Scenario(
        "static",
        "static step, MiniVoice",
        "/minivoice",
        "/answer/minivoice/bench/static",
        "get",
        "bare",
        0.95,
    ),
    Scenario(
        "ozml", "same step as OzML", "/ozml", "/answer/ozml/bench/static", "get", "bare", 0.95
    ),
    Scenario(
        "templated",
        "templated step with variables",
        "/templated",
        "/answer/minivoice/bench/templated?name=Ada&code=1234",
        "get",
        "bare",
        0.90,
    ),
    Scenario(
        "answer_log",
        "answer + call-log write",
        "/minivoice+insert",
        "/answer/minivoice/bench/static",
        "call",
        "bare + 1 insert (NORMAL)",
        0.90,
    ),
    Scenario(
        "event",
        "event ingest (validate + idempotent store)",
        "/event+insert",
        "/events/minivoice",
        "event",
        "bare + 1 insert (FULL)",
        0.90,
    ),
)


@dataclass(frozen=True)
class Plan:
    rounds: int
    load: Load
    warmup_seconds: int
    generated_flows: int


FULL = Plan(
    rounds=3, load=Load(threads=1, connections=8, seconds=5), warmup_seconds=1, generated_flows=1000
)
SMOKE = Plan(
    rounds=1, load=Load(threads=1, connections=4, seconds=1), warmup_seconds=0, generated_flows=20
)


def payloads(flows_dir: Path) -> dict[str, str]:
    """The bodies toneflow serves for each scenario, made by toneflow's own engine."""
    flows = load_flow_dir(flows_dir, max_digits=128)

    def body(step: str, dialect: str, variables: dict) -> str:
        request = engine.AnswerRequest(variables=variables)
        return engine.answer(flows, "bench", step, dialect, request, PUBLIC_URL).body.decode()

    return {
        "static": body("static", "minivoice", {}),
        "ozml": body("static", "ozml", {}),
        "templated": body("templated", "minivoice", TEMPLATE_VARIABLES),
    }


def post_event(server: servers.Server, path: str) -> int:
    data = json.dumps(EVENT).encode()
    request = urllib.request.Request(
        server.base + path,
        data=data,
        headers={"Content-Type": "application/json", "webhook-id": "msg_check"},
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        return reply.status


def check_same_bytes(bare: servers.Server, toneflow: servers.Server) -> None:
    """Refuse to compare unless both sides answer every scenario, with the same bytes."""
    for scenario in SCENARIOS:
        if scenario.mode == "event":
            statuses = (
                post_event(bare, scenario.bare_path),
                post_event(toneflow, scenario.toneflow_path),
            )
            if statuses != (200, 200):
                raise RuntimeError(f"{scenario.name}: event answered {statuses}")
            continue
        suffix = "?call_id=call_check" if scenario.mode == "call" else ""
        ours = toneflow.get(scenario.toneflow_path + suffix)
        theirs = bare.get(scenario.bare_path + suffix)
        if ours != theirs:
            raise RuntimeError(f"{scenario.name}: toneflow sent {ours}, bare sent {theirs}")


def summarise(runs: list[dict]) -> dict:
    return {
        "rps": round(statistics.median(r["rps"] for r in runs), 1),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 3),
        "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 3),
        "cpu_ms_per_request": round(statistics.median(r["cpu_ms_per_request"] for r in runs), 3),
        "runs": runs,
    }


def baseline(scenario: Scenario, postgres: bool) -> str:
    """The baseline's name; on PostgreSQL both inserts are one psycopg insert."""
    if postgres and scenario.mode in ("call", "event"):
        return "bare + 1 psycopg insert"
    return scenario.baseline


def drive(
    bare: servers.Server, toneflow: servers.Server, plan: Plan, postgres: bool = False
) -> list[dict]:
    """Every scenario, bare then toneflow, round after round: A B A B."""
    sides = (("bare", bare, "bare_path"), ("toneflow", toneflow, "toneflow_path"))
    stamp = time.time_ns()
    if plan.warmup_seconds:
        warm = Load(plan.load.threads, plan.load.connections, plan.warmup_seconds)
        for scenario in SCENARIOS:
            for side, server, attr in sides:
                tag = f"warm-{side}-{scenario.name}-{stamp}"
                run_wrk(server.base + getattr(scenario, attr), scenario.mode, warm, tag)
    runs: dict[tuple[str, str], list[dict]] = {}
    for round_ in range(plan.rounds):
        for scenario in SCENARIOS:
            for side, server, attr in sides:
                tag = f"{side}-{scenario.name}-{round_}-{stamp}"
                cpu_before = server.cpu_seconds()
                result = run_wrk(
                    server.base + getattr(scenario, attr), scenario.mode, plan.load, tag
                )
                cpu = server.cpu_seconds() - cpu_before
                result["cpu_ms_per_request"] = round(cpu * 1000 / max(result["requests"], 1), 3)
                runs.setdefault((scenario.name, side), []).append(result)
                print(
                    f"  round {round_ + 1} {scenario.name:<10} {side:<8} "
                    f"{result['rps']:8.1f} req/s",
                    file=sys.stderr,
                )
    rows = []
    for scenario in SCENARIOS:
        ours, theirs = runs[(scenario.name, "toneflow")], runs[(scenario.name, "bare")]
        # One ratio per adjacent pair, then the median: drift between rounds cancels out.
        ratio = statistics.median(a["rps"] / b["rps"] for a, b in zip(ours, theirs, strict=True))
        rows.append(
            {
                "name": scenario.name,
                "title": scenario.title,
                "baseline": baseline(scenario, postgres),
                "toneflow": summarise(ours),
                "bare": summarise(theirs),
                "ratio": round(ratio, 3),
                # The same comparison by cost: bare's CPU per request over toneflow's.
                "cpu_ratio": round(
                    statistics.median(
                        b["cpu_ms_per_request"] / a["cpu_ms_per_request"]
                        for a, b in zip(ours, theirs, strict=True)
                        if a["cpu_ms_per_request"] > 0
                    ),
                    3,
                ),
                "target": scenario.target,
                "met": ratio >= scenario.target,
            }
        )
    return rows


def memory(server: servers.Server) -> dict:
    worker_memory = [servers.memory_kib(pid) for pid in server.workers()]
    return {
        "workers": len(worker_memory),
        "rss_mb": round(max(m["rss"] for m in worker_memory) / 1024, 1),
        "pss_mb": round(max(m["pss"] for m in worker_memory) / 1024, 1),
    }


def scrape_metrics(server: servers.Server, count: int = 20) -> dict | None:
    """How long a Prometheus scrape of ``/metrics`` takes after the run, if it exists."""
    times, size = [], 0
    for _ in range(count):
        started = time.perf_counter()
        try:
            status, body = server.get("/metrics")
        except OSError:
            return None
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            return None
        size = len(body)
    return {"scrapes": count, "median_ms": round(statistics.median(times), 2), "bytes": size}


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=servers.ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def libpq_dsn(database_url: str) -> str | None:
    """A SQLAlchemy PostgreSQL URL as psycopg takes it (no ``+driver``); None for SQLite."""
    from sqlalchemy import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def run(plan: Plan, work: Path, database_url: str | None) -> dict:
    served = work / "flows"
    flowgen.write_bench_flow(served)
    flowgen.write_generated_flows(served, plan.generated_flows)
    (work / "payloads.json").write_text(json.dumps(payloads(served)), encoding="utf-8")
    toneflow_db = database_url or f"sqlite:///{work / 'toneflow.db'}"
    migrate.upgrade(toneflow_db)

    bare_settings = {"BENCH_PAYLOADS": str(work / "payloads.json")}
    pg_dsn = libpq_dsn(database_url) if database_url else None
    if pg_dsn:
        # toneflow on PostgreSQL: the baseline's inserts go to the same server.
        bare_settings["BENCH_PG_DSN"] = pg_dsn
    else:
        bare_settings["BENCH_DATABASE"] = str(work / "bare.db")
    bare = servers.start(
        "bare",
        "bare:create_app()",
        servers.clean_environment(**bare_settings),
        work,
        "/minivoice",
    )
    try:
        toneflow = servers.start(
            "toneflow",
            "app:create_app()",
            servers.clean_environment(
                DATABASE_URL=toneflow_db,
                TONEFLOW_FLOWS_DIR=str(served),
                TONEFLOW_PUBLIC_URL=PUBLIC_URL,
            ),
            work,
            "/healthz",
        )
        try:
            check_same_bytes(bare, toneflow)
            rows = drive(bare, toneflow, plan, postgres=pg_dsn is not None)
            results = {
                "scenarios": rows,
                "memory": {"bare": memory(bare), "toneflow": memory(toneflow)},
                "metrics_scrape": scrape_metrics(toneflow),
            }
        finally:
            toneflow.stop()
    finally:
        bare.stop()
    worst_case = work / "unique-templates"
    flowgen.write_generated_flows(worst_case, plan.generated_flows, unique_templates=True)
    results["startup"] = startup.measure(served, worst_case, f"sqlite:///{work / 'startup.db'}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--smoke", action="store_true", help="1 s runs on 20 flows: proves it works"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=servers.ROOT / "bench" / "results",
        help="folder for bench.json and bench.md (default: bench/results)",
    )
    parser.add_argument("--database-url", help="toneflow's store (default: a fresh SQLite file)")
    parser.add_argument("--rounds", type=int, help="A B rounds (default: 3; smoke: 1)")
    parser.add_argument("--seconds", type=int, help="seconds per wrk run (default: 5; smoke: 1)")
    parser.add_argument("--flows", type=int, help="generated flow files (default: 1000; smoke: 20)")
    args = parser.parse_args(argv)
    try:
        find_wrk()
    except WrkMissing as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    plan = SMOKE if args.smoke else FULL
    plan = Plan(
        rounds=args.rounds or plan.rounds,
        load=Load(plan.load.threads, plan.load.connections, args.seconds or plan.load.seconds),
        warmup_seconds=plan.warmup_seconds,
        generated_flows=plan.generated_flows if args.flows is None else args.flows,
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="toneflow-bench-") as folder:
        results = run(plan, Path(folder), args.database_url)
    results["meta"] = {
        "mode": "smoke" if args.smoke else "full",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "python": platform.python_version(),
        "cpus": len(__import__("os").sched_getaffinity(0)),
        "rounds": plan.rounds,
        "generated_flows": plan.generated_flows,
        "seconds_per_run": plan.load.seconds,
        "wrk": {"threads": plan.load.threads, "connections": plan.load.connections},
        "database": "postgresql"
        if args.database_url and libpq_dsn(args.database_url)
        else "sqlite",
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    json_path, md_path = report.write(results, args.out)
    print(report.markdown(results))
    print(f"written: {json_path} {md_path}", file=sys.stderr)
    errors = sum(
        sum(run["errors"].values())
        for row in results["scenarios"]
        for side in ("toneflow", "bare")
        for run in row[side]["runs"]
    )
    if errors:
        print(f"error: {errors} request(s) failed; see the JSON", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
