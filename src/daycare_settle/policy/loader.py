"""Load one rule file into a compiled :class:`Policy` (validated, catalogues read, hashed).

Errors name the file and line: schema errors (unknown or missing keys, wrong types),
duplicate keys, unsafe tags, a ``source`` naming no clause, a catalogue that is not declared.

Compiled policies are cached by the rule file's resolved path. A cached policy is reused
only while every file it read (rule file, frame, catalogues, disease tables) has the same
``stat`` stamp (modification and change time in ns, size, inode) as when it was read: a
lookup costs one ``stat`` per file, and a change to any file re-compiles the policy.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from heapq import heappop, heappush
from pathlib import Path
from typing import Any

from ..errors import InvalidArgument, PolicyLoadError
from ..files import CATALOGUE_LIMIT, RULE_FILE_LIMIT, UnreadableFile
from ..models.common import CodeSystem, Programme
from ..models.episode import Code
from ..models.settlement import CatalogueVersion, Citation, PolicyFile, PolicyRef
from .compose import compose
from .disease_table import DiseaseTable, check_floor, row_lines
from .platform_catalogues import code_columns, read_platform_catalogue
from .schema import (
    CatalogueEntry,
    CatalogueFile,
    CatalogueFormat,
    CatalogueHeader,
    CatalogueRef,
    Clause,
    DiseaseMapped,
    DiseaseTableFile,
    PerDisease,
    ProgrammeRules,
    RuleFile,
    fee_schedule_gaps,
)
from .sources import Source, Stamp, combined_sha256, read_source, relative, unchanged
from .validation import validate_document
from .yaml_source import YamlDocument, decode_text, read_yaml

CACHE_SIZE = 128
"""The most compiled policies kept (least recently used dropped first)."""


@dataclass(frozen=True)
class Catalogue:
    """A compiled catalogue: code prefixes and category ranges, matched in that order.

    When several entries match a code, the first in file order wins. Matching goes through
    an index built on first use (:class:`_CatalogueIndex`): prefixes are probed in a dict,
    one probe per character of the code, and ranges by bisection, so a 20 000-entry
    catalogue matches as fast as a ten-entry one.
    """

    key: str
    header: CatalogueHeader
    file: str
    sha256: str
    entries: tuple[CatalogueEntry, ...]
    format: CatalogueFormat = "yaml"
    """How the file is written (``yaml``, or a platform download such as ``platform-1311``)."""

    def match(self, code: Code) -> CatalogueEntry | None:
        """The entry ``code`` falls under, or ``None`` (a code of another system never matches)."""
        if code.system is not CodeSystem(self.header.system):
            return None
        index: _CatalogueIndex | None = self.__dict__.get("_index")
        if index is None:
            index = _CatalogueIndex(self.entries)
            object.__setattr__(self, "_index", index)  # frozen: a cache, not state
        found = index.first_match(normalise_code(code.code))
        return None if found is None else self.entries[found]


class _CatalogueIndex:
    """The position of the first entry (in file order) a normalised code matches.

    An entry ``code: P`` matches a code starting with ``P``: a dict from each normalised
    prefix to its first position, probed with every prefix of the code. An entry
    ``range: [LOW, HIGH]`` matches a code whose first ``len(LOW)`` characters ``k`` satisfy
    ``LOW <= k <= HIGH``: per length of ``LOW``, the sorted distinct bounds cut the strings
    into elementary intervals (each bound itself, and the gaps between bounds), and each
    interval holds the first position among the ranges covering it; a code is located by
    bisection. The answer is the smallest position over both, as the linear scan gives.
    """

    __slots__ = ("_longest", "_prefixes", "_ranges")

    def __init__(self, entries: tuple[CatalogueEntry, ...]) -> None:
        self._prefixes: dict[str, int] = {}
        by_length: dict[int, list[tuple[str, str, int]]] = {}
        for position, entry in enumerate(entries):
            if entry.code is not None:
                self._prefixes.setdefault(normalise_code(entry.code), position)
            elif entry.range is not None:
                low, high = (normalise_code(bound) for bound in entry.range)
                if low <= high:  # an inverted range matches nothing
                    by_length.setdefault(len(low), []).append((low, high, position))
        self._longest = max(map(len, self._prefixes), default=-1)
        self._ranges = tuple(
            (length, *_stabbing_table(ranges)) for length, ranges in sorted(by_length.items())
        )

    def first_match(self, text: str) -> int | None:
        best: int | None = None
        prefixes = self._prefixes
        for end in range(min(len(text), self._longest) + 1):
            position = prefixes.get(text[:end])
            if position is not None and (best is None or position < best):
                best = position
        for length, bounds, firsts in self._ranges:
            key = text[:length]
            at = bisect_left(bounds, key)
            region = 2 * at + 1 if at < len(bounds) and bounds[at] == key else 2 * at
            position = firsts[region]
            if position is not None and (best is None or position < best):
                best = position
        return best


def _stabbing_table(
    ranges: list[tuple[str, str, int]],
) -> tuple[list[str], list[int | None]]:
    """Sorted distinct bounds and, per elementary interval, the first position covering it.

    Interval ``2i`` is the gap below ``bounds[i]`` (above ``bounds[i-1]``), ``2i + 1`` is
    ``bounds[i]`` itself, ``2n`` lies above every bound; a range ``[bounds[a], bounds[b]]``
    covers intervals ``2a + 1`` to ``2b + 1``. A sweep with a heap of open ranges keeps it
    O(n log n).
    """
    bounds = sorted({bound for low, high, _ in ranges for bound in (low, high)})
    where = {bound: at for at, bound in enumerate(bounds)}
    spans = sorted((2 * where[low] + 1, 2 * where[high] + 1, pos) for low, high, pos in ranges)
    firsts: list[int | None] = []
    open_ranges: list[tuple[int, int]] = []  # (position, last interval covered)
    next_span = 0
    for region in range(2 * len(bounds) + 1):
        while next_span < len(spans) and spans[next_span][0] == region:
            _, last, position = spans[next_span]
            heappush(open_ranges, (position, last))
            next_span += 1
        while open_ranges and open_ranges[0][1] < region:
            heappop(open_ranges)
        firsts.append(open_ranges[0][0] if open_ranges else None)
    return bounds, firsts


def normalise_code(code: str) -> str:
    return code.strip().upper()


@dataclass(frozen=True)
class PolicyEnd:
    """The end the registry gives a version that a later amendment of the same id ends
    (its header states no ``effective_until``): the day before the amendment starts."""

    last_day: dt.date
    amended_by: str
    """The amending version: ``<document> v<version>``."""
    citation: Citation
    """What states the end: the amendment's ``source`` clause (or, without one, its
    ``scope`` clause), cited with the document that states it."""


@dataclass(frozen=True)
class Policy:
    """A compiled policy: the validated rule file, its catalogues and its identity."""

    rules: RuleFile
    file: str
    sha256: str
    """The combined digest over :attr:`files` (see :class:`PolicyRef`)."""
    files: tuple[PolicyFile, ...] = ()
    """Every file read, relative to the rule file's folder, with its SHA-256."""
    stamps: tuple[Stamp, ...] = field(default=(), repr=False, compare=False)
    """The ``stat`` stamp of every file read, checked on each cached lookup."""
    catalogues: Mapping[str, Catalogue] = field(default_factory=dict)
    disease_tables: Mapping[str, DiseaseTable] = field(default_factory=dict)
    catalogue_versions: tuple[CatalogueVersion, ...] = ()
    """Every catalogue and disease table read, with its version, format and file (by key)."""
    frames: tuple[PolicyRef, ...] = ()
    """The frames this rule file composes with (``extends:``), with their hashes."""
    amends: tuple[PolicyRef, ...] = ()
    """For an amendment: the version it amends (``extends:`` a rule file), with its hash."""
    overrides: tuple[tuple[str, str], ...] = ()
    """Frame values the rule file overrides explicitly: (dotted path, reason)."""
    end: PolicyEnd | None = None
    """Set by the registry when a later amendment ends this version (docs/versions.md)."""
    _citations: dict[str, Citation] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """One :class:`Citation` per clause, made once: a citation is read for every charge."""

    @property
    def id(self) -> str:
        return self.rules.policy.id

    @property
    def ref(self) -> PolicyRef:
        """Which rules decided, as the result names them: made once per compiled policy
        (a frozen record every settlement under it shares)."""
        ref: PolicyRef | None = self.__dict__.get("_ref")
        if ref is None:
            header = self.rules.policy
            ref = PolicyRef(
                id=header.id,
                document=header.document,
                version=header.version,
                sha256=self.sha256,
                files=self.files,
                catalogues=self.catalogue_versions,
                frames=self.frames,
                amends=self.amends,
            )
            object.__setattr__(self, "_ref", ref)  # frozen: a cache, not state
        return ref

    @property
    def last_day(self) -> dt.date | None:
        """The last day in force: the registry's end where a later amendment ends this
        version, else the header's ``effective_until`` (``None``: open)."""
        return self.end.last_day if self.end is not None else self.rules.policy.effective_until

    def in_force_on(self, day: dt.date) -> bool:
        until = self.last_day
        return self.rules.policy.effective_from <= day and (until is None or day <= until)

    def window_text(self) -> str:
        return f"{self.rules.policy.effective_from} .. {self.last_day or 'open'}"

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


_cache: OrderedDict[str, Policy] = OrderedDict()
_cache_lock = threading.Lock()


def rule_file_path(path: object) -> str:
    """The text of a rule-file path argument, or :class:`InvalidArgument` /
    :class:`PolicyLoadError` for one that cannot be a path."""
    if not isinstance(path, str | os.PathLike):
        raise InvalidArgument(
            f"a rule-file path must be a str or os.PathLike, not {type(path).__name__}"
        )
    name = os.fspath(path)
    if not isinstance(name, str):
        raise InvalidArgument("a rule-file path must be text, not bytes")
    if "\x00" in name:
        raise PolicyLoadError(repr(name), None, "the path contains a NUL character")
    if not name:
        raise InvalidArgument("the rule-file path is empty")
    return name


def load_policy_file(path: str | Path) -> Policy:
    """Load and compile one rule file; cached while none of the files it read changes."""
    name = rule_file_path(path)
    resolved = os.path.abspath(name)  # links are not resolved: errors name the path given
    cached = _cache.get(resolved)  # a dict read is atomic; the lock guards the updates
    if cached is not None and unchanged(cached.stamps):
        with _cache_lock:
            if resolved in _cache:
                _cache.move_to_end(resolved)
        return cached
    policy = _compile(resolved)
    with _cache_lock:
        _cache[resolved] = policy
        _cache.move_to_end(resolved)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return policy


def clear_cache() -> None:
    """Forget every compiled policy (the next lookup re-reads the files)."""
    with _cache_lock:
        _cache.clear()


def _compile(path: str) -> Policy:
    rule_source = _read(Path(path), RULE_FILE_LIMIT)
    folder = Path(path).parent
    raw = rule_source.raw
    document, frame = compose(read_yaml(decode_text(raw, path), path))
    rules = validate_document(document, RuleFile)
    _check_references(document, rules)
    _check_fee_schedules(document, rules)
    catalogues: dict[str, Catalogue] = {}
    tables: dict[str, DiseaseTable] = {}
    versions: list[CatalogueVersion] = []
    sources = [rule_source] if frame is None else [rule_source, frame.source, *frame.extra_sources]
    for key, ref in rules.catalogues.items():
        loc = ("catalogues", key, "file")
        file = Path(document.file_of(loc)).parent / ref.file
        loaded, source = _load_catalogue(key, file, document, ref)
        sources.append(source)
        if isinstance(loaded, DiseaseTable):
            tables[key] = loaded
        else:
            catalogues[key] = loaded
        versions.append(
            CatalogueVersion(
                key=key,
                id=loaded.header.id,
                version=loaded.header.version,
                format=ref.format,
                file=relative(source.path, folder),
            )
        )
    _check_kinds(document, rules, catalogues, tables)
    files: dict[str, PolicyFile] = {}
    for source in sources:
        name = relative(source.path, folder)
        files.setdefault(name, PolicyFile(path=name, sha256=source.sha256))
    listed = tuple(sorted(files.values(), key=lambda f: f.path))
    return Policy(
        rules=rules,
        file=path,
        sha256=combined_sha256(listed),
        files=listed,
        stamps=tuple(dict.fromkeys(s.stamp for s in sources)),
        catalogues=catalogues,
        disease_tables=tables,
        catalogue_versions=tuple(sorted(versions, key=lambda v: v.key)),
        frames=() if frame is None or frame.kind != "frame" else (frame.ref,),
        amends=() if frame is None or frame.kind != "policy" else (frame.ref,),
        overrides=() if frame is None else frame.overrides,
    )


def _read(path: Path, limit: int) -> Source:
    try:
        return read_source(path, limit=limit)
    except UnreadableFile as exc:
        raise PolicyLoadError(str(path), None, str(exc)) from None


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
    check_floor(table, rule)
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
    key: str, path: Path, owner: YamlDocument, ref: CatalogueRef
) -> tuple[Catalogue | DiseaseTable, Source]:
    """A code catalogue (``catalogue:`` + ``entries:``) or a disease table
    (``disease_table:`` + ``diseases:``), by its top-level key, or a platform catalogue
    download (by ``format``), and the file as read."""
    loc: tuple[str | int, ...] = ("catalogues", key, "file")
    if not os.path.lexists(path):
        raise owner.error(loc, f"catalogue file {str(path)!r} does not exist")
    try:
        source = read_source(path, limit=CATALOGUE_LIMIT)
    except UnreadableFile as exc:
        raise owner.error(loc, f"cannot read the catalogue file {str(path)!r}: {exc}") from None
    if ref.format != "yaml":
        return _load_platform(key, path, owner, ref, ref.format, source), source
    document = read_yaml(decode_text(source.raw, str(path)), str(path))
    digest = source.sha256
    if isinstance(document.data, dict) and "disease_table" in document.data:
        table = validate_document(document, DiseaseTableFile)
        return (
            DiseaseTable(
                key, table.disease_table, str(path), digest, table.diseases, row_lines(document)
            ),
            source,
        )
    parsed = validate_document(document, CatalogueFile)
    catalogue = Catalogue(
        key=key, header=parsed.catalogue, file=str(path), sha256=digest, entries=parsed.entries
    )
    return catalogue, source


def _load_platform(
    key: str,
    path: Path,
    owner: YamlDocument,
    ref: CatalogueRef,
    format: CatalogueFormat,
    source: Source,
) -> Catalogue:
    """A platform catalogue download (see :mod:`.platform_catalogues`) as a code catalogue."""
    assert ref.column is not None  # CatalogueRef requires both for a platform format
    assert ref.system is not None
    columns = code_columns(format)
    if ref.column.upper() not in columns:
        raise owner.error(
            ("catalogues", key, "column"),
            f"{ref.column!r} is not a code column of {format} (one of: {', '.join(columns)})",
        )
    read = read_platform_catalogue(key, path, source.raw, format, ref.column, ref.system)
    return Catalogue(
        key=key,
        header=read.header,
        file=str(path),
        sha256=source.sha256,
        entries=read.entries,
        format=format,
    )
