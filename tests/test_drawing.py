"""The flow drawn as inline SVG by Graphviz: lit paths, fallbacks, sanitised output."""

from __future__ import annotations

import shutil
import textwrap
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toneflow import drawing
from toneflow.drawing import DrawingUnavailable, draw_call, draw_funnel, quoted, sanitise
from toneflow.flows.compile import compile_file
from toneflow.flows.graph import flow_edges

if shutil.which("dot") is None:
    pytest.skip("Graphviz is not installed (apt-get install graphviz)", allow_module_level=True)

NS = {"svg": drawing.SVG_NS}


def compiled(tmp_path, text: str, name: str = "f"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    flow, problems = compile_file(path, max_digits=128)
    assert flow is not None, problems
    return flow


MENU = """
    start: menu
    fallback: bye
    steps:
      menu:
        - collect_digits: {max_digits: 1, timeout_ms: 5000, next: route}
      route:
        switch: "{{ input.digits }}"
        cases: {"1": sales, "<b>\\"x\\\\n": sales}
        default: bye
      sales:
        - transfer: {to: "+15551230010"}
      bye:
        - hangup: {}
"""


def nodes(svg: str) -> dict[str, set[str]]:
    root = ET.fromstring(svg)
    return {
        g.find("svg:title", NS).text: set(g.get("class").split())
        for g in root.iter(f"{{{drawing.SVG_NS}}}g")
        if "node" in (g.get("class") or "")
    }


def test_the_flow_edges_are_every_redirect_next_case_and_default(tmp_path):
    flow = compiled(tmp_path, MENU)
    assert [(e.source, e.target, e.kind) for e in flow_edges(flow)] == [
        ("menu", "route", "next"),
        ("route", "sales", "case"),
        ("route", "sales", "case"),
        ("route", "bye", "default"),
    ]


def test_a_calls_path_is_lit_and_its_end_marked(tmp_path):
    flow = compiled(tmp_path, MENU)
    svg = draw_call(flow, [("menu", False), ("route", False), ("bye", False)])
    shown = nodes(svg)
    assert {name for name, classes in shown.items() if "lit" in classes} == {"menu", "route", "bye"}
    assert "end" in shown["bye"] and "end" not in shown["menu"]
    assert "fallback" in shown["bye"] and "start" in shown["menu"]


def test_a_fallback_taken_is_a_red_edge(tmp_path):
    flow = compiled(tmp_path, MENU)
    svg = draw_call(flow, [("menu", False), ("route", False), ("sales", False), ("bye", True)])
    root = ET.fromstring(svg)
    edges = [g for g in root.iter(f"{{{drawing.SVG_NS}}}g") if "fallback" in (g.get("class") or "")]
    [edge] = [g for g in edges if "edge" in g.get("class")]
    assert edge.find("svg:title", NS).text == "sales->bye"
    assert edge.find("svg:path", NS).get("stroke") == drawing.FALLBACK


def test_labels_are_escaped_and_nothing_but_shapes_and_text_reach_the_page(tmp_path):
    flow = compiled(tmp_path, MENU)
    svg = draw_funnel(flow, {"steps": []})
    assert "<b>" not in svg and "&lt;b&gt;" in svg  # the case value as text
    root = ET.fromstring(svg)
    tags = {element.tag.split("}")[1] for element in root.iter()}
    assert tags <= drawing.ELEMENTS
    assert not [a for e in root.iter() for a in e.attrib if a.startswith("on") or "href" in a]


def test_sanitise_drops_scripts_links_and_handlers():
    hostile = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink"'
        b' viewBox="0 0 1 1" onload="alert(1)" width="9pt"><script>alert(2)</script>'
        b'<g onclick="alert(3)" class="node"><a x:href="javascript:alert(4)"><text>t</text></a>'
        b'<foreignObject><div>x</div></foreignObject><text style="x">ok</text></g></svg>'
    )
    clean = sanitise(hostile)
    assert "alert" not in clean and "script" not in clean and "href" not in clean
    assert "style" not in clean and 'width="9"' in clean and ">ok<" in clean
    assert "width" not in sanitise(hostile.replace(b'"9pt"', b'"calc(1)"'))


@given(text=st.text(max_size=40))
@settings(max_examples=50, deadline=None)
def test_any_label_text_is_one_dot_string(text):
    """Whatever a label holds, DOT reads it as one string and dot prints it as text."""
    svg = drawing.render_svg(f"digraph g {{ a [label={quoted(text)}]; }}")
    root = ET.fromstring(svg)
    assert [g.find("svg:title", NS).text for g in root.iter(f"{{{drawing.SVG_NS}}}g")
            if g.get("class") == "node"] == ["a"]  # fmt: skip


def test_a_40_step_flow_draws(tmp_path):
    steps = "\n".join(
        f"  s{n:02d}:\n    - collect_digits: {{max_digits: 1, timeout_ms: 3000,"
        f" next: s{n + 1:02d}}}"
        for n in range(39)
    )
    flow = compiled(tmp_path, f"steps:\n{steps}\n  s39:\n    - hangup: {{}}\n")
    path = [(f"s{n:02d}", False) for n in range(40)]
    assert len(nodes(draw_call(flow, path))) == 40


def test_a_missing_or_stuck_dot_is_said_not_raised(monkeypatch):
    drawing._render.cache_clear()
    monkeypatch.setattr(drawing, "DOT", "/nonexistent/dot")
    with pytest.raises(DrawingUnavailable, match="not installed"):
        drawing.render_svg("digraph g { a; }")
    drawing._render.cache_clear()
