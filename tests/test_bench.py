"""The benchmark's smoke mode runs end to end and writes well-formed results.

It asserts nothing about speed (speed is the benchmark's business, not a test's): only
that every measure is there, is a number, and that no request failed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from support import ROOT, require

pytestmark = pytest.mark.slow  # the benchmark against gunicorn

SCENARIOS = ["static", "ozml", "templated", "answer_log", "event"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    require(shutil.which("wrk") is not None, "wrk (apt-get install wrk)")
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_smoke_run_writes_every_measure_as_json(smoke):
    out, _ = smoke
    results = json.loads((out / "bench.json").read_text())
    assert [row["name"] for row in results["scenarios"]] == SCENARIOS
    for row in results["scenarios"]:
        for side in ("toneflow", "bare"):
            summary = row[side]
            assert summary["rps"] > 0
            assert 0 < summary["p50_ms"] <= summary["p99_ms"]
            assert summary["cpu_ms_per_request"] > 0
            assert all(sum(run["errors"].values()) == 0 for run in summary["runs"])
        assert row["ratio"] > 0 and row["cpu_ratio"] > 0
        assert isinstance(row["met"], bool)
    startup = results["startup"]
    assert startup["flows"] == 21  # 20 generated and the benchmark's own
    assert startup["lint_exit"] == 0
    assert startup["load_s"] > 0 and startup["load_cpu_s"] > 0 and startup["lint_s"] > 0
    assert startup["lint_cpu_s"] > 0
    for side in ("toneflow", "bare"):
        assert results["memory"][side]["workers"] >= 1
        assert results["memory"][side]["rss_mb"] > 0
    assert results["meta"]["mode"] == "smoke"


def test_smoke_run_prints_and_writes_the_markdown_table(smoke):
    out, printed = smoke
    table = (out / "bench.md").read_text()
    assert printed.strip() == table.strip()
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    titles = [row.split("|")[1].strip() for row in rows]
    assert "static step, MiniVoice" in titles
    assert "event ingest (validate + idempotent store)" in titles
    assert any(title.startswith("load + validate + prerender 21 flow files") for title in titles)
    assert any(title.startswith("toneflow worker RSS") for title in titles)
    assert any(title.startswith("`/metrics` scrape") for title in titles)
    # A missed target points to where it is explained, and that section exists.
    if "**no**" in table:
        assert table.strip().endswith(
            "explained in docs/performance.md#what-stands-in-the-way-of-the-targets."
        )
    assert "\n## What stands in the way of the targets\n" in (
        ROOT / "docs" / "performance.md"
    ).read_text(encoding="utf-8")
    # Every table row has as many cells as its header.
    for block in table.strip().split("\n\n"):
        widths = {line.count("|") for line in block.splitlines()}
        assert len(widths) == 1, block


def test_the_benchmark_says_how_to_get_wrk_when_it_is_missing(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no wrk on this PATH
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "apt-get install wrk" in done.stderr
    assert not (tmp_path / "bench.json").exists()
