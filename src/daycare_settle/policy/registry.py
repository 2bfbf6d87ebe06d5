"""The registry: policy ids → rule files → the version in force on a date.

Rule files live in ``rules/<city>/*.yaml`` (installed inside the package as
``daycare_settle/rules``). A file is a rule file when it has a top-level ``policy`` key;
catalogue files beside it are read through the rule file that declares them, and frame
files (``rules/national/``, top-level ``frame``) through the region files that extend them.

The registry indexes rule files by their **header** only: the ``policy:`` block is cut out
of each file and read strictly (id, effective window), and nothing else of the file is
looked at. A rule file is compiled on first use, through the loader's cache; so a broken
rule file breaks only its own policy, and its error names its file. Two versions of one
id whose windows overlap are an error of that id alone.

The index of a rules folder is built once per process. Choosing a version is then a
lookup in it; compiling it costs one ``stat`` per file the policy reads (the loader's cache
notices a changed file). A rule file whose header changed since indexing re-indexes the
folder; a rule file added to the folder after indexing is not seen until
:func:`refresh` is called (or the process restarts).
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import TypeVar

from ..errors import InvalidArgument, PolicyLoadError, PolicyNotInForce, UnknownPolicy
from ..files import RULE_FILE_LIMIT, UnreadableFile, read_bounded
from ..models.common import FrozenModel
from .loader import Policy, PolicyEnd, load_policy_file, rule_file_path
from .schema import PolicyHeader
from .validation import validate_document
from .yaml_source import decode_text, read_yaml


@lru_cache(maxsize=1)
def rules_root() -> Path:
    """The bundled rules folder: inside the installed package, or the source tree's."""
    packaged = Path(__file__).resolve().parent.parent / "rules"
    if packaged.is_dir():
        return packaged
    source_tree = Path(__file__).resolve().parents[3] / "rules"
    if source_tree.is_dir():
        return source_tree
    raise PolicyLoadError(str(packaged), None, "the bundled rules folder is missing")


class _HeaderOnly(FrozenModel):
    policy: PolicyHeader


@dataclass(frozen=True)
class _Entry:
    """A rule file as indexed: its path, its header and the line of ``effective_from``."""

    file: Path
    header: PolicyHeader
    line: int | None
    extends: Path | None = None
    """The file named by a top-level ``extends:`` (a frame, or the version amended)."""
    until: dt.date | None = None
    """The last day in force: ``effective_until``, or for a version amended by a later
    file of the same id (whose ``extends`` names it), the day before that file's
    ``effective_from``."""
    amended_by: _Entry | None = None
    """The later file whose start ends this version (when it sets :attr:`until`)."""

    def window_text(self) -> str:
        return f"{self.header.effective_from} .. {self.until or 'open'}"

    def in_force_on(self, day: dt.date) -> bool:
        until = self.until
        return self.header.effective_from <= day and (until is None or day <= until)


@dataclass(frozen=True)
class _Index:
    versions: dict[str, tuple[_Entry, ...]]
    """Every id with its versions, oldest first."""
    errors: dict[str, PolicyLoadError]
    """Ids whose versions overlap: the error a lookup of that id raises."""
    unreadable: tuple[PolicyLoadError, ...]
    """Files that may be rule files but whose header could not be read."""


def _header_block(text: str) -> str | None:
    """The top-level ``policy:`` block of ``text``, preceded by blank lines so that line
    numbers stay those of the file; ``None`` when the file has no such block."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if line.startswith("policy:"):
            end = start + 1
            while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t#"):
                end += 1
            return "\n" * start + "\n".join(lines[start:end]) + "\n"
    return None


def _read_header(path: Path) -> _Entry | None:
    """The header of the rule file at ``path`` (``None`` when it is no rule file)."""
    try:
        raw = read_bounded(path, limit=RULE_FILE_LIMIT)
    except UnreadableFile as exc:
        raise PolicyLoadError(str(path), None, str(exc)) from None
    text = decode_text(raw, str(path))
    block = _header_block(text)
    if block is None:
        return None
    document = read_yaml(block, str(path))
    header = validate_document(document, _HeaderOnly).policy
    extends = _extends(text, path)
    line = document.line_of(("policy", "effective_from"))
    return _Entry(path, header, line, extends, header.effective_until)


def _id_of(path: Path) -> str | None:
    """The ``policy.id`` of a rule file whose header does not validate, where it can be read
    at all: that policy's lookups then fail with the file's error instead of settling under
    its other versions as if the broken file were not there."""
    try:
        block = _header_block(read_bounded(path, limit=RULE_FILE_LIMIT).decode("utf-8"))
        if block is None:
            return None
        data = read_yaml(block, str(path)).data
    except (UnreadableFile, UnicodeDecodeError, PolicyLoadError):
        return None
    header = data.get("policy") if isinstance(data, dict) else None
    policy_id = header.get("id") if isinstance(header, dict) else None
    return policy_id if isinstance(policy_id, str) and policy_id else None


def _extends(text: str, path: Path) -> Path | None:
    """The file a top-level ``extends:`` line names, resolved beside ``path``."""
    for line in text.splitlines():
        if line.startswith("extends:"):
            name = line.removeprefix("extends:").split(" #", 1)[0].strip().strip("'\"")
            return Path(os.path.abspath(path.parent / name)) if name else None
    return None


def _amended(entries: list[_Entry]) -> list[_Entry]:
    """A version that a later file of the same id amends (``extends:`` names it) ends the
    day before the amendment starts, unless it states its own ``effective_until``."""
    amending = {e.extends: e for e in entries if e.extends is not None}
    out = []
    for entry in entries:
        later = amending.get(Path(os.path.abspath(entry.file)))
        start = None if later is None else later.header.effective_from
        if start is not None and entry.until is None and start > entry.header.effective_from:
            out.append(replace(entry, until=start - dt.timedelta(days=1), amended_by=later))
        else:
            out.append(entry)
    return out


@lru_cache(maxsize=8)
def _index(root: Path) -> _Index:
    found: dict[str, list[_Entry]] = {}
    unreadable: list[PolicyLoadError] = []
    broken: dict[str, PolicyLoadError] = {}
    for path in sorted(root.rglob("*.yaml")):
        try:
            info = os.stat(path)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode):
            continue
        if stat.S_ISREG(info.st_mode) and info.st_size > RULE_FILE_LIMIT:
            continue  # too large for a rule file: a catalogue, read through its rule file
        try:
            entry = _read_header(path)
        except PolicyLoadError as error:
            policy_id = _id_of(path)
            if policy_id is None:
                unreadable.append(error)
            else:  # its id fails with this error, never settles under its other files
                broken.setdefault(policy_id, error)
            continue
        if entry is not None:
            found.setdefault(entry.header.id, []).append(entry)
    versions: dict[str, tuple[_Entry, ...]] = dict.fromkeys(broken, ())
    errors: dict[str, PolicyLoadError] = dict(broken)
    for policy_id, found_entries in found.items():
        if policy_id in broken:
            continue
        entries = _amended(sorted(found_entries, key=lambda e: e.header.effective_from))
        versions[policy_id] = tuple(entries)
        for earlier, later in pairwise(entries):
            until = earlier.until
            if until is None or until >= later.header.effective_from:
                errors[policy_id] = PolicyLoadError(
                    str(later.file),
                    later.line,
                    f"effective window {later.window_text()} of policy {policy_id!r} overlaps "
                    f"{earlier.window_text()} in {earlier.file}",
                )
                break
    return _Index(versions, errors, tuple(unreadable))


def refresh() -> None:
    """Forget the index of every rules folder (the next lookup reads the headers again)."""
    _index.cache_clear()
    _matched.clear()


def _root(root: Path | None) -> Path:
    return rules_root() if root is None else Path(root).resolve()


def policy_ids(root: Path | None = None) -> list[str]:
    """The ids of the policies in ``root`` (default: the bundled rules) whose headers read,
    including ids whose versions fail to compile or overlap (those fail when looked up)."""
    return sorted(_index(_root(root)).versions)


def _entries(policy_id: str, root: Path) -> tuple[_Entry, ...]:
    index = _index(root)
    if policy_id in index.errors:
        raise index.errors[policy_id]
    if policy_id not in index.versions:
        known = ", ".join(sorted(index.versions)) or "none"
        message = f"no policy with id {policy_id!r} (bundled: {known})"
        if index.unreadable:
            message += "; these files could not be indexed: " + "; ".join(
                error.message for error in index.unreadable[:5]
            )
        raise UnknownPolicy(message)
    return index.versions[policy_id]


_matched: dict[Path, tuple[Policy, Policy]] = {}
"""Per indexed rule file, the compiled policy last found to carry the indexed header, and
the policy handed out for it (the same, or a copy carrying the registry's end): the loader
hands back the same object while no file it read changed, and its header need not be
compared again."""


def _compile(entry: _Entry) -> Policy:
    """The compiled policy of an indexed entry; a header changed on disk re-indexes. A
    version a later amendment ends carries that end (:attr:`Policy.end`)."""
    policy = load_policy_file(entry.file)  # one stat per file read: changes are noticed
    matched = _matched.get(entry.file)
    if matched is not None and matched[0] is policy:
        return matched[1]
    if policy.rules.policy != entry.header:
        _index.cache_clear()
        _matched.clear()
        raise _Stale(entry.file)
    handed = policy
    if entry.amended_by is not None and entry.until is not None:
        handed = replace(policy, end=_end(entry.until, _compile(entry.amended_by)))
    _matched[entry.file] = (policy, handed)
    return handed


def _end(last_day: dt.date, amendment: Policy) -> PolicyEnd:
    header = amendment.rules.policy
    citation = amendment.citation(header.source or header.scope)
    assert citation is not None  # scope is required
    return PolicyEnd(last_day, f"{header.document} v{header.version}", citation)


_T = TypeVar("_T")


class _Stale(Exception):
    """An indexed header no longer matches its file."""


def _twice(attempt: Callable[[], _T]) -> _T:
    """``attempt()``, once more after a re-index if a header had changed on disk."""
    try:
        return attempt()
    except _Stale:
        pass
    try:
        return attempt()
    except _Stale as stale:
        raise PolicyLoadError(
            str(stale.args[0]), None, "the rule file's header changed while it was read"
        ) from None


def versions(policy_id: str, root: Path | None = None) -> tuple[Policy, ...]:
    """Every version of a policy, oldest first (each compiled)."""
    folder = _root(root)
    return _twice(lambda: tuple(_compile(e) for e in _entries(policy_id, folder)))


def check_date(on: object) -> dt.date | None:
    """``on`` if it is a date (or ``None``), else :class:`InvalidArgument`."""
    if on is None:
        return None
    if isinstance(on, dt.datetime) or not isinstance(on, dt.date):
        raise InvalidArgument(
            f"on= must be a datetime.date (a calendar day in Asia/Shanghai), not "
            f"{type(on).__name__}"
        )
    return on


def resolve_policy(
    policy: str | os.PathLike[str] | Policy,
    on: dt.date | None = None,
    *,
    root: Path | None = None,
) -> Policy:
    """The policy to apply: a compiled :class:`Policy`, a rule-file path, or a policy id
    (of the bundled rules, or of the rules folder ``root``).

    With ``on``, the version in force on that day; a policy with no version in force then
    raises :class:`PolicyNotInForce`. Without ``on``, the newest version. A ``policy`` or
    ``on`` of the wrong type raises :class:`InvalidArgument`.
    """
    day = check_date(on)
    if isinstance(policy, Policy):
        return _in_force((policy,), day)
    if isinstance(policy, bool) or not isinstance(policy, str | os.PathLike):
        raise InvalidArgument(
            "policy= must be a policy id (str), the path of a rule file (str or "
            f"os.PathLike) or a Policy, not {type(policy).__name__}"
        )
    if isinstance(policy, os.PathLike) or policy.endswith((".yaml", ".yml")):
        return _in_force((load_policy_file(rule_file_path(policy)),), day)
    folder = _root(root)
    return _twice(lambda: _choose(policy, folder, day))


def _choose(policy_id: str, root: Path, day: dt.date | None) -> Policy:
    entries = _entries(policy_id, root)
    if day is None:
        return _compile(entries[-1])
    for entry in entries:
        if entry.in_force_on(day):
            return _compile(entry)
    windows = "; ".join(e.window_text() for e in entries)
    raise PolicyNotInForce(
        f"no version of policy {policy_id!r} is in force on {day} (in force: {windows})"
    )


def _in_force(candidates: tuple[Policy, ...], day: dt.date | None) -> Policy:
    if day is None:
        return candidates[-1]
    for candidate in candidates:
        if candidate.in_force_on(day):
            return candidate
    windows = "; ".join(c.window_text() for c in candidates)
    raise PolicyNotInForce(
        f"no version of policy {candidates[0].id!r} is in force on {day} (in force: {windows})"
    )
