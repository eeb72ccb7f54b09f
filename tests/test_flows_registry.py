"""Loading a folder of flows: all or nothing, every problem listed, sorted."""

from __future__ import annotations

from pathlib import Path

import pytest

from toneflow.flows.problems import ERROR, FlowSetError, Problem
from toneflow.flows.registry import check_flow_dir, flow_files, load_flow_dir

PROJECT_FLOWS = Path(__file__).resolve().parent.parent / "flows"

GOOD = "steps:\n  a:\n    - hangup: {}\n"


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
    return folder


def test_shipped_flows_load():
    flow_set = load_flow_dir(PROJECT_FLOWS, max_digits=128)
    assert sorted(flow_set.flows) == ["appointment", "conference_pin", "dtmf_parties", "menu"]
    assert flow_set.get("menu").start == "greet"
    assert flow_set.get("nope") is None


def test_yaml_and_yml_are_both_read(tmp_path):
    folder = write(tmp_path / "flows", {"one.yaml": GOOD, "two.yml": GOOD})
    flow_set = load_flow_dir(folder, max_digits=128)
    assert sorted(flow_set.flows) == ["one", "two"]
    assert flow_set.flows["two"].path == str(folder / "two.yml")


def test_other_files_and_folders_are_ignored(tmp_path):
    folder = write(
        tmp_path / "flows",
        {
            "menu.yaml": GOOD,
            "README.md": "# not a flow: {{{",
            "notes.txt": "steps: [",
            "menu.yaml~": "editor backup: [",
            "menu.yaml.swp": b"\x00\xff",
            "menu.json": "{}",
            "nested/deep.yaml": "not: [valid",  # not recursive
        },
    )
    (folder / "dir.yaml").mkdir()  # a folder with a flow suffix is not a file
    assert [p.name for p in flow_files(folder)] == ["menu.yaml"]
    flow_set, problems = check_flow_dir(folder, max_digits=128)
    assert problems == []
    assert list(flow_set.flows) == ["menu"]


def test_one_broken_file_refuses_the_whole_set_and_lists_every_problem_sorted(tmp_path):
    folder = write(
        tmp_path / "flows",
        {
            "good.yaml": GOOD,
            "zeta.yaml": "steps:\n  a:\n    - speek: hi\n",
            "alpha.yaml": (
                "start: nowhere\n"
                "steps:\n"
                "  a:\n"
                "    - send_digits: '12x'\n"
                "    - redirect: gone\n"
                "  Bad:\n"
                "    - hangup: {}\n"
            ),
        },
    )
    with pytest.raises(FlowSetError) as caught:
        load_flow_dir(folder, max_digits=128)
    problems = caught.value.problems
    alpha, zeta = str(folder / "alpha.yaml"), str(folder / "zeta.yaml")
    assert [(p.file, p.line, p.column) for p in problems] == [
        (alpha, 1, 8),
        (alpha, 4, 23),  # the x itself
        (alpha, 5, 17),
        (alpha, 6, 3),
        (zeta, 3, 7),
    ]
    message = str(caught.value)
    assert message.startswith("5 error(s) in the flow files:\n")
    assert message.splitlines()[1:] == [str(p) for p in problems]
    assert all(p.severity == ERROR for p in problems)


def test_check_flow_dir_keeps_what_compiled(tmp_path):
    folder = write(tmp_path / "flows", {"good.yaml": GOOD, "bad.yaml": "steps: {}\n"})
    flow_set, problems = check_flow_dir(folder, max_digits=128)
    assert list(flow_set.flows) == ["good"]
    assert [(p.file, p.line, p.column) for p in problems] == [(str(folder / "bad.yaml"), 1, 8)]


def test_problems_sort_by_file_then_line_number_not_text(tmp_path):
    lines = "".join(f"  s{i}:\n    - speek: x\n" for i in range(12))
    folder = write(tmp_path / "flows", {"b.yaml": "steps:\n" + lines, "a.yaml": "steps: {}\n"})
    _, problems = check_flow_dir(folder, max_digits=128)
    assert problems == sorted(problems)
    assert problems[0].file == str(folder / "a.yaml")
    b_lines = [p.line for p in problems if p.file.endswith("b.yaml") and p.severity == ERROR]
    assert b_lines == [3 + 2 * i for i in range(12)]  # 3, 5, ... 25, not 11 before 3


def test_the_same_flow_name_twice_is_an_error(tmp_path):
    folder = write(tmp_path / "flows", {"menu.yaml": GOOD, "menu.yml": GOOD})
    with pytest.raises(FlowSetError) as caught:
        load_flow_dir(folder, max_digits=128)
    (problem,) = caught.value.problems
    assert problem.file == str(folder / "menu.yml")
    assert "flow 'menu' is also defined by" in problem.message
    assert str(folder / "menu.yaml") in problem.message


def test_invalid_file_name_is_an_error(tmp_path):
    folder = write(tmp_path / "flows", {"Main Menu.yaml": GOOD})
    with pytest.raises(FlowSetError) as caught:
        load_flow_dir(folder, max_digits=128)
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (1, 1)
    assert "'Main Menu' is not a valid flow name" in problem.message


def test_a_missing_folder_is_an_error(tmp_path):
    missing = tmp_path / "no-such-folder"
    flow_set, problems = check_flow_dir(missing, max_digits=128)
    assert flow_set.flows == {}
    assert problems == [Problem(str(missing), 1, 1, ERROR, "the flows folder does not exist")]
    with pytest.raises(FlowSetError, match="the flows folder does not exist"):
        load_flow_dir(missing, max_digits=128)


def test_an_empty_folder_is_an_empty_set(tmp_path):
    folder = write(tmp_path / "flows", {})
    assert load_flow_dir(folder, max_digits=128).flows == {}


def test_max_digits_reaches_every_file(tmp_path):
    folder = write(tmp_path / "flows", {"a.yaml": "steps:\n  a:\n    - send_digits: '12345'\n"})
    assert load_flow_dir(folder, max_digits=5).max_digits == 5
    with pytest.raises(FlowSetError, match="the limit is 4"):
        load_flow_dir(folder, max_digits=4)


def test_a_broken_file_does_not_crash_the_others(tmp_path):
    """Files that used to crash the loader (recursion) are reported like any other error."""
    folder = write(
        tmp_path / "flows",
        {"a.yaml": "steps: &s {a: *s}\n", "b.yaml": "x: " + "[" * 3000 + "]" * 3000 + "\n"},
    )
    with pytest.raises(FlowSetError) as caught:
        load_flow_dir(folder, max_digits=128)
    assert [p.message for p in caught.value.problems] == [
        "this value holds an alias to itself (a recursive alias)",
        "the file nests too deeply",
    ]
