"""docs/flow-authoring.md stays true: each example prints what the guide says it prints.

A ```yaml block followed by a ```text block is a lint example (the file is ``f.yaml``);
followed by ```json and ```xml blocks, it is an action example served from step ``s``;
followed by a second ```yaml block (the flow's test file) and a ```text block, it is a
flow test example: ``toneflow test`` prints the text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from toneflow.answer import answer
from toneflow.flows.compile import compile_flow
from toneflow.flows.registry import FlowSet
from toneflow.request import AnswerRequest

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "flow-authoring.md"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def examples() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(title, yaml, the blocks that follow it) for each example in the guide."""
    found = []
    for section in re.split(r"\n(?=##)", GUIDE.read_text()):
        if not section.startswith("### "):
            continue
        title = section.splitlines()[0].removeprefix("### ")
        blocks = BLOCK.findall(section)
        if blocks and blocks[0][0] == "yaml":
            found.append((title, blocks[0][1], blocks[1:]))
    return found


LINT = [(t, y, b[0][1]) for t, y, b in examples() if [k for k, _ in b] == ["text"]]
FLOW_TESTS = [
    (t, y, b[0][1], b[1][1]) for t, y, b in examples() if [k for k, _ in b] == ["yaml", "text"]
]
ACTIONS = [
    (t, y, b[0][1], b[1][1]) for t, y, b in examples() if [k for k, _ in b] == ["json", "xml"]
]


def test_every_example_is_one_kind_or_the_other():
    assert len(LINT) + len(ACTIONS) + len(FLOW_TESTS) == len(examples())
    assert len(FLOW_TESTS) == 3
    assert len(LINT) >= 30
    kinds = {title.split(",")[0] for title, *_ in ACTIONS}
    assert kinds == {
        "send_digits",
        "speak",
        "play",
        "collect_digits",
        "redirect",
        "transfer",
        "hangup",
    }


@pytest.mark.parametrize(("title", "text", "output"), LINT, ids=[t for t, *_ in LINT])
def test_lint_examples_print_what_the_guide_says(title, text, output):
    _, problems = compile_flow("f", "f.yaml", text.encode(), max_digits=128)
    assert "\n".join(str(p) for p in sorted(problems)) + "\n" == output


@pytest.mark.parametrize(
    ("title", "text", "json_body", "xml_body"), ACTIONS, ids=[t for t, *_ in ACTIONS]
)
def test_action_examples_render_as_the_guide_says(title, text, json_body, xml_body):
    flow, problems = compile_flow("example", "example.yaml", text.encode(), max_digits=128)
    assert flow is not None, problems
    flows = FlowSet({"example": flow})
    for dialect, body in (("minivoice", json_body), ("ozml", xml_body)):
        served = answer(flows, "example", "s", dialect, AnswerRequest(), "https://toneflow.example")
        assert served.body.decode() + "\n" == body


def _named_file(text: str) -> str:
    """The path an example's first comment line names: ``# flows/bridge.yaml: …``."""
    return text.splitlines()[0].removeprefix("# ").split(":")[0]


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    ("title", "flow", "test", "output"), FLOW_TESTS, ids=[t for t, *_ in FLOW_TESTS]
)
def test_flow_test_examples_print_what_the_guide_says(
    title, flow, test, output, tmp_path, monkeypatch
):
    from click.testing import CliRunner

    from toneflow.cli import cli

    for text in (flow, test):
        path = tmp_path / _named_file(text)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.chdir(tmp_path)
    args = ["test", "--flows", "flows", _named_file(test)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.stdout == output
    assert result.exit_code == (1 if "FAILED" in output else 0)
