"""A flow drawn as a graph: inline SVG laid out by Graphviz, with a call's path or a funnel.

The support pages run no script (their CSP forbids it) and fetch nothing at view time,
so the drawing is made on the server: DOT text built here, laid out by Graphviz's
``dot -Tsvg`` (Debian's ``graphviz`` package) in a subprocess with a timeout, and the SVG
it prints parsed and rebuilt from an allowlist of elements and attributes, so nothing
but shapes and text reaches the page (no script, no link, no event handler, no style).
Step names are checked by the flow schema, but case values and every label are user
text: each is written as a DOT string with its quotes and backslashes escaped, so DOT
cannot read it as markup or as one of its own escapes, and ``dot`` escapes it for XML.

Why a subprocess and not a binding: the maintained bindings (``graphviz`` on PyPI) also
call ``dot`` as a subprocess, and ``pygraphviz`` needs a C build against libgraphviz;
calling ``dot`` directly adds no dependency and keeps the timeout in our hands.
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import pairwise
from typing import Any

from toneflow.flows import model
from toneflow.flows.graph import flow_edges
from toneflow.present import visible

DOT = "dot"
#: Laying out a few hundred steps takes well under a second; a stuck ``dot`` must not
#: hold a worker thread.
DOT_TIMEOUT_S = 10
SVG_NS = "http://www.w3.org/2000/svg"
#: What a drawing may hold: Graphviz's shapes and text, nothing that runs or links.
ELEMENTS = frozenset({"svg", "g", "title", "path", "polygon", "polyline", "ellipse", "text"})
ATTRIBUTES = frozenset({
    "viewBox", "id", "class", "transform", "fill", "stroke", "stroke-width", "stroke-dasharray",
    "points", "d", "cx", "cy", "rx", "ry", "x", "y", "text-anchor", "font-family", "font-size",
    "font-weight",
})  # fmt: skip
#: The ``svg`` element keeps only its size (the stylesheet scales it down to fit).
SVG_SIZE = frozenset({"viewBox", "width", "height"})
LIT, FALLBACK, EDGE, MUTED = "#0b57d0", "#a4161a", "#5c6773", "#d5dae0"
EDGE_WORDS = {"next": "keys", "default": "default", "redirect": ""}


class DrawingUnavailable(RuntimeError):
    """Graphviz is missing, failed or took too long; the page says so instead of a graph."""


def draw_call(flow: model.Flow, path: Sequence[tuple[str, bool]]) -> str:
    """The flow with one call's path lit: steps numbered in the order it passed them, the
    edges it took in blue, a fallback it took in red, the step it ended on marked."""
    visits: dict[str, list[int]] = {}
    for number, (name, _) in enumerate(path, 1):
        visits.setdefault(name, []).append(number)
    taken = {(a, b): fell for (a, _), (b, fell) in pairwise(path)}
    end = path[-1][0] if path else None
    nodes = []
    for name, step in flow.steps.items():
        label = name
        if name in visits:
            label += "\n#" + ", #".join(map(str, visits[name]))
        if name == end:
            label += "\nended here"
        classes = ["step"] + (["lit"] if name in visits else []) + (["end"] if name == end else [])
        nodes.append(_node(flow, name, step, label, classes))
    edges = []
    for edge in flow_edges(flow):
        lit = (edge.source, edge.target) in taken and not taken[(edge.source, edge.target)]
        edges.append(_edge(edge.source, edge.target, _edge_label(edge), lit=lit))
    edges += [
        _edge(a, b, "fallback", lit=True, fallback=True) for (a, b), fell in taken.items() if fell
    ]
    return render_svg(_graph(flow, nodes, edges))


def draw_funnel(flow: model.Flow, funnel: Mapping[str, Any]) -> str:
    """The flow unlit, each step with the calls that reached and ended on it, each edge
    with the calls that went along it and their share; fallbacks taken in red."""
    steps = {step["step"]: step for step in funnel["steps"]}
    nodes = []
    for name, step in flow.steps.items():
        counts = steps.get(name, {"reached": 0, "ended": 0})
        label = f"{name}\nreached {counts['reached']} · ended {counts['ended']}"
        nodes.append(_node(flow, name, step, label, ["step"]))
    went = {
        (name, edge["to"], edge["fallback"]): edge
        for name, step in steps.items()
        for edge in step["edges"]
    }
    edges = []
    for edge in flow_edges(flow):
        counted = went.get((edge.source, edge.target, False))
        label = _edge_label(edge)
        if counted is not None:
            label = f"{label}\n{counted['calls']} ({counted['share']:.0%})".strip()
        edges.append(_edge(edge.source, edge.target, label, lit=False))
    known = {(e.source, e.target) for e in flow_edges(flow)}
    for (source, target, fell), counted in went.items():
        if fell or (source, target) not in known:
            label = f"{'fallback ' if fell else ''}{counted['calls']} ({counted['share']:.0%})"
            edges.append(_edge(source, target, label, lit=fell, fallback=fell))
    return render_svg(_graph(flow, nodes, edges))


def render_svg(dot_text: str) -> str:
    """``dot_text`` laid out as sanitised inline SVG markup (cached by its text)."""
    return _render(dot_text)


@lru_cache(maxsize=256)
def _render(dot_text: str) -> str:
    try:
        done = subprocess.run(
            [DOT, "-Tsvg"],
            input=dot_text.encode("utf-8"),
            capture_output=True,
            timeout=DOT_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError as err:
        raise DrawingUnavailable(
            "Graphviz's dot is not installed (apt-get install graphviz)"
        ) from err
    except subprocess.TimeoutExpired as err:
        raise DrawingUnavailable(f"Graphviz took longer than {DOT_TIMEOUT_S} s") from err
    if done.returncode != 0:
        message = visible(done.stderr.decode("utf-8", "replace").strip())[:300]
        raise DrawingUnavailable(f"Graphviz failed: {message}")
    return sanitise(done.stdout)


def sanitise(svg: bytes) -> str:
    """Graphviz's SVG rebuilt from the allowlist: unknown elements (with their content)
    and attributes are dropped; the ``svg`` element keeps only its size."""
    # expat fetches no DTD and expands no external entity; dot writes neither anyway.
    root = ET.fromstring(svg)
    clean = _copy(root)
    if clean is None:
        raise DrawingUnavailable("Graphviz wrote no SVG")
    clean.set("role", "img")
    ET.register_namespace("", SVG_NS)
    return ET.tostring(clean, encoding="unicode")


def _copy(element: ET.Element) -> ET.Element | None:
    tag = element.tag.removeprefix("{" + SVG_NS + "}")
    if tag not in ELEMENTS:
        return None
    copy = ET.Element(f"{{{SVG_NS}}}{tag}")
    for name, value in element.attrib.items():
        if _allowed(tag, name, value):
            # Graphviz sizes in points; as CSS pixels the drawing is 3/4 as large, its
            # 13 pt labels 13 px: readable, and a 40-step flow fits a page or two.
            copy.set(name, value.removesuffix("pt") if name in ("width", "height") else value)
    copy.text = element.text if tag in ("text", "title") else None
    for child in element:
        kept = _copy(child)
        if kept is not None:
            copy.append(kept)
        # Text after a dropped element is dropped with it.
        if kept is not None and tag in ("text", "title"):
            kept.tail = child.tail
    return copy


def _allowed(tag: str, name: str, value: str) -> bool:
    if tag == "svg":
        return name in SVG_SIZE and _is_size(value)
    return name in ATTRIBUTES


def _is_size(value: str) -> bool:
    """Graphviz's drawing sizes: ``268pt``, or a viewBox of four numbers."""
    return all(part.replace(".", "", 1).replace("-", "", 1).isdigit() for part in
               value.removesuffix("pt").split())  # fmt: skip


def quoted(text: str) -> str:
    """``text`` as one DOT string: quotes and backslashes escaped, hidden characters shown
    as escapes (:func:`~toneflow.present.visible`), newlines as DOT's centred line break."""
    shown = visible(text, lines=True).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + shown.replace("\n", "\\n") + '"'


def _node(flow: model.Flow, name: str, step: model.Step, label: str, classes: list[str]) -> str:
    attrs = {"id": f"step-{name}", "label": label}
    lit, end = "lit" in classes, "end" in classes
    if step.switch is not None:
        attrs["shape"] = "hexagon"
        classes.append("switch")
    if step.terminal:
        attrs["peripheries"] = "2"
    if name == flow.fallback:
        attrs["style"] = "dashed,filled"
        attrs["label"] += "\n(fallback)"
        classes.append("fallback")
    if name == flow.start:
        attrs["penwidth"] = "2"
        classes.append("start")
    attrs["fillcolor"] = "#fff3c4" if end else "#dce8fc" if lit else "#ffffff"
    attrs["color"] = LIT if lit else EDGE
    attrs["class"] = " ".join(classes)
    return f"{quoted(name)} [{_attrs(attrs)}]"


def _edge(source: str, target: str, label: str, *, lit: bool, fallback: bool = False) -> str:
    color = FALLBACK if fallback else LIT if lit else EDGE
    attrs = {
        "label": label,
        "color": color,
        "fontcolor": color,
        "penwidth": "2.5" if lit else "1",
        "class": " ".join(["edge", *(["lit"] if lit else []), *(["fallback"] if fallback else [])]),
    }
    if fallback:
        attrs["style"] = "dashed"
    return f"{quoted(source)} -> {quoted(target)} [{_attrs(attrs)}]"


def _edge_label(edge: Any) -> str:
    return f"'{edge.label}'" if edge.kind == "case" else EDGE_WORDS[edge.kind]


def _attrs(attrs: Mapping[str, str]) -> str:
    return ", ".join(f"{key}={quoted(value)}" for key, value in attrs.items())


def _graph(flow: model.Flow, nodes: Iterable[str], edges: Iterable[str]) -> str:
    return "\n".join(
        [
            "digraph flow {",
            '  graph [rankdir="TB", nodesep="0.3", ranksep="0.4", fontname="sans-serif"];',
            '  node [shape="box", style="rounded,filled", fontname="sans-serif", fontsize="13"];',
            '  edge [fontname="sans-serif", fontsize="11", arrowsize="0.7"];',
            *(f"  {line};" for line in (*nodes, *edges)),
            "}",
        ]
    )
