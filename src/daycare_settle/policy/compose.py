"""Frames and regions: a region's rule file composed onto a national frame (``extends:``).

A frame (top-level key ``frame:``) holds what a national document decides; a region file
(top-level ``policy:``) names it with ``extends: <path relative to the region file>`` and
supplies what the frame leaves to the region: its catalogues, its local parameters, its own
programmes. Composition, in the Catala manner of labelled exceptions:

- a key only the region sets is **added**; a list the frame sets is **extended** by the
  region's items;
- a value both set must be equal; a different value is a **conflict**, a load error naming
  the region's file:line and the frame's file:line, unless the region lists the dotted path
  under ``overrides:`` with its reason (an explicit, labelled override);
- an ``overrides`` entry the frame does not set, or that overrides nothing, is an error;
- the composed document is then checked against the rule-file schema, and its errors name
  the file each offending value came from, and both sources.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from ..errors import PolicyLoadError
from ..files import RULE_FILE_LIMIT, UnreadableFile
from ..models.common import FrozenModel, Programme
from ..models.settlement import PolicyFile, PolicyRef
from .schema import Clause, Identifier, PolicyHeader, StrictDate
from .sources import Source, combined_sha256, read_source, relative
from .validation import validate_document
from .yaml_source import Path as YamlPath
from .yaml_source import YamlDocument, decode_text, read_yaml

_MISSING = object()


class FrameHeader(FrozenModel):
    """A frame's identity: a national document that regions compose with."""

    id: Identifier
    document: str = Field(min_length=1)
    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    region: str = Field(min_length=1)
    issued: StrictDate | None = None
    effective_from: StrictDate
    effective_until: StrictDate | None = None
    confirmed_until: StrictDate
    """The day up to which the frame was last checked against its source; a region that
    extends it may not claim a later ``confirmed_until`` (its rules include the frame's)."""


class FrameFile(FrozenModel):
    """A frame file: header, clauses, and the (partial) programmes it decides."""

    frame: FrameHeader
    clauses: dict[Identifier, Clause] = Field(min_length=1)
    programmes: dict[Programme, dict[str, Any]] = Field(min_length=1)


class Overrides(FrozenModel):
    """The region's explicit overrides: dotted path of a frame value → the reason."""

    overrides: dict[str, str]


@dataclass(frozen=True)
class Frame:
    """A frame a composed policy was built on."""

    header: FrameHeader
    file: str
    source: Source
    """The frame file as read (bytes, digest, stamp)."""
    relative: str
    """The frame file's path relative to the region file's folder."""
    overrides: tuple[tuple[str, str], ...] = ()
    """The region's explicit overrides of this frame: (dotted path, reason)."""
    kind: str = "frame"
    """``frame`` (a national frame) or ``policy`` (the rule file an amendment amends)."""
    extra_sources: tuple[Source, ...] = ()
    """For an amended rule file: the files it read itself (e.g. its own frame)."""

    @property
    def sha256(self) -> str:
        return self.source.sha256

    @property
    def ref(self) -> PolicyRef:
        header = self.header
        files = (PolicyFile(path=self.relative, sha256=self.source.sha256),)
        return PolicyRef(
            id=header.id,
            document=header.document,
            version=header.version,
            sha256=combined_sha256(files),
            files=files,
        )


def compose(
    region: YamlDocument, _chain: tuple[str, ...] = ()
) -> tuple[YamlDocument, Frame | None]:
    """The region document composed onto the frame it ``extends`` (unchanged without one),
    or an amendment composed onto the rule file of the version it amends."""
    data = region.data
    if not isinstance(data, dict) or "extends" not in data:
        return region, None
    if region.file in _chain:
        raise region.error(("extends",), "extends forms a cycle: " + " -> ".join(_chain))
    extends = data["extends"]
    if not isinstance(extends, str) or not extends:
        raise region.error(("extends",), "extends must be the path of a frame file")
    frame_path = Path(os.path.abspath(Path(region.file).parent / extends))
    try:
        source = read_source(frame_path, limit=RULE_FILE_LIMIT)
    except UnreadableFile as exc:
        raise region.error(
            ("extends",), f"cannot read the frame {str(frame_path)!r}: {exc}"
        ) from None
    frame_doc = read_yaml(decode_text(source.raw, str(frame_path)), str(frame_path))
    if isinstance(frame_doc.data, dict) and "policy" in frame_doc.data:
        return _amend(region, frame_doc, source, frame_path, (*_chain, region.file))
    frame_file = _validate_frame(frame_doc)
    overrides = _overrides(region)
    frame = Frame(
        frame_file.frame,
        str(frame_path),
        source,
        relative(frame_path, Path(region.file).parent),
        tuple(sorted(overrides.items())),
    )
    context = f"region {region.file} composed with frame {frame.header.id} ({frame.file})"
    composer = _Composer(frame_doc, region, overrides, frame)
    composed = YamlDocument(file=region.file, data=None, context=context)
    region_part = {k: v for k, v in data.items() if k not in ("extends", "overrides")}
    frame_part = {
        "clauses": {
            key: {"document": frame.header.document, **clause}
            for key, clause in frame_doc.data["clauses"].items()
        },
        "programmes": frame_doc.data["programmes"],
    }
    composed.data = composer.merge(frame_part, region_part, (), composed)
    composer.check_all_used()
    _check_window(region, frame)
    return composed, frame


class _Header(FrozenModel):
    policy: PolicyHeader


def _header(document: YamlDocument) -> PolicyHeader:
    block = {"policy": document.data.get("policy")}
    return validate_document(YamlDocument(document.file, block, document.lines), _Header).policy


def _amend(
    amendment: YamlDocument,
    base_raw: YamlDocument,
    source: Source,
    base_path: Path,
    chain: tuple[str, ...],
) -> tuple[YamlDocument, Frame]:
    """An amendment (a rule file whose ``extends`` names another rule file of the same
    policy id) composed onto the version it amends.

    The amendment's ``policy:`` header replaces the base's; every other section of the base
    (clauses, programmes, catalogues, ``platform``, ``audit_across`` …) carries over, and
    the amendment's clauses and catalogues are added to the base's (the base's clauses keep
    citing the base's document); a value both set must be equal unless the amendment lists
    it under ``overrides:`` with its reason. The amendment must start after the base starts
    (and after the base's own ``effective_until``, where the base states one); the registry
    ends the base's window the day before the amendment's ``effective_from``
    (docs/versions.md).
    """
    base_doc, base_frame = compose(base_raw, chain)
    if base_frame is not None and base_frame.kind == "policy":
        base_sources = (base_frame.source, *base_frame.extra_sources)
    elif base_frame is not None:
        base_sources = (base_frame.source,)
    else:
        base_sources = ()
    base = _header(base_raw)
    own = _header(amendment)
    if own.id != base.id:
        raise amendment.error(
            ("policy", "id"),
            f"an amendment keeps the id of the policy it amends: {base.id!r} "
            f"({base_raw.file}), not {own.id!r}",
        )
    if own.effective_from <= base.effective_from or (
        base.effective_until is not None and own.effective_from <= base.effective_until
    ):
        raise amendment.error(
            ("policy", "effective_from"),
            f"effective_from {own.effective_from} of the amendment overlaps the version it "
            f"amends ({base_raw.file}, in force {base.effective_from} .. "
            f"{base.effective_until or 'open'}): an amendment starts after its base",
        )
    header = FrameHeader.model_validate(
        {key: getattr(base, key) for key in FrameHeader.model_fields}
    )
    overrides = _overrides(amendment)
    info = Frame(
        header,
        str(base_path),
        source,
        relative(base_path, Path(amendment.file).parent),
        tuple(sorted(overrides.items())),
        kind="policy",
        extra_sources=base_sources,
    )
    context = f"amendment {amendment.file} composed with {base.id} v{base.version} ({info.file})"
    composer = _Composer(base_doc, amendment, overrides, info)
    composed = YamlDocument(file=amendment.file, data=None, context=context)
    data = amendment.data
    own_part = {k: v for k, v in data.items() if k not in ("extends", "overrides")}
    # every section of the base but its header (the amendment's replaces it) carries over:
    # clauses, programmes, catalogues, platform, audit_across and whatever RuleFile gains
    base_part: dict[str, Any] = {
        key: value
        for key, value in base_doc.data.items()
        if key not in ("policy", "extends", "overrides")
    }
    base_part["clauses"] = {
        key: {"document": base.document, **clause}
        for key, clause in base_doc.data.get("clauses", {}).items()
    }
    composed.data = composer.merge(base_part, own_part, (), composed)
    composer.check_all_used()
    return composed, info


def _validate_frame(document: YamlDocument) -> FrameFile:
    return validate_document(document, FrameFile)


def _overrides(region: YamlDocument) -> dict[str, str]:
    raw = region.data.get("overrides", {})
    parsed = validate_document(
        YamlDocument(region.file, {"overrides": raw}, region.lines), Overrides
    )
    for path, reason in parsed.overrides.items():
        if not reason.strip():
            raise region.error(("overrides", path), f"override {path!r} needs its reason")
    return dict(parsed.overrides)


def _check_window(region: YamlDocument, frame: Frame) -> None:
    """The region is in force only inside the frame's window."""
    header = region.data.get("policy")
    if not isinstance(header, dict):
        return
    try:
        parsed = PolicyHeader.model_validate(header)
    except ValueError:
        return  # the composed document's validation reports it with file:line
    if parsed.confirmed_until > frame.header.confirmed_until:
        raise region.error(
            ("policy", "confirmed_until"),
            f"confirmed_until {parsed.confirmed_until} is later than that of the frame "
            f"{frame.header.id} ({frame.file}, {frame.header.confirmed_until}): the composed "
            "rules are confirmed only as far as the frame is",
        )
    start, until = frame.header.effective_from, frame.header.effective_until
    if parsed.effective_from < start:
        raise region.error(
            ("policy", "effective_from"),
            f"effective_from {parsed.effective_from} is before the frame {frame.header.id} "
            f"({frame.file}) is in force ({start})",
        )
    if until is not None and (parsed.effective_until is None or parsed.effective_until > until):
        raise region.error(
            ("policy", "effective_until"),
            f"the region outlives its frame {frame.header.id} ({frame.file}), in force until "
            f"{until}",
        )


class _Composer:
    def __init__(
        self, frame: YamlDocument, region: YamlDocument, overrides: dict[str, str], info: Frame
    ) -> None:
        self.frame = frame
        self.region = region
        self.overrides = overrides
        self.info = info
        self.used: set[str] = set()

    def merge(self, f: Any, r: Any, path: YamlPath, out: YamlDocument) -> Any:
        """Merge frame value ``f`` and region value ``r`` at ``path`` (same path in all
        three documents, except for list items the region appends)."""
        return self._merge(f, r, path, path, path, out)

    def _merge(
        self, f: Any, r: Any, fp: YamlPath, rp: YamlPath, op: YamlPath, out: YamlDocument
    ) -> Any:
        if r is _MISSING:
            return _copy(self.frame, f, fp, op, out)
        if f is _MISSING:
            return _copy(self.region, r, rp, op, out)
        dotted = ".".join(str(part) for part in op)
        if dotted in self.overrides:
            self.used.add(dotted)
            return _copy(self.region, r, rp, op, out)
        if isinstance(f, dict) and isinstance(r, dict):
            _note(out, op, self.region, rp)
            merged: dict[Any, Any] = {}
            for key in [*f, *(k for k in r if k not in f)]:
                merged[key] = self._merge(
                    f.get(key, _MISSING),
                    r.get(key, _MISSING),
                    (*fp, key),
                    (*rp, key),
                    (*op, key),
                    out,
                )
            return merged
        if isinstance(f, list) and isinstance(r, list):
            _note(out, op, self.region, rp)
            items = [_copy(self.frame, v, (*fp, i), (*op, i), out) for i, v in enumerate(f)]
            items += [
                _copy(self.region, v, (*rp, i), (*op, len(f) + i), out) for i, v in enumerate(r)
            ]
            return items
        if f == r and type(f) is type(r):
            return _copy(self.frame, f, fp, op, out)
        raise PolicyLoadError(
            self.region.file,
            self.region.line_of(rp),
            f"{dotted} conflicts with the frame {self.info.header.id} at "
            f"{self.frame.file}:{self.frame.line_of(fp)}: the frame gives {_short(f)}, the "
            f"region {_short(r)}. A region may add to its frame, not silently override it; "
            f"to override, list {_enclosing(op)} under 'overrides' with the reason",
        )

    def check_all_used(self) -> None:
        for dotted in self.overrides:
            if dotted not in self.used:
                raise self.region.error(
                    ("overrides", dotted),
                    f"override {dotted!r} overrides nothing: the frame {self.info.header.id} "
                    f"({self.info.file}) does not set it, or the region does not give it",
                )


def _note(out: YamlDocument, op: YamlPath, source: YamlDocument, sp: YamlPath) -> None:
    line = source.lines.get(sp)
    if line is not None:
        out.lines[op] = line
        out.files[op] = source.files.get(sp, source.file)


def _copy(source: YamlDocument, value: Any, sp: YamlPath, op: YamlPath, out: YamlDocument) -> Any:
    """``value`` from ``source`` at ``sp``, recording its lines under ``op`` in ``out``."""
    _note(out, op, source, sp)
    if isinstance(value, dict):
        return {k: _copy(source, v, (*sp, k), (*op, k), out) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(source, v, (*sp, i), (*op, i), out) for i, v in enumerate(value)]
    return value


def _enclosing(path: YamlPath) -> str:
    dotted = ".".join(str(part) for part in path)
    if len(path) < 2:
        return repr(dotted)
    parent = ".".join(str(part) for part in path[:-1])
    return f"{dotted!r} (or an enclosing key such as {parent!r})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
