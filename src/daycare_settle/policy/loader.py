"""Load one rule file into a compiled :class:`Policy` (validated, catalogues read, hashed).

Errors name the file and line: schema errors (unknown or missing keys, wrong types),
duplicate keys, unsafe tags, a ``source`` naming no clause, a catalogue that is not declared.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import PolicyLoadError
from ..models.common import CodeSystem, Programme
from ..models.episode import Code
from ..models.settlement import Citation, PolicyRef
from .schema import CatalogueEntry, CatalogueFile, CatalogueHeader, Clause, ProgrammeRules, RuleFile
from .yaml_source import YamlDocument, read_yaml

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Catalogue:
    """A compiled catalogue: code prefixes and category ranges, matched in that order."""

    key: str
    header: CatalogueHeader
    file: str
    sha256: str
    entries: tuple[CatalogueEntry, ...]

    def match(self, code: Code) -> CatalogueEntry | None:
        """The entry ``code`` falls under, or ``None`` (a code of another system never matches)."""
        if code.system is not CodeSystem(self.header.system):
            return None
        text = normalise_code(code.code)
        for entry in self.entries:
            if entry.code is not None and text.startswith(normalise_code(entry.code)):
                return entry
            if entry.range is not None:
                low, high = (normalise_code(bound) for bound in entry.range)
                if low <= text[: len(low)] <= high:
                    return entry
        return None


def normalise_code(code: str) -> str:
    return code.strip().upper()


@dataclass(frozen=True)
class Policy:
    """A compiled policy: the validated rule file, its catalogues and its identity."""

    rules: RuleFile
    file: str
    sha256: str
    catalogues: Mapping[str, Catalogue] = field(default_factory=dict)
    _citations: dict[str, Citation] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """One :class:`Citation` per clause, made once: a citation is read for every charge."""

    @property
    def id(self) -> str:
        return self.rules.policy.id

    @property
    def ref(self) -> PolicyRef:
        header = self.rules.policy
        return PolicyRef(
            id=header.id, document=header.document, version=header.version, sha256=self.sha256
        )

    def in_force_on(self, day: dt.date) -> bool:
        header = self.rules.policy
        until = header.effective_until
        return header.effective_from <= day and (until is None or day <= until)

    def window_text(self) -> str:
        header = self.rules.policy
        return f"{header.effective_from} .. {header.effective_until or 'open'}"

    def clause(self, key: str | None) -> Clause | None:
        return None if key is None else self.rules.clauses[key]

    def citation(self, key: str | None) -> Citation | None:
        """The citation of a clause key (``None`` where the rule has no clause)."""
        if key is None:
            return None
        if key not in self._citations:
            clause = self.rules.clauses[key]
            self._citations[key] = Citation(
                document=clause.document or self.rules.policy.document, clause=clause.clause
            )
        return self._citations[key]

    def programme(self, programme: Programme) -> ProgrammeRules | None:
        return self.rules.programmes.get(programme)


def load_policy_file(path: str | Path) -> Policy:
    """Load and compile one rule file (cached by path, size and modification time)."""
    resolved = Path(path).resolve()
    try:
        stat = resolved.stat()
    except OSError as exc:
        raise PolicyLoadError(
            str(path), None, f"cannot read the rule file: {exc.strerror}"
        ) from None
    return _load_cached(str(resolved), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=128)
def _load_cached(path: str, _mtime_ns: int, _size: int) -> Policy:
    raw = _read_bytes(Path(path))
    document = read_yaml(_decode(raw, path), path)
    rules = validate_document(document, RuleFile)
    _check_references(document, rules)
    catalogues = {
        key: _load_catalogue(key, Path(path).parent / ref.file, document, ("catalogues", key))
        for key, ref in rules.catalogues.items()
    }
    return Policy(
        rules=rules, file=path, sha256=hashlib.sha256(raw).hexdigest(), catalogues=catalogues
    )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PolicyLoadError(str(path), None, f"cannot read: {exc.strerror}") from None


def _decode(raw: bytes, path: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyLoadError(path, None, f"not UTF-8 text ({exc.reason})") from None


def validate_document(document: YamlDocument, model: type[M]) -> M:
    """Validate plain YAML data against a schema model; errors carry file:line."""
    if not isinstance(document.data, dict):
        raise PolicyLoadError(document.file, 1, "the file must hold a mapping at the top level")
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        described = [f"{_loc_text(e['loc'])}: {_message(e)}" for e in errors[:1]]
        described += [
            f"line {document.line_of(e['loc'])}: {_loc_text(e['loc'])}: {_message(e)}"
            for e in errors[1:10]
        ]
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        raise document.error(first["loc"], "; ".join(described) + more) from None


def _loc_text(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key is missing"
    return str(error["msg"])


def _walk(
    data: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _walk(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _walk(value, (*path, index))


def _check_references(document: YamlDocument, rules: RuleFile) -> None:
    """Every ``source`` names a clause; every catalogue a rule uses is declared."""
    for path, node in _walk(document.data):
        if not isinstance(node, dict):
            continue
        source = node.get("source")
        if isinstance(source, str) and source not in rules.clauses:
            raise document.error(
                (*path, "source"), f"source {source!r} names no clause in 'clauses'"
            )
        catalogue = node.get("catalogue")
        if node.get("kind") == "catalogue_match" and catalogue not in rules.catalogues:
            raise document.error(
                (*path, "catalogue"), f"catalogue {catalogue!r} is not declared in 'catalogues'"
            )


def _load_catalogue(
    key: str, path: Path, owner: YamlDocument, loc: tuple[str | int, ...]
) -> Catalogue:
    if not path.is_file():
        raise owner.error((*loc, "file"), f"catalogue file {str(path)!r} does not exist")
    raw = _read_bytes(path)
    document = read_yaml(_decode(raw, str(path)), str(path))
    parsed = validate_document(document, CatalogueFile)
    return Catalogue(
        key=key,
        header=parsed.catalogue,
        file=str(path),
        sha256=hashlib.sha256(raw).hexdigest(),
        entries=parsed.entries,
    )
