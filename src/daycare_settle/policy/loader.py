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
from typing import Any

from ..errors import PolicyLoadError
from ..models.common import CodeSystem, Programme
from ..models.episode import Code
from ..models.settlement import Citation, PolicyRef
from .compose import compose
from .disease_table import DiseaseTable
from .schema import (
    CatalogueEntry,
    CatalogueFile,
    CatalogueHeader,
    Clause,
    DiseaseMapped,
    DiseaseTableFile,
    PerDisease,
    ProgrammeRules,
    RuleFile,
    fee_schedule_gaps,
)
from .validation import validate_document
from .yaml_source import YamlDocument, read_yaml


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
    disease_tables: Mapping[str, DiseaseTable] = field(default_factory=dict)
    frames: tuple[PolicyRef, ...] = ()
    """The frames this rule file composes with (``extends:``), with their hashes."""
    overrides: tuple[tuple[str, str], ...] = ()
    """Frame values the rule file overrides explicitly: (dotted path, reason)."""
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
            id=header.id,
            document=header.document,
            version=header.version,
            sha256=self.sha256,
            frames=self.frames,
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
    document, frame = compose(read_yaml(_decode(raw, path), path))
    rules = validate_document(document, RuleFile)
    _check_references(document, rules)
    _check_fee_schedules(document, rules)
    catalogues: dict[str, Catalogue] = {}
    tables: dict[str, DiseaseTable] = {}
    for key, ref in rules.catalogues.items():
        loc = ("catalogues", key, "file")
        file = Path(document.file_of(loc)).parent / ref.file
        loaded = _load_catalogue(key, file, document, loc)
        if isinstance(loaded, DiseaseTable):
            tables[key] = loaded
        else:
            catalogues[key] = loaded
    _check_kinds(document, rules, catalogues, tables)
    return Policy(
        rules=rules,
        file=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        catalogues=catalogues,
        disease_tables=tables,
        frames=() if frame is None else (frame.ref,),
        overrides=() if frame is None else frame.overrides,
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
    """Every ``source`` (and the header's ``scope``) names a clause; a national-definition
    names a clause of its national document; every catalogue a rule uses is declared."""
    if rules.policy.scope not in rules.clauses:
        raise document.error(
            ("policy", "scope"), f"scope {rules.policy.scope!r} names no clause in 'clauses'"
        )
    for path, node in _walk(document.data):
        if not isinstance(node, dict):
            continue
        source = node.get("source")
        if isinstance(source, str) and source not in rules.clauses:
            raise document.error(
                (*path, "source"), f"source {source!r} names no clause in 'clauses'"
            )
        if node.get("provenance") == "national-definition":
            clause = rules.clauses[source] if isinstance(source, str) else None
            if clause is None or clause.document is None:
                raise document.error(
                    (*path, "source"),
                    f"provenance national-definition cites {source!r}, which names no "
                    "national document: give the clause of that document (with its "
                    "'document') as the source, or label the value local-parameter",
                )
        catalogue = node.get("catalogue")
        if node.get("kind") == "catalogue_match" and catalogue not in rules.catalogues:
            raise document.error(
                (*path, "catalogue"), f"catalogue {catalogue!r} is not declared in 'catalogues'"
            )
        table = node.get("table")
        if node.get("kind") in ("disease_mapped", "per_disease") and table not in rules.catalogues:
            raise document.error(
                (*path, "table"), f"disease table {table!r} is not declared in 'catalogues'"
            )


def _check_kinds(
    document: YamlDocument,
    rules: RuleFile,
    catalogues: Mapping[str, Catalogue],
    tables: Mapping[str, DiseaseTable],
) -> None:
    """Code catalogues and disease tables are used where their kind fits; every row of a
    table paid ``per_disease`` cites a reference its category allows, and per-bed-day rows
    have a bed-day count."""
    for name, programme in rules.programmes.items():
        at = ("programmes", name.value)
        for index, rule in enumerate(programme.eligibility):
            if isinstance(rule, DiseaseMapped) and rule.table not in tables:
                raise document.error(
                    (*at, "eligibility", index, "table"),
                    f"{rule.table!r} is a code catalogue, not a disease table",
                )
            catalogue = getattr(rule, "catalogue", None)
            if catalogue is not None and catalogue not in catalogues:
                raise document.error(
                    (*at, "eligibility", index, "catalogue"),
                    f"{catalogue!r} is a disease table, not a code catalogue",
                )
        agency = programme.payment.agency
        if isinstance(agency, PerDisease):
            _check_table_rows(document, (*at, "payment", "agency"), agency, tables)


def _check_table_rows(
    document: YamlDocument,
    at: tuple[str | int, ...],
    rule: PerDisease,
    tables: Mapping[str, DiseaseTable],
) -> None:
    table = tables.get(rule.table)
    if table is None:
        raise document.error((*at, "table"), f"{rule.table!r} is not a disease table")
    for row in table.rows:
        where = f"{table.file}: disease {row.name!r} ({row.tcd} / {row.icd10})"
        allowed = rule.references.get(row.category)
        if allowed is None:
            raise document.error(
                (*at, "references"),
                f"{where} is of category {row.category!r}, which 'references' does not admit",
            )
        if row.reference is not None and row.reference.basis not in allowed:
            raise document.error(
                (*at, "references", row.category),
                f"{where} references {row.reference.basis!r}; a {row.category} disease may "
                f"reference only {', '.join(allowed)}",
            )
        if row.method == "per_bed_day" and rule.bed_days is None:
            raise document.error(
                at, f"{where} is paid per bed-day, but the rule gives no 'bed_days' count"
            )


def _check_fee_schedules(document: YamlDocument, rules: RuleFile) -> None:
    """A daily fee schedule prices every tier its programme admits."""
    for programme, programme_rules in rules.programmes.items():
        gap = fee_schedule_gaps(programme_rules)
        if gap is not None:
            where, message = gap
            raise document.error(("programmes", programme.value, *where), message)


def _load_catalogue(
    key: str, path: Path, owner: YamlDocument, loc: tuple[str | int, ...]
) -> Catalogue | DiseaseTable:
    """A code catalogue (``catalogue:`` + ``entries:``) or a disease table
    (``disease_table:`` + ``diseases:``), by its top-level key."""
    if not path.is_file():
        raise owner.error(loc, f"catalogue file {str(path)!r} does not exist")
    raw = _read_bytes(path)
    document = read_yaml(_decode(raw, str(path)), str(path))
    digest = hashlib.sha256(raw).hexdigest()
    if isinstance(document.data, dict) and "disease_table" in document.data:
        table = validate_document(document, DiseaseTableFile)
        return DiseaseTable(key, table.disease_table, str(path), digest, table.diseases)
    parsed = validate_document(document, CatalogueFile)
    return Catalogue(
        key=key, header=parsed.catalogue, file=str(path), sha256=digest, entries=parsed.entries
    )
