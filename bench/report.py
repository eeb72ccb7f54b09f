"""The benchmark's results as JSON (everything) and as a Markdown table (the summary)."""

from __future__ import annotations

import json
from pathlib import Path

#: Issue 11's target for a toneflow worker's resident set after the run.
RSS_TARGET_MB = 60
#: Where a missed target is explained: what work remains, why it is kept, the profiles.
EXPLAINED = "docs/performance.md#what-stands-in-the-way-of-the-targets"


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _verdict(met: bool | None) -> str:
    return "-" if met is None else ("yes" if met else "**no** ¹")


def markdown(results: dict) -> str:
    lines = [
        "| measure | toneflow req/s | p50 ms | p99 ms | baseline | baseline req/s "
        "| p50 ms | p99 ms | ratio | target | met | CPU ms/req (toneflow / baseline) "
        "| CPU ratio |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for row in results["scenarios"]:
        ours, base = row["toneflow"], row["bare"]
        lines.append(
            f"| {row['title']} | {ours['rps']:.0f} | {_fmt(ours['p50_ms'])} "
            f"| {_fmt(ours['p99_ms'])} | {row['baseline']} | {base['rps']:.0f} "
            f"| {_fmt(base['p50_ms'])} | {_fmt(base['p99_ms'])} | {row['ratio']:.3f} "
            f"| ≥ {row['target']:.2f} | {_verdict(row['met'])} "
            f"| {ours['cpu_ms_per_request']:.3f} / {base['cpu_ms_per_request']:.3f} "
            f"| {row['cpu_ratio']:.3f} |"
        )
    start = results["startup"]
    flows = start["flows"]
    lines += [
        "",
        "| measure | value | target | met |",
        "|---|---:|---:|---|",
        f"| load + validate + prerender {flows} flow files: CPU (wall) "
        f"| {start['load_cpu_s']:.2f} s ({start['load_s']:.2f} s) | < 2 s "
        f"| {_verdict(start['load_cpu_s'] < 2)} |",
        f"| the same, every template text distinct (worst case): CPU (wall) "
        f"| {start['worst_case_load_cpu_s']:.2f} s ({start['worst_case_load_s']:.2f} s) | - | - |",
        f"| `create_app()` with those flows: CPU (wall) "
        f"| {start['app_cpu_s']:.2f} s ({start['app_s']:.2f} s) | - | - |",
        f"| `toneflow lint` of them (process start included): CPU (wall) "
        f"| {start['lint_cpu_s']:.2f} s ({start['lint_s']:.2f} s) | < 2 s "
        f"| {_verdict(start['lint_cpu_s'] < 2)} |",
    ]
    for side, memory in results["memory"].items():
        target = f"< {RSS_TARGET_MB} MB" if side == "toneflow" else "-"
        verdict = _verdict(memory["rss_mb"] < RSS_TARGET_MB) if side == "toneflow" else "-"
        lines.append(
            f"| {side} worker RSS after the run (PSS) | {memory['rss_mb']:.1f} MB "
            f"({memory['pss_mb']:.1f} MB) | {target} | {verdict} |"
        )
    scrape = results.get("metrics_scrape")
    if scrape:
        lines.append(
            f"| `/metrics` scrape, median of {scrape['scrapes']} | {scrape['median_ms']:.2f} ms "
            f"({scrape['bytes']} bytes) | - | - |"
        )
    if "**no**" in "\n".join(lines):
        lines += ["", f"¹ Not met: what remains, and why it is kept, is explained in {EXPLAINED}."]
    return "\n".join(lines) + "\n"


def write(results: dict, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path, md_path = folder / "bench.json", folder / "bench.md"
    json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown(results), encoding="utf-8")
    return json_path, md_path
