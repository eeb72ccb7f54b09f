"""Read a YAML flow file into plain data, remembering where every key and value stands.

PyYAML's composer gives nodes with marks; walking them ourselves (rather than calling
``yaml.safe_load``) lets us refuse duplicate keys, which YAML would silently let the last
one win, and refuse tags that construct objects, while keeping a position for each path
so that schema errors can point at the exact line and column.
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


class _Walker:
    def __init__(self, loader: Any, source: Source) -> None:
        self.loader = loader
        self.source = source
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
                first = self.source.keys[(*path, key)]
                raise SourceError(
                    f"duplicate key '{key}' (first defined at line {first.line})",
                    _mark(key_node),
                )
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
        source.data = _Walker(loader, source).walk(node, ())
        return source
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        message = " ".join(part for part in (err.context, err.problem) if part)
        raise SourceError(f"YAML syntax: {message}", _mark(mark) if mark else Mark(1, 1)) from err
    except yaml.YAMLError as err:
        raise SourceError(f"YAML syntax: {err}", Mark(1, 1)) from err
    except RecursionError as err:
        # PyYAML composes nested collections recursively: refuse, never crash lint.
        raise SourceError("the file nests too deeply", _mark(loader.get_mark())) from err
    finally:
        loader.dispose()
