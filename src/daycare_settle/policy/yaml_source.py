"""Safe YAML reading that remembers where every value stood.

Only the safe YAML subset is constructed (no Python object tags, no anchors merged with
``<<``); a key given twice in one mapping is an error; every value's line is kept so that
a schema error can be reported as ``file:line``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import PolicyLoadError

Path = tuple[str | int, ...]

_STANDARD_TAGS = {
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


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


def read_yaml(text: str, file: str) -> YamlDocument:
    """Parse ``text`` safely; raise :class:`PolicyLoadError` with file:line on any problem."""
    try:
        return _read_yaml(text, file)
    except RecursionError:
        raise PolicyLoadError(file, None, "not valid YAML: nested too deeply") from None


def _read_yaml(text: str, file: str) -> YamlDocument:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise PolicyLoadError(file, line, f"not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise PolicyLoadError(file, None, f"not valid YAML: {exc}") from None
    document = YamlDocument(file=file, data=None)
    if node is None:
        raise PolicyLoadError(file, None, "the file is empty")
    constructor = yaml.SafeLoader("")
    document.data = _build(node, (), document, constructor)
    return document


def _build(node: yaml.Node, path: Path, doc: YamlDocument, constructor: yaml.SafeLoader) -> Any:
    line = node.start_mark.line + 1
    doc.lines.setdefault(path, line)
    if node.tag not in _STANDARD_TAGS:
        raise PolicyLoadError(doc.file, line, f"tag {node.tag!r} is not allowed (safe YAML only)")
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if (
                not isinstance(key_node, yaml.ScalarNode)
                or key_node.tag == "tag:yaml.org,2002:merge"
            ):
                raise PolicyLoadError(doc.file, key_line, "only plain scalar keys are allowed")
            key = _scalar(key_node, doc, constructor)
            if isinstance(key, bool | float) or key is None:
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
            result[key] = _build(value_node, (*path, key), doc, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), doc, constructor) for i, item in enumerate(node.value)]
    return _scalar(node, doc, constructor)


def _scalar(node: yaml.Node, doc: YamlDocument, constructor: yaml.SafeLoader) -> Any:
    try:
        return constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError) as exc:
        raise PolicyLoadError(doc.file, node.start_mark.line + 1, f"bad value: {exc}") from None
