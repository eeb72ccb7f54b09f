"""Read a YAML flow file into plain data, remembering where every key and value stands.

PyYAML's composer gives nodes with marks; walking them ourselves (rather than calling
``yaml.safe_load``) lets us report duplicate keys, where YAML would silently let the last
one win, and refuse tags that construct objects, while keeping a position for each path
so that schema errors can point at the exact line and column — down to one character of
a value, for a bad digit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

Path = tuple[str | int, ...]

#: Tags a flow file may use: plain data only. Anything else (``!!python/object``…) is refused.
PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
}
_NUMBER_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
#: Guards against alias expansion ("billion laughs"): far above any real flow.
MAX_NODES = 100_000
#: libyaml's parser (C, about ten times faster than PyYAML's own) when PyYAML was built
#: with it, as its wheels are. It gives the same nodes and marks; a file it refuses is
#: read again by PyYAML's own parser, whose messages are the ones authors are shown.
FAST_LOADER = getattr(yaml, "CSafeLoader", None)


class Mark(NamedTuple):
    """A 1-based position. A named tuple: one is made for every key and value of a file."""

    line: int
    column: int


class SourceError(Exception):
    """The file is not a plain YAML mapping we can read."""

    def __init__(self, message: str, mark: Mark) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


@dataclass
class Source:
    """Plain data plus the position of each value and each mapping key, by path."""

    data: Any
    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)
    #: Where the first character of a one-line scalar's text stands, for values whose
    #: text is written character for character (no escapes, no folding).
    texts: dict[Path, Mark] = field(default_factory=dict)
    #: The text of each number as written (``+15551234567``, ``0123``): YAML reads those
    #: as 15551234567 and 83, so a hint to quote them quotes what the author wrote.
    numbers: dict[Path, str] = field(default_factory=dict)
    #: Problems that do not stop reading the file (a duplicate key): message and mark.
    problems: list[tuple[str, Mark]] = field(default_factory=list)

    def char_mark(self, path: Path, position: int) -> Mark:
        """The position of character ``position`` (1-based) of the value at ``path``.

        Falls back to the value's own position when its text is not written verbatim
        (an escape, a block scalar, a value split over lines).
        """
        while path and path not in self.values:
            path = path[:-1]  # a shorthand (`send_digits: "12#"`) stands for its argument
        start = self.texts.get(path)
        if start is None:
            return self.mark_for(path)
        return Mark(start.line, start.column + position - 1)

    def mark_for(self, path: Path, *, at_key: bool = False) -> Mark:
        """The position of ``path``, or of its nearest ancestor that exists in the file."""
        while True:
            if at_key and path in self.keys:
                return self.keys[path]
            if path in self.values:
                return self.values[path]
            if not path:
                return Mark(1, 1)
            path = path[:-1]
            at_key = False


def _mark(node: yaml.Node | yaml.Mark) -> Mark:
    mark = node.start_mark if isinstance(node, yaml.Node) else node
    return Mark(mark.line + 1, mark.column + 1)


def _text_start(node: yaml.ScalarNode, text: str) -> Mark | None:
    """Where a scalar's text begins, when each character of the value is one in the file.

    Read from the file's text by the marks' character index: libyaml's marks carry no
    buffer of their own.
    """
    start, end = node.start_mark, node.end_mark
    if start.line != end.line:
        return None
    written = text[start.index : end.index]
    style = node.style or None  # a plain scalar: None from PyYAML, "" from libyaml
    quote = 1 if style in ("'", '"') else 0
    if style not in (None, "'", '"') or written[quote : len(written) - quote] != node.value:
        return None
    return Mark(start.line + 1, start.column + 1 + quote)


class _Walker:
    def __init__(self, loader: Any, source: Source, text: str) -> None:
        self.loader = loader
        self.source = source
        self.text = text
        self.count = 0
        #: Collections being walked: an alias to one of them would recurse forever.
        self.open: set[int] = set()

    def walk(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise SourceError(f"the file expands to more than {MAX_NODES} values", _mark(node))
        if id(node) in self.open:
            raise SourceError(
                "this value holds an alias to itself (a recursive alias)", _mark(node)
            )
        if node.tag not in PLAIN_TAGS:
            raise SourceError(
                f"YAML tag '{node.tag}' is not allowed: flow files hold plain data only",
                _mark(node),
            )
        self.source.values[path] = _mark(node)
        if isinstance(node, yaml.ScalarNode):
            text_start = _text_start(node, self.text)
            if text_start is not None:
                self.source.texts[path] = text_start
            if node.tag in _NUMBER_TAGS:
                self.source.numbers[path] = node.value
            return self.loader.construct_object(node)
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            return [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
        finally:
            self.open.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in PLAIN_TAGS:
                raise SourceError("mapping keys must be plain scalars", _mark(key_node))
            # The key as the author wrote it: `1:` and `"1":` are both the case "1".
            key = key_node.value
            if key in result:
                # Reported, and the first value kept, so the rest of the file is still
                # checked: the author gets every problem in one run.
                first = self.source.keys[(*path, key)]
                self.source.problems.append(
                    (f"duplicate key '{key}' (first defined at line {first.line})", _mark(key_node))
                )
                continue
            self.source.keys[(*path, key)] = _mark(key_node)
            result[key] = self.walk(value_node, (*path, key))
        return result


def read_source(text: str) -> Source:
    """Parse one YAML document; raise :class:`SourceError` with a position on any problem."""
    if FAST_LOADER is not None:
        try:
            return _read(text, FAST_LOADER)
        except SourceError:
            pass  # the same file, read again below for PyYAML's own words
    return _read(text, yaml.SafeLoader)


def _read(text: str, loader_class: Any) -> Source:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SourceError("the file is empty", Mark(1, 1))
        source = Source(data=None)
        source.data = _Walker(loader, source, text).walk(node, ())
        return source
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        context = err.context
        if context and err.context_mark and err.problem_mark:
            # "while scanning a quoted scalar" is about where that scalar began: say where.
            begun = _mark(err.context_mark)
            if begun.line != _mark(err.problem_mark).line:
                context = f"{context} (which began at line {begun.line}, column {begun.column})"
        message = " ".join(part for part in (context, err.problem) if part)
        raise SourceError(f"YAML syntax: {message}", _mark(mark) if mark else Mark(1, 1)) from err
    except yaml.YAMLError as err:
        raise SourceError(f"YAML syntax: {err}", Mark(1, 1)) from err
    except RecursionError as err:
        # PyYAML composes nested collections recursively: refuse, never crash lint.
        raise SourceError("the file nests too deeply", _mark(loader.get_mark())) from err
    finally:
        loader.dispose()
