"""Reading flow YAML: positions of keys and values, and what is refused before any schema."""

from __future__ import annotations

import time

import pytest

from toneflow.flows.source import MAX_NODES, Mark, SourceError, read_source


def refused(text: str) -> SourceError:
    with pytest.raises(SourceError) as caught:
        read_source(text)
    return caught.value


# --- positions ------------------------------------------------------------------------

POSITIONS = """\
description: hi
steps:
  a:
    - speak: hello
    - send_digits:
        digits: "12#"
        pause_before_ms: 500
"""


def test_reads_plain_data():
    source = read_source(POSITIONS)
    assert source.data == {
        "description": "hi",
        "steps": {
            "a": [
                {"speak": "hello"},
                {"send_digits": {"digits": "12#", "pause_before_ms": 500}},
            ]
        },
    }


@pytest.mark.parametrize(
    ("path", "line", "column"),
    [
        (("description",), 1, 1),
        (("steps",), 2, 1),
        (("steps", "a"), 3, 3),
        (("steps", "a", 0, "speak"), 4, 7),
        (("steps", "a", 1, "send_digits"), 5, 7),
        (("steps", "a", 1, "send_digits", "digits"), 6, 9),
        (("steps", "a", 1, "send_digits", "pause_before_ms"), 7, 9),
    ],
)
def test_key_positions_are_one_based(path, line, column):
    assert read_source(POSITIONS).keys[path] == Mark(line, column)


@pytest.mark.parametrize(
    ("path", "line", "column"),
    [
        ((), 1, 1),
        (("description",), 1, 14),
        (("steps",), 3, 3),  # the mapping starts at its first key
        (("steps", "a"), 4, 5),  # the sequence starts at its first "-"
        (("steps", "a", 0), 4, 7),
        (("steps", "a", 0, "speak"), 4, 14),
        (("steps", "a", 1, "send_digits"), 6, 9),
        (("steps", "a", 1, "send_digits", "digits"), 6, 17),  # the opening quote
        (("steps", "a", 1, "send_digits", "pause_before_ms"), 7, 26),
    ],
)
def test_value_positions_are_one_based(path, line, column):
    assert read_source(POSITIONS).values[path] == Mark(line, column)


def test_flow_style_positions():
    source = read_source('steps: {a: [{send_digits: {digits: "1", pause_before_ms: 5}}]}\n')
    path = ("steps", "a", 0, "send_digits")
    assert source.keys[(*path, "pause_before_ms")] == Mark(1, 41)
    assert source.values[(*path, "pause_before_ms")] == Mark(1, 58)
    assert source.values[(*path, "digits")] == Mark(1, 36)


def test_mark_for_falls_back_to_the_nearest_ancestor():
    source = read_source(POSITIONS)
    # A key that is not in the file (a missing required field) points at its parent value.
    assert source.mark_for(("steps", "a", 0, "speak", "text")) == Mark(4, 14)
    assert source.mark_for(("steps", "a", 0, "speak", "text"), at_key=True) == Mark(4, 14)
    assert source.mark_for(("nowhere", "at", "all")) == Mark(1, 1)
    assert source.mark_for(("steps", "a"), at_key=True) == Mark(3, 3)
    assert source.mark_for(("steps", "a")) == Mark(4, 5)


# --- keys -----------------------------------------------------------------------------


def test_numeric_and_quoted_keys_both_read_as_text():
    source = read_source('cases:\n  1: sales\n  "2": support\n  01: billing\n')
    assert source.data == {"cases": {"1": "sales", "2": "support", "01": "billing"}}
    # Keys are read as written: 01 is the two key presses "01", not the number 1.
    assert list(source.data["cases"]) == ["1", "2", "01"]


def duplicates(text: str) -> list[tuple[str, Mark]]:
    return read_source(text).problems


def test_duplicate_keys_are_reported_at_the_second_key_and_the_first_value_kept():
    text = "steps:\n  a:\n    - hangup: {}\n  b:\n    - hangup: {}\n  a:\n    - speak: x\n"
    source = read_source(text)
    assert source.problems == [("duplicate key 'a' (first defined at line 2)", Mark(6, 3))]
    assert source.data["steps"] == {"a": [{"hangup": {}}], "b": [{"hangup": {}}]}


def test_duplicate_keys_deep_inside_an_action():
    text = "steps:\n  a:\n    - send_digits:\n        digits: '1'\n        digits: '2'\n"
    assert duplicates(text) == [("duplicate key 'digits' (first defined at line 4)", Mark(5, 9))]


def test_number_and_quoted_number_are_the_same_key():
    assert duplicates('cases:\n  1: sales\n  "1": support\n') == [
        ("duplicate key '1' (first defined at line 2)", Mark(3, 3))
    ]


def test_every_duplicate_key_is_reported():
    assert [mark for _, mark in duplicates("a: 1\na: 2\nb: {x: 1, x: 2}\na: 3\n")] == [
        Mark(2, 1),
        Mark(3, 11),
        Mark(4, 1),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("d: 12X4\n", Mark(1, 6)),  # plain
        ("d: '12X4'\n", Mark(1, 7)),  # quoted: one past the quote
        ('d: "12X4"\n', Mark(1, 7)),
        ("x:\n  - {d: 12X4}\n", Mark(2, 11)),  # flow style
    ],
)
def test_char_mark_points_at_the_character(text, expected):
    assert read_source(text).char_mark(("d",) if text.startswith("d") else ("x", 0, "d"), 3) == (
        expected
    )


@pytest.mark.parametrize(
    "text",
    [
        'd: "1\\x32X4"\n',  # an escape: characters and columns differ
        "d: |\n  12X4\n",  # a block scalar
        "d: 12\n  X4\n",  # folded over two lines
    ],
)
def test_char_mark_falls_back_to_the_value_when_text_is_not_verbatim(text):
    source = read_source(text)
    assert source.char_mark(("d",), 3) == source.values[("d",)]


def test_char_mark_of_a_shorthand_argument_uses_its_action_value():
    source = read_source('- send_digits: "12X"\n')
    assert source.char_mark((0, "send_digits", "digits"), 3) == Mark(1, 19)


def test_same_key_in_different_mappings_is_fine():
    source = read_source("a: {x: 1}\nb: {x: 2}\n")
    assert source.data == {"a": {"x": 1}, "b": {"x": 2}}


def test_keys_must_be_plain_scalars():
    error = refused("steps:\n  ? [a, b]\n  : x\n")
    assert error.message == "mapping keys must be plain scalars"
    assert error.mark == Mark(2, 5)


# --- tags -----------------------------------------------------------------------------


def test_os_system_tag_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    text = f"steps: !!python/object/apply:os.system ['touch {marker}']\n"
    error = refused(text)
    assert "tag:yaml.org,2002:python/object/apply:os.system" in error.message
    assert "not allowed" in error.message
    assert error.mark == Mark(1, 8)
    assert not marker.exists()


@pytest.mark.parametrize(
    "value",
    [
        "!!python/object/apply:subprocess.check_output [['touch', '{marker}']]",
        "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
        "!!python/name:os.system",
        "!!python/module:os",
        "!!python/object:collections.OrderedDict {}",
        "!!binary aGVsbG8=",
        "!!set {a, b}",
        "!!omap [a: 1]",
        "!custom value",
    ],
)
def test_object_and_unknown_tags_are_refused(tmp_path, value):
    marker = tmp_path / "pwned"
    error = refused("steps:\n  a:\n    - speak: " + value.replace("{marker}", str(marker)) + "\n")
    assert "is not allowed: flow files hold plain data only" in error.message
    assert error.mark == Mark(3, 14)
    assert not marker.exists()


def test_object_tag_on_a_key_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    error = refused(f"? !!python/object/apply:os.system ['touch {marker}']\n: x\n")
    assert error.message == "mapping keys must be plain scalars"
    assert not marker.exists()


def test_explicit_plain_tags_are_allowed():
    source = read_source("a: !!str 123\nb: !!int '7'\nc: !!null ''\n")
    assert source.data == {"a": "123", "b": 7, "c": None}


# --- YAML syntax and empty files --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column", "problem"),
    [
        ("steps:\n  a: [\n", 3, 1, "expected the node content"),
        ("a: b: c\n", 1, 5, "mapping values are not allowed here"),
        ("steps:\n\ta: x\n", 2, 1, "found character '\\t' that cannot start any token"),
        ('steps:\n  a:\n    - speak: "hi\n', 4, 1, "found unexpected end of stream"),
        ("steps:\n  a:\n  - x\n - y\n", 4, 2, "expected <block end>"),
        ("a: 1\n---\nb: 2\n", 2, 1, "expected a single document"),
    ],
)
def test_yaml_syntax_errors_carry_their_mark(text, line, column, problem):
    error = refused(text)
    assert error.message.startswith("YAML syntax: ")
    assert problem in error.message
    assert error.mark == Mark(line, column)


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n"])
def test_empty_file(text):
    error = refused(text)
    assert error.message == "the file is empty"
    assert error.mark == Mark(1, 1)


def test_byte_order_mark_is_not_part_of_the_first_key():
    assert read_source("\ufeffsteps: {}\n").data == {"steps": {}}


# --- expansion --------------------------------------------------------------------------


def billion_laughs(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*l{level - 1}"] * 10)
        lines.append(f"l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_quickly():
    started = time.perf_counter()
    error = refused(billion_laughs())
    assert error.message == f"the file expands to more than {MAX_NODES} values"
    assert time.perf_counter() - started < 10


def test_small_aliases_are_fine():
    source = read_source("a: &x [1, 2]\nb: *x\nc: *x\n")
    assert source.data == {"a": [1, 2], "b": [1, 2], "c": [1, 2]}


@pytest.mark.parametrize(
    ("text", "mark"),
    [("a: &x [*x]\n", Mark(1, 4)), ("steps: &s {a: {b: *s}}\n", Mark(1, 8))],
)
def test_recursive_alias_is_refused_not_a_crash(text, mark):
    error = refused(text)
    assert error.message == "this value holds an alias to itself (a recursive alias)"
    assert error.mark == mark


def test_deep_nesting_is_refused_not_a_crash():
    depth = 5000
    error = refused("steps:\n  a: " + "[" * depth + "]" * depth + "\n")
    assert error.message == "the file nests too deeply"
    assert error.mark.line == 2
