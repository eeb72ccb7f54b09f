"""The ``toneflow`` command: its group, ``db`` and ``lint`` (``dtmf`` has its own tests)."""

from __future__ import annotations

import importlib
import json
import re
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from toneflow.cli import cli
from toneflow.flows.problems import WARNING, Problem
from toneflow.store import migrate, normalize_url

ROOT = Path(__file__).resolve().parent.parent
PROBLEM_LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning): (?P<message>.+)$"
)


pytestmark = pytest.mark.usefixtures("cli_env")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def problems_of(stdout: str) -> list[re.Match]:
    lines = stdout.splitlines()
    matches = [PROBLEM_LINE.match(line) for line in lines]
    assert all(matches), lines
    return matches


def write_flows(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text))
    return folder


# --- the group --------------------------------------------------------------------


def test_help_lists_every_command():
    result = invoke("--help")
    assert result.exit_code == 0
    commands = set(re.findall(r"^  (\w+)\s", result.stdout, flags=re.MULTILINE))
    from toneflow.cli import COMMANDS

    assert {*COMMANDS, "run", "shell", "routes"} <= commands


def test_db_help_lists_upgrade_and_current():
    result = invoke("db", "--help")
    assert result.exit_code == 0
    assert {"upgrade", "current"} <= set(re.findall(r"^  (\w+)\s", result.stdout, re.MULTILINE))


# --- db ---------------------------------------------------------------------------


def test_db_upgrade_creates_the_tables_and_current_prints_the_revision(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    before = invoke("db", "current")
    assert before.exit_code == 0
    assert before.stdout.strip() == "(empty database)"

    result = invoke("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"database is at revision {migrate.head()}"

    engine = sa.create_engine(normalize_url(database_url))
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"calls", "answers", "events", "alembic_version"} <= tables

    current = invoke("db", "current")
    assert current.exit_code == 0
    assert current.stdout.strip() == migrate.head()


def test_db_upgrade_twice_is_harmless(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert invoke("db", "upgrade").exit_code == 0
    again = invoke("db", "upgrade")
    assert again.exit_code == 0
    assert again.stdout.strip() == f"database is at revision {migrate.head()}"


def test_db_upgrade_creates_the_sqlite_folder(monkeypatch, tmp_path):
    database = tmp_path / "new" / "folder" / "calls.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    assert invoke("db", "upgrade").exit_code == 0
    assert database.exists()


# --- lint -------------------------------------------------------------------------


def test_lint_passes_the_shipped_flows():
    result = invoke("lint")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.strip() == "4 file(s) checked, 0 error(s)"


BROKEN = {
    "b.yaml": """\
        description: ten lines, so that line 10 sorts after line 9
        fallback: sory
        steps:
          a:
            - speak: hi
            - redirect: b
          b:
            - speak: ok
            - hangup: {}
          c: [{send_digits: "1X"}]
    """,
    "a.yaml": "steps: [\n",
    "c.yml": "steps:\n  a:\n    - speek: hello\n",
    "notes.txt": "not a flow: ignored",
}


def test_lint_reports_every_problem_sorted_and_exits_1(tmp_path):
    flows = write_flows(tmp_path / "broken", BROKEN)
    result = invoke("lint", str(flows))
    assert result.exit_code == 1
    found = problems_of(result.stdout)
    where = [(Path(m["file"]).name, int(m["line"]), int(m["column"])) for m in found]
    assert where == sorted(where)  # by file, then line and column as numbers
    assert where == [
        ("a.yaml", 2, 1),
        ("b.yaml", 2, 11),
        ("b.yaml", 10, 3),  # c is never reached
        ("b.yaml", 10, 23),  # the X itself
        ("c.yml", 3, 7),
    ]
    assert [m["severity"] for m in found] == ["error", "error", "warning", "error", "error"]
    assert all(m["file"] == str(flows / Path(m["file"]).name) for m in found)
    messages = [m["message"] for m in found]
    assert messages[0].startswith("YAML syntax")
    assert "'sory'" in messages[1]
    assert "step 'c' is never reached" in messages[2]
    assert "invalid DTMF character 'X' at position 2" in messages[3]
    assert "unknown action 'speek'" in messages[4]
    assert result.stderr.strip() == "3 file(s) checked, 4 error(s), 1 warning(s)"


def test_lint_reads_the_flows_dir_from_the_environment(monkeypatch, tmp_path):
    flows = write_flows(tmp_path / "env", {"c.yml": BROKEN["c.yml"]})
    monkeypatch.setenv("TONEFLOW_FLOWS_DIR", str(flows))
    result = invoke("lint")
    assert result.exit_code == 1
    assert [m["file"] for m in problems_of(result.stdout)] == [str(flows / "c.yml")]


def test_lint_takes_files_and_folders_together(tmp_path):
    broken = write_flows(tmp_path / "broken", BROKEN)
    result = invoke("lint", str(broken / "c.yml"), str(ROOT / "flows"), str(broken / "a.yaml"))
    assert result.exit_code == 1
    assert [Path(m["file"]).name for m in problems_of(result.stdout)] == ["a.yaml", "c.yml"]
    assert result.stderr.strip() == "6 file(s) checked, 2 error(s)"


def test_lint_of_a_clean_file_exits_0(tmp_path):
    flows = write_flows(tmp_path / "ok", {"ok.yaml": "steps:\n  s:\n    - hangup: {}\n"})
    result = invoke("lint", str(flows / "ok.yaml"))
    assert (result.exit_code, result.stdout) == (0, "")


def test_lint_of_a_missing_path_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["lint", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_lint_applies_max_digits_from_the_environment(monkeypatch, tmp_path):
    flows = write_flows(tmp_path / "f", {"five.yaml": 'steps:\n  s:\n    - send_digits: "12345"\n'})
    assert invoke("lint", str(flows)).exit_code == 0
    monkeypatch.setenv("TONEFLOW_MAX_DIGITS", "4")
    result = invoke("lint", str(flows))
    assert result.exit_code == 1
    [problem] = problems_of(result.stdout)
    assert (int(problem["line"]), int(problem["column"])) == (3, 20)
    assert "the limit is 4" in problem["message"]


@pytest.fixture
def one_warning(monkeypatch):
    """Make every folder lint with one warning and no error."""
    lint_module = importlib.import_module("toneflow.cli.lint")  # not the command of that name
    real = lint_module.check_flow_dir

    def with_warning(path, *, max_digits, **options):
        flow_set, problems = real(path, max_digits=max_digits, **options)
        return flow_set, [*problems, Problem(str(path / "w.yaml"), 1, 1, WARNING, "careful")]

    monkeypatch.setattr(lint_module, "check_flow_dir", with_warning)


def test_lint_exits_0_on_warnings_alone(one_warning):
    result = invoke("lint")
    assert result.exit_code == 0
    assert result.stdout.strip() == "flows/w.yaml:1:1: warning: careful"


def test_lint_strict_fails_on_warnings(one_warning):
    result = invoke("lint", "--strict")
    assert result.exit_code == 1
    assert result.stdout.strip() == "flows/w.yaml:1:1: warning: careful"


def test_lint_strict_passes_a_clean_set():
    assert invoke("lint", "--strict").exit_code == 0


def test_lint_json_lists_the_same_problems_as_the_text(tmp_path):
    flows = write_flows(tmp_path / "broken", BROKEN)
    text = invoke("lint", str(flows))
    result = invoke("lint", "--format", "json", str(flows))
    assert result.exit_code == 1
    listed = json.loads(result.stdout)
    assert [
        f"{p['file']}:{p['line']}:{p['column']}: {p['severity']}: {p['message']}" for p in listed
    ] == (text.stdout.splitlines())
    assert set(listed[0]) == {"file", "line", "column", "severity", "message"}
    assert isinstance(listed[0]["line"], int)
    assert result.stderr == text.stderr


def test_lint_json_of_a_clean_set_is_an_empty_list():
    result = invoke("lint", "--format", "json")
    assert (result.exit_code, json.loads(result.stdout)) == (0, [])


def test_lint_warnings_alone_exit_0_and_strict_makes_them_fail(tmp_path):
    flows = write_flows(tmp_path / "w", {"w.yaml": 'steps:\n  a:\n    - send_digits: "1w2"\n'})
    result = invoke("lint", str(flows))
    assert result.exit_code == 0
    [problem] = problems_of(result.stdout)
    assert (problem["severity"], problem["line"], problem["column"]) == ("warning", "3", "22")
    assert result.stderr.strip() == "1 file(s) checked, 0 error(s), 1 warning(s)"
    assert invoke("lint", "--strict", str(flows)).exit_code == 1


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("notasecret", "--secret: secret 1 must start with whsec_"),
        ("whsec_!!!", "--secret: secret 1 is not base64 after whsec_"),
        ("whsec_", "--secret: secret 1 has nothing after whsec_"),
    ],
)
def test_webhooks_sign_refuses_a_secret_start_up_would_refuse(secret, message):
    result = CliRunner().invoke(cli, ["webhooks", "sign", "{}", "--secret", secret])
    assert result.exit_code == 2
    assert message in result.output
    assert "webhook-signature" not in result.output


def test_webhooks_sign_with_a_bad_configured_secret_says_so_and_exits_2(monkeypatch):
    monkeypatch.setenv("TONEFLOW_WEBHOOK_SECRET", "notasecret")
    result = CliRunner().invoke(cli, ["webhooks", "sign", "{}"])
    assert result.exit_code == 2
    assert "TONEFLOW_WEBHOOK_SECRET: secret 1 must start with whsec_" in result.output
    assert "notasecret" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_webhooks_sign_for_an_answer_url_signs_method_path_and_query():
    from toneflow.signing import Verifier, answer_content

    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    url = "https://toneflow.example/answer/ozml/menu/main?CallId=c1&Digits=1"
    result = invoke("webhooks", "sign", "--secret", secret, "--url", url, "--method", "GET")
    headers = dict(line.split(": ", 1) for line in result.output.splitlines())
    content = answer_content("GET", b"/answer/ozml/menu/main", b"CallId=c1&Digits=1", b"")
    Verifier(secret).verify(content, headers)
    # Events are still signed over the body alone when no --url is given.
    event = invoke("webhooks", "sign", "--secret", secret, '{"a": 1}')
    Verifier(secret).verify(
        b'{"a": 1}', dict(line.split(": ", 1) for line in event.output.splitlines())
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "GET"], "--method signs an answer request: give --url too"),
        ([], "give the event BODY to sign"),
        (["--url", "/answer/ozml/menu", "--method", "GET", "body"], "a GET request has no body"),
        (["--url", "answer/ozml/menu"], "--url must be a URL or a path starting with /"),
    ],
)
def test_webhooks_sign_usage_mistakes_exit_2_saying_why(args, message):
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    result = CliRunner().invoke(cli, ["webhooks", "sign", "--secret", secret, *args])
    assert result.exit_code == 2
    assert message in result.output


def test_lint_imports_no_other_commands_dependencies():
    """Each command is imported when it runs: ``lint`` loads neither SQLAlchemy (the store)
    nor httpx (push), which cost a flow author's every lint about 0.6 s of CPU."""

    from support import PROJECT_FLOWS, python_prints

    script = (
        "import sys\n"
        "from toneflow.cli import main\n"
        f"sys.argv = ['toneflow', 'lint', {str(PROJECT_FLOWS)!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        "print(sorted(m for m in ('sqlalchemy', 'httpx', 'alembic') if m in sys.modules))\n"
    )
    assert python_prints(script) == "[]"
