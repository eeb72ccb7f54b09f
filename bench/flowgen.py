"""The flows the benchmark serves: one hand-written flow, and N generated ones.

The generated flows are varied like real ones (static and templated steps, a menu that
collects digits, a switch, a fallback) and lint clean, so loading them exercises every
part of compilation: YAML with positions, the schemas, templates, reference checks.

As in real flow sets, what differs between flows is their data - literals and ``vars``
(each flow its own line, PIN and codes) - while template expressions such as
``{{ vars.pin }}`` or ``{{ input.digits }}`` repeat. ``unique_templates=True`` writes the
worst case instead: every flow's templates are texts no other flow has.
"""

from __future__ import annotations

import random
from pathlib import Path

BENCH_FLOW = """\
description: The benchmark's flow - one static step, one templated step with variables
fallback: sorry
steps:
  static:
    - speak: Connecting you to the scheduling line.
    - send_digits:
        digits: "1234#"
        pause_before_ms: 2000
    - redirect: done
  templated:
    - speak: "Hello {{ variables.name }}, connecting you now."
    - send_digits:
        digits: "{{ variables.code }}#"
        pause_before_ms: 2000
    - redirect: done
  done:
    - hangup: {}
  sorry:
    - speak: Sorry, something went wrong.
    - hangup: {}
"""

GENERATED_FLOW = """\
description: Generated flow {n} for the start-up benchmark
start: greet
fallback: sorry
party: {party}
vars:
  line: "+1555{line:07d}"
  pin: "{pin}"
  code: "{code}"
steps:
  greet:
    - play: https://assets.example.com/prompts/{n}/welcome.wav
    - speak:
        text: Welcome to line {n}. Press 1 for sales, 2 for support.
        language: en-US
    - collect_digits:
        max_digits: 1
        timeout_ms: {timeout}
        finish_on_key: "#"
        next: route
  route:
    switch: "{{{{ input.digits }}}}"
    cases:
      "1": sales
      "2": support
    default: sorry
  sales:
    - speak: "Hello {{{{ variables.name | default('there') }}}}, this is sales{unique_text}."
    - send_digits:
        digits: "{{{{ vars.pin }}}}*{{{{ vars.code }}}}{unique_digits}#"
        pause_before_ms: {pause}
    - transfer:
        to: "{{{{ vars.line }}}}"
  support:
    - send_digits: "{digits}W{digits}#"
    - redirect: bye
  bye:
    - speak: Goodbye.
    - hangup: {{}}
  sorry:
    - speak: Sorry, we did not get that.
    - hangup: {{}}
"""


def write_bench_flow(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench.yaml").write_text(BENCH_FLOW, encoding="utf-8")


def write_generated_flows(
    folder: Path, count: int, *, unique_templates: bool = False, seed: int = 7
) -> None:
    """Write ``count`` distinct flows, ``gen_0000.yaml`` on, the same for the same seed."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for n in range(count):
        text = GENERATED_FLOW.format(
            n=n,
            party=rng.choice(["caller", "callee", "all"]),
            line=rng.randrange(10**7),
            pin="".join(rng.choice("0123456789") for _ in range(4)),
            code="".join(rng.choice("0123456789") for _ in range(rng.randint(3, 8))),
            unique_text=f" {n}" if unique_templates else "",
            unique_digits=str(n) if unique_templates else "",
            timeout=rng.choice([3000, 5000, 8000]),
            digits="".join(rng.choice("0123456789") for _ in range(rng.randint(3, 12))),
            pause=rng.choice([0, 1000, 2000, 4000]),
        )
        (folder / f"gen_{n:04d}.yaml").write_text(text, encoding="utf-8")
