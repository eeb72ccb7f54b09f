"""The flow files' JSON Schema: valid 2020-12, accepts every example, refuses what lint refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from marshmallow import ValidationError

from schemas.fields import digit_limit
from schemas.flow import FlowFileSchema
from schemas.json_schema import flow_json_schema
from toneflow.cli import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "flows").glob("*.yaml"))
VALIDATOR = Draft202012Validator(flow_json_schema())


def errors(flow: dict) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(flow)]


def marshmallow_accepts(flow: dict) -> bool:
    with digit_limit(128):
        try:
            FlowFileSchema().load(flow)
        except ValidationError:
            return False
    return True


def steps(*actions) -> dict:
    return {"steps": {"a": list(actions)}}


def test_the_schema_is_a_valid_draft_2020_12_schema():
    schema = flow_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_flow_validates(path):
    assert errors(yaml.safe_load(path.read_text())) == []


def test_the_readme_and_docs_flow_shapes_validate():
    assert errors(steps({"hangup": None}, {"hangup": {}})) == []
    assert (
        errors(steps({"speak": {"text": "hi", "language": "en-US"}}, {"play": "https://x/y.wav"}))
        == []
    )
    assert errors({"steps": {"r": {"switch": "{{ input.digits }}", "cases": {"1": "a"}}}}) == []
    assert (
        errors(steps({"send_digits": {"digits": "{{ variables.code }}#", "pause_before_ms": 500}}))
        == []
    )


@pytest.mark.parametrize(
    "flow",
    [
        steps({"speek": "hello"}),  # an unknown action
        steps({"speak": "hi", "hangup": {}}),  # two actions in one item
        steps({"send_digits": "12X4"}),  # a bad digit, shorthand
        steps({"send_digits": {"digits": "1 2"}}),  # a bad digit, long form
        steps({"send_digits": ""}),
        steps({"send_digits": "1" * 129}),  # over TONEFLOW_MAX_DIGITS
        steps({"send_digits": {"digits": "1", "pause_before_ms": 60001}}),
        steps({"send_digits": {"digits": "1", "party": "everyone"}}),
        steps({"collect_digits": {"max_digits": 65, "timeout_ms": 1000, "next": "a"}}),
        steps({"collect_digits": {"max_digits": 1, "timeout_ms": 99, "next": "a"}}),
        steps({"collect_digits": {"max_digits": 1, "timeout_ms": 1000}}),  # no next
        steps({"play": "ftp://example.com/a.wav"}),
        steps({"redirect": "Not A Name"}),
        steps({"speak": {"txt": "hi"}}),  # an unknown key
        {"steps": {"a": [{"hangup": {}}]}, "strat": "a"},
        {"steps": {}},
        {"steps": {"Bad": [{"hangup": {}}]}},
        {"steps": {"a": []}},
        {"steps": {"r": {"switch": "{{ input.digits }}"}}},  # no cases
        {"steps": {"r": {"switch": "x", "cases": {}}}},
        {"description": "no steps"},
    ],
)
def test_what_lint_refuses_by_itself_the_schema_refuses(flow):
    assert errors(flow)
    with pytest.raises(ValidationError):
        FlowFileSchema().load(flow)


def test_the_digit_limit_follows_the_setting():
    short = Draft202012Validator(flow_json_schema(max_digits=4))
    assert not list(short.iter_errors(steps({"send_digits": "1234"})))
    assert list(short.iter_errors(steps({"send_digits": "12345"})))


digit_text = st.text(alphabet="0123456789*#ABCDwW,xX !e", max_size=8)
argument = st.one_of(
    st.integers(-5, 70_000), st.none(), st.booleans(), digit_text, st.sampled_from(["5", "500"])
)


@given(digits=digit_text, pause=argument, max_digits=argument, timeout=argument)
def test_the_schema_and_the_marshmallow_schemas_agree(digits, pause, max_digits, timeout):
    """Generated from the same fields, they accept and refuse the same values."""
    flow = steps(
        {"send_digits": {"digits": digits, "pause_before_ms": pause}},
        {"collect_digits": {"max_digits": max_digits, "timeout_ms": timeout, "next": "a"}},
    )
    assert (errors(flow) == []) == marshmallow_accepts(flow), errors(flow)


def test_the_shipped_schema_file_is_what_toneflow_schema_prints(monkeypatch):
    monkeypatch.delenv("TONEFLOW_MAX_DIGITS", raising=False)
    result = CliRunner().invoke(cli, ["schema"], catch_exceptions=False)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == flow_json_schema()
    # Editors point at this file; regenerate it with `toneflow schema > flow.schema.json`.
    assert (ROOT / "flow.schema.json").read_text() == result.stdout


names = st.sampled_from(["send_digits", "speak", "transfer", "redirect", "hangup", "speek"])
keys = st.sampled_from(["digits", "text", "language", "to", "step", "party", "pause_before_ms"])
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1, 70_000),
    st.sampled_from(["", "12#", "1X", "hi", "caller", "Not A Name", "a", "5"]),
)
arguments = st.one_of(scalars, st.dictionaries(keys, scalars, max_size=3))


@given(actions=st.lists(st.dictionaries(names, arguments, min_size=0, max_size=2), max_size=3))
def test_the_schema_and_marshmallow_agree_on_any_action(actions):
    """Any action name, shorthand or mapping, any key: accepted by both or refused by both.

    (URLs are left out: JSON Schema's `format: uri` is not a check validators apply.)
    """
    flow = {"steps": {"a": actions}}
    assert (errors(flow) == []) == marshmallow_accepts(flow), errors(flow)
