"""The funnel (issue 14, part 5): counted exactly from call paths, the same numbers in the
API, the CLI and the flow page."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from test_support_why import complete, menu_call
from test_web_support import sign_in, staff  # noqa: F401  (the signed-in client fixture)

from toneflow.cli import cli
from toneflow.funnel import count_funnel, path_part, path_steps

STEPS = st.sampled_from(["a", "b", "c", "d"])
PATHS = st.lists(st.tuples(STEPS, st.booleans()), max_size=8).map(
    lambda steps: " ".join(("!" if fell else "") + name for name, fell in steps) or None
)
ROWS = st.lists(
    st.tuples(PATHS, st.sampled_from(["finished", "abandoned", None]), st.integers(1, 5)),
    max_size=12,
)


def test_a_fallback_step_is_marked_in_the_path():
    assert path_part(["route", "sales", "goodbye"], "sales") == "route sales !goodbye"
    assert path_part(["menu"], None) == "menu"
    assert path_steps("connect !sorry") == [("connect", False), ("sorry", True)]


@given(rows=ROWS)
def test_counts_are_exact_whatever_the_paths(rows):
    """Each call once per step it reached and once per edge it took; its end is its last."""
    funnel = count_funnel(rows, order=["a", "b"])
    assert funnel["calls"] == sum(n for _, _, n in rows)
    by_step = {step["step"]: step for step in funnel["steps"]}
    assert [s["step"] for s in funnel["steps"]][:2] == ["a", "b"]  # every step of the file
    for name, step in by_step.items():
        paths = [(path_steps(p), n) for p, _, n in rows]
        assert step["reached"] == sum(n for steps, n in paths if name in {s for s, _ in steps})
        assert step["ended"] == sum(n for steps, n in paths if steps and steps[-1][0] == name)
        assert sum(step["ended_by_outcome"].values()) == step["ended"]
        for edge in step["edges"]:
            assert edge["calls"] <= step["reached"]
            assert edge["share"] == round(edge["calls"] / step["reached"], 4)


def calls_through_the_menu(client) -> None:
    """Six calls: two press 1 (sales), one 2, one 5 (default), one hangs up in the menu,
    one presses 0 then 2 (a loop)."""
    for call_id, digits in (("s1", "1"), ("s2", "1"), ("p1", "2"), ("d1", "5")):
        menu_call(client, call_id, digits)
        complete(client, call_id)
    for step in ("", "/menu"):
        client.get(f"/answer/minivoice/menu{step}?call_id=h1")
    complete(client, "h1")
    menu_call(client, "l1", "0")
    client.post("/answer/ozml/menu/route", data={"CallId": "l1", "DtmfDigits": "2"})


def test_the_funnel_counts_each_step_and_edge(client):
    calls_through_the_menu(client)
    funnel = client.get("/api/flows/menu/funnel").json
    assert funnel["calls"] == 6
    steps = {step["step"]: step for step in funnel["steps"]}
    assert list(steps) == ["greet", "menu", "route", "sales", "support", "goodbye"]
    assert steps["greet"]["reached"] == 6
    assert steps["menu"]["ended_by_outcome"] == {"abandoned": 1}
    assert steps["route"]["reached"] == 5
    assert {(e["to"], e["calls"]) for e in steps["route"]["edges"]} == {
        ("sales", 2), ("support", 2), ("goodbye", 1), ("menu", 1),
    }  # fmt: skip
    assert steps["sales"]["ended_by_outcome"] == {"transferred": 2}
    assert steps["support"]["ended"] == 2
    assert steps["goodbye"]["ended_by_outcome"] == {"finished": 1}
    share = next(e for e in steps["menu"]["edges"] if e["to"] == "route")["share"]
    assert share == round(5 / 6, 4)


def test_the_funnel_window_and_version_filter(client):
    calls_through_the_menu(client)
    version = client.get("/api/calls/s1").json["flow_version"]
    assert client.get(f"/api/flows/menu/funnel?version={version}").json["calls"] == 6
    assert client.get("/api/flows/menu/funnel?version=other").json["calls"] == 0
    assert client.get("/api/flows/menu/funnel?until=2000-01-01").json["calls"] == 0
    bad = client.get("/api/flows/menu/funnel?since=yesterday")
    assert bad.status_code == 400
    assert "since" in bad.json["error"]["message"]
    assert client.get("/api/flows/nope/funnel").status_code == 404
    assert client.get("/api/flows/menu/funnel", headers={"Authorization": ""}).status_code == 401


def test_the_funnel_is_described_in_openapi(client):
    spec = client.get("/openapi.json").json
    operation = spec["paths"]["/api/flows/{flow}/funnel"]["get"]
    assert operation["security"] == [{"bearer": []}]
    assert {p["name"] for p in operation["parameters"]} == {"flow", "since", "until", "version"}
    assert "Funnel" in spec["components"]["schemas"]


def test_the_cli_and_the_page_show_the_apis_numbers(client, staff, command_engine):  # noqa: F811
    calls_through_the_menu(client)
    api = client.get("/api/flows/menu/funnel?since=2000-01-01&until=2100-01-01").json
    result = CliRunner().invoke(
        cli, ["calls", "funnel", "menu", "--since", "2000-01-01", "--until", "2100-01-01", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == api
    table = CliRunner().invoke(cli, ["calls", "funnel", "menu"]).output
    assert re.search(r"^route\s+5\s+0 ", table, re.MULTILINE)
    sign_in(staff)
    page = staff.get("/support/flows/menu?since=2000-01-01&until=2099-12-31").get_data(as_text=True)
    for step in api["steps"]:
        row = re.search(rf'<tr data-step="{step["step"]}">(.*?)</tr>', page, re.DOTALL).group(1)
        assert f'<td class="reached">{step["reached"]}</td>' in row
        assert f'<td class="ended">{step["ended"]}</td>' in row


@pytest.mark.parametrize("args", [["--since", "nope"], ["--version", ""]])
def test_the_cli_names_a_bad_option(command_engine, args):
    result = CliRunner().invoke(cli, ["calls", "funnel", "menu", *args])
    assert result.exit_code == 2
    assert args[0].strip("-") in result.output


def test_a_path_too_long_to_keep_is_cut_once_and_counted_as_truncated(engine):
    from datetime import timedelta

    from store_support import T0, record_answer, served

    from toneflow.funnel import PATH_MAX
    from toneflow.store import CallLog
    from toneflow.store.tables import calls

    step = "s" + "x" * 63  # the longest step name: 31 of them fill a path
    for n in range(40):
        at = T0 + timedelta(seconds=n)
        record_answer(engine, served(step, call_id="long1", flow="loop", at=at))
    with engine.connect() as conn:
        path = conn.execute(calls.select().where(calls.c.call_id == "long1")).one().path
    assert len(path) <= PATH_MAX
    assert path.endswith(f"{step} +") and path.count("+") == 1
    funnel = CallLog(engine).funnel(
        "loop", since=T0 - timedelta(days=1), until=T0 + timedelta(days=1)
    )
    assert (funnel["calls"], funnel["truncated"]) == (1, 1)
    assert funnel["steps"][0]["reached"] == 1


def test_the_flow_pages_list_every_flow_and_refuse_an_unknown_one(staff):  # noqa: F811
    sign_in(staff)
    listing = staff.get("/support/flows/").get_data(as_text=True)
    assert (
        'href="/support/flows/menu"' in listing and 'href="/support/flows/appointment"' in listing
    )
    missing = staff.get("/support/flows/nope")
    assert missing.status_code == 404
    assert "no flow named" in missing.get_data(as_text=True)
    bad = staff.get("/support/flows/menu?since=nope")
    assert bad.status_code == 400 and "since" in bad.get_data(as_text=True)
    assert (
        staff.get("/support/flows/menu")
        .headers["Content-Security-Policy"]
        .startswith("default-src 'none'")
    )
