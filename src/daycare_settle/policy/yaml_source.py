"""Safe, strict and bounded YAML reading that remembers where every value stood.

Only the safe YAML subset is built: mappings, sequences and scalars, no Python object
tags, no ``<<`` merge keys; a key given twice in one mapping is an error; every value's
line is kept so that a schema error can be reported as ``file:line``.

Plain (unquoted) scalars are resolved strictly, not by YAML 1.1's loose rules:

- ``true`` / ``false`` are booleans (not ``yes``, ``on``, ``True`` …);
- ``null``, ``~`` and an empty value are null;
- plain decimal integers (``[-+]?(0|[1-9][0-9]*)``) are integers (not ``0x10``, ``0o7``,
  ``010``, ``1_000`` or base-60 ``24:00``);
- ``YYYY-MM-DD`` is a date (not ``2024-1-5``, not a timestamp with a time);
- anything else that YAML 1.1 or 1.2 would read as a boolean, number, null or timestamp is
  an error naming the line (floats are never allowed: money is a quoted string), and the
  rest is text. A quoted scalar is always text; an explicit tag other than ``!!str`` on a
  scalar is refused.

Loading is bounded: at most :data:`MAX_ALIASES` alias uses, at most
:data:`MAX_ALIAS_NODES` values built through aliases (a "billion laughs" file is refused
before it is expanded), nesting at most :data:`MAX_DEPTH` deep, no recursive alias. The
events come from libyaml (``yaml.CSafeLoader``) when it is installed, else from PyYAML's
pure-Python parser; both give the same result and the same errors.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import PolicyLoadError

Path = tuple[str | int, ...]

MAX_ALIASES = 100
"""The most alias uses (``*name``) one file may contain."""
MAX_ALIAS_NODES = 1_000_000
"""The most values one file may build through aliases (beyond those written out)."""
MAX_DEPTH = 200
"""The deepest nesting of mappings and sequences, counting expanded aliases."""

DEFAULT_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""The loader whose parser reads the events: libyaml's when installed."""

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_RESOLVER = yaml.resolver.Resolver()

_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_LOOSE_DATE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")
_NULL = {"null", "~", ""}
_BOOL = {"true": True, "false": False}
# YAML 1.2 core-schema forms that PyYAML's 1.1 resolver reads as text: refused as ambiguous.
_CORE_12 = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    r"|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|True|TRUE|False|FALSE|Null|NULL"
)
_MAX_INT_DIGITS = 30


@dataclass
class YamlDocument:
    """Plain data read from one file, with the line of every path in it.

    A document composed from several files (a region file on its frame) also records,
    in ``files``, the file each path came from, and a ``context`` naming the sources that
    every error message carries.
    """

    file: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    files: dict[Path, str] = field(default_factory=dict)
    context: str | None = None

    def _deepest(self, loc: tuple[str | int, ...]) -> Path:
        path: Path = ()
        for element in loc:
            candidate = (*path, element)
            if candidate in self.lines:
                path = candidate
        return path

    def line_of(self, loc: tuple[str | int, ...]) -> int | None:
        """The line of the deepest known path along ``loc`` (a pydantic error location;
        elements that are not keys of the file, such as union tags, are skipped)."""
        return self.lines.get(self._deepest(loc))

    def file_of(self, loc: tuple[str | int, ...]) -> str:
        """The file the deepest known path along ``loc`` came from."""
        return self.files.get(self._deepest(loc), self.file)

    def where(self, loc: tuple[str | int, ...]) -> str:
        """``line N``, or ``file:N`` where the path came from another file."""
        file, line = self.file_of(loc), self.line_of(loc)
        return f"line {line}" if file == self.file else f"{file}:{line}"

    def error(self, loc: tuple[str | int, ...], message: str) -> PolicyLoadError:
        if self.context:
            message = f"{message} [{self.context}]"
        return PolicyLoadError(self.file_of(loc), self.line_of(loc), message)


class _Node:
    """A composed node: ``kind`` is ``scalar``, ``map`` or ``seq``; ``tag`` is an explicit
    tag or ``None``; ``value`` the scalar text, or the list of children (key, value
    alternating for a mapping)."""

    __slots__ = ("kind", "line", "size", "style", "tag", "value")

    def __init__(self, kind: str, tag: str | None, value: Any, line: int, style: Any) -> None:
        self.kind = kind
        self.tag = tag
        self.value = value
        self.line = line
        self.style = style
        self.size = 1
        """The values this node builds, aliases expanded (known once the node is closed)."""


def decode_text(raw: bytes, file: str) -> str:
    """The UTF-8 text of a rule, frame, profile or catalogue file; a file that is not UTF-8
    is a :class:`PolicyLoadError` naming it."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyLoadError(file, None, f"not UTF-8 text ({exc.reason})") from None


def read_yaml(text: str, file: str, *, loader: type[Any] | None = None) -> YamlDocument:
    """Parse ``text`` safely; raise :class:`PolicyLoadError` with file:line on any problem.
    ``loader`` picks the parser (default :data:`DEFAULT_LOADER`)."""
    try:
        root = _compose(text, file, loader or DEFAULT_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise PolicyLoadError(file, line, f"not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise PolicyLoadError(file, None, f"not valid YAML: {exc}") from None
    if root is None:
        raise PolicyLoadError(file, None, "the file is empty")
    document = YamlDocument(file=file, data=None)
    builder = _Builder(document)
    try:
        document.data = builder.build(root, (), 0)
    except RecursionError:
        raise PolicyLoadError(file, None, "not valid YAML: nested too deeply") from None
    return document


def _explicit(tag: str | None) -> str | None:
    return None if tag is None or tag == "!" else tag


def _compose(text: str, file: str, loader: type[Any]) -> _Node | None:
    """The node tree of the single document in ``text``, composed without recursion from
    the parser's events (libyaml's own composer recurses and crashes on deep nesting)."""
    anchors: dict[str, _Node] = {}
    stack: list[_Node] = []
    root: _Node | None = None
    documents = 0
    aliases = 0
    written = 0  # nodes written out in the text

    def attach(node: _Node, anchor: str | None) -> None:
        nonlocal root
        if anchor is not None:
            anchors[anchor] = node
        if stack:
            stack[-1].value.append(node)
        else:
            root = node

    for event in yaml.parse(text, Loader=loader):
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise PolicyLoadError(file, line, "not valid YAML: more than one document")
        elif isinstance(event, yaml.ScalarEvent):
            written += 1
            tag = _STR if event.tag == "!" else event.tag  # "!": the non-specific tag, text
            node = _Node("scalar", tag, event.value, line, event.style or None)
            attach(node, event.anchor)
        elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise PolicyLoadError(
                    file, line, f"not valid YAML: nested more than {MAX_DEPTH} deep"
                )
            written += 1
            kind = "seq" if isinstance(event, yaml.SequenceStartEvent) else "map"
            node = _Node(kind, _explicit(event.tag), [], line, None)
            attach(node, event.anchor)
            stack.append(node)
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            closed = stack.pop()
            closed.size = 1 + sum(child.size for child in closed.value)
            if closed.size - written > MAX_ALIAS_NODES:
                raise PolicyLoadError(
                    file,
                    closed.line,
                    f"aliases expand to more than {MAX_ALIAS_NODES} values: the file is refused",
                )
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise PolicyLoadError(
                    file, line, f"more than {MAX_ALIASES} aliases: the file is refused"
                )
            target = anchors.get(event.anchor or "")
            if target is None:
                raise PolicyLoadError(file, line, f"alias *{event.anchor} names no anchor")
            if any(open_node is target for open_node in stack):
                raise PolicyLoadError(
                    file, line, f"alias *{event.anchor} refers to a node that contains it"
                )
            attach(target, None)
    return root


class _Builder:
    """Plain data from composed nodes, with lines, duplicate-key and tag checks, and the
    budget of values built through aliases."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.seen: set[int] = set()
        self.through_aliases = 0

    def _count(self, node: _Node) -> None:
        key = id(node)
        if key in self.seen:
            self.through_aliases += 1
            if self.through_aliases > MAX_ALIAS_NODES:
                raise PolicyLoadError(
                    self.doc.file,
                    node.line,
                    f"aliases expand to more than {MAX_ALIAS_NODES} values: the file is refused",
                )
        else:
            self.seen.add(key)

    def build(self, node: _Node, path: Path, depth: int) -> Any:
        doc = self.doc
        self._count(node)
        doc.lines.setdefault(path, node.line)
        if node.kind == "scalar":
            return self.scalar(node)
        if depth >= MAX_DEPTH:
            raise PolicyLoadError(
                doc.file, node.line, f"nested more than {MAX_DEPTH} deep (through aliases)"
            )
        if node.kind == "seq":
            self._collection_tag(node, _SEQ)
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        self._collection_tag(node, _MAP)
        result: dict[Any, Any] = {}
        first_seen: dict[Any, int] = {}
        items = node.value
        for index in range(0, len(items), 2):
            key_node, value_node = items[index], items[index + 1]
            key_line = key_node.line
            if key_node.kind != "scalar" or (
                key_node.tag is None and key_node.style is None and key_node.value == "<<"
            ):
                raise PolicyLoadError(doc.file, key_line, "only plain scalar keys are allowed")
            self._count(key_node)
            key = self.scalar(key_node)
            if isinstance(key, bool | dt.date) or key is None:
                raise PolicyLoadError(
                    doc.file, key_line, f"key {key!r} must be a string or integer"
                )
            if key in first_seen:
                raise PolicyLoadError(
                    doc.file,
                    key_line,
                    f"duplicate key {key!r} (first given on line {first_seen[key]})",
                )
            first_seen[key] = key_line
            doc.lines[(*path, key)] = key_line
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result

    def _collection_tag(self, node: _Node, standard: str) -> None:
        if node.tag is not None and node.tag != standard:
            raise PolicyLoadError(
                self.doc.file, node.line, f"tag {node.tag!r} is not allowed (safe YAML only)"
            )

    def scalar(self, node: _Node) -> Any:
        if node.tag is not None:
            if node.tag != _STR:
                raise PolicyLoadError(
                    self.doc.file,
                    node.line,
                    f"tag {node.tag!r} is not allowed (safe YAML only): write the value "
                    "plainly, or quote it for text",
                )
            return node.value
        if node.style is not None:  # quoted or block: text
            return node.value
        try:
            return resolve_plain(node.value)
        except ValueError as exc:
            raise PolicyLoadError(self.doc.file, node.line, str(exc)) from None


def resolve_plain(text: str) -> Any:
    """The value of a plain scalar, resolved strictly (see the module's docstring); raises
    :class:`ValueError` with a message for a form that is refused."""
    if text in _BOOL:
        return _BOOL[text]
    if text in _NULL:
        return None
    if _INT.fullmatch(text):
        if len(text.lstrip("+-")) > _MAX_INT_DIGITS:
            raise ValueError(f"integer {text[:20]}… is too large")
        return int(text)
    match = _DATE.fullmatch(text)
    if match:
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            raise ValueError(f"{text!r} is not a valid date") from None
    if _LOOSE_DATE.fullmatch(text):
        raise ValueError(f"{text!r} is not a date in ISO form YYYY-MM-DD (or quote it for text)")
    implicit: str = _RESOLVER.resolve(  # type: ignore[no-untyped-call]
        yaml.ScalarNode, text, (True, False)
    )
    kind = implicit.rsplit(":", 1)[-1]
    if (implicit == _STR and not _CORE_12.fullmatch(text)) or kind == "value":
        return text
    raise ValueError(_refusal(text, kind))


def _refusal(text: str, kind: str) -> str:
    """Why a plain scalar that YAML 1.1 or 1.2 reads as a non-text value is refused."""
    shown = text if len(text) <= 40 else text[:37] + "..."
    if kind == "merge":
        return "'<<' (a merge key) is not allowed"
    if kind == "bool" or text in ("True", "TRUE", "False", "FALSE"):
        return f"{shown!r} is not a boolean here: write true or false (or quote it for text)"
    if kind == "null" or text in ("Null", "NULL"):
        return f"{shown!r} is not null here: write null (or quote it for text)"
    if kind == "timestamp":
        return f"{shown!r} is not a date in ISO form YYYY-MM-DD (no time of day; quote it for text)"
    if kind == "int" or re.fullmatch(r"0o[0-7]+|0x[0-9a-fA-F]+", text):
        return (
            f"{shown!r} is not a plain decimal integer: write digits only, without leading "
            "zeros, underscores, 0x/0o/0b prefixes or colons (or quote it for text)"
        )
    return (
        f"{shown!r} is a floating-point number, which rule files do not allow: write "
        "amounts and decimal figures as quoted strings (or quote it for text)"
    )
