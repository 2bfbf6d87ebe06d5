"""The settlement's JSON text, written here byte for byte as pydantic-core writes it.

``Settlement.model_dump_json`` pays about 2 µs per nested record (a 20-charge settlement holds
well over a hundred: lines, trace steps with their citations and parameter reads, flags,
windows …). This writer puts the same text together with f-strings, for exactly the types a
settlement holds, in both layouts (``indent=None``: ``{"a":1}``; an indent: ``{`` then one
field a line, ``": "`` after the key, ``[]`` for an empty tuple), and writes each value as
the serialiser does:

- text through :func:`json.encoder.encode_basestring` (C), which escapes as serde_json does:
  ``"`` ``\\`` and ``\\b \\f \\n \\r \\t`` short, other C0 controls as ``\\u00xx`` in lowercase,
  everything else (DEL, U+0085, U+2028/U+2029, non-BMP characters) as it is; a ``str``
  subclass is written as its text, which for a :class:`~enum.StrEnum` (a reason code) is
  what the serialiser writes too;
- an amount (``Decimal``) as ``str()`` between quotes, an enum member as its value, a
  ``Literal`` as its text, an ``int`` as its digits, ``true`` / ``false`` / ``null``.

Anything it does not vouch for makes it give up, and the serialiser writes the whole
settlement (its text, its warnings, its errors): a record or value not of exactly its
field's type (a subclass, a ``bool`` in an ``int`` field, a plain ``str`` in an enum field,
a ``list`` for a tuple, a ``Literal`` field holding another text), a ``str`` subclass other
than a ``StrEnum``, text holding a lone surrogate (which the serialiser refuses), an ``int``
outside 64 bits, an indent that is not a non-negative ``int``, a settlement whose classes
no longer have the fields listed here.

Records the engine shares between settlements (citations, parameter reads, the policy's
ref: made once per compiled policy) are written once per depth and layout and their text
reused: the cache is keyed by identity and holds the record beside its text, so an id is
never reused while its text is kept; it is bounded (cleared when full). A frozen record never
changes, so its text never goes stale. Sharing is found, never assumed: a record seen for
the first time is simply written. Trace steps recur from one settlement to the next mostly
as new objects of the same value (an outcome text made again around a shared citation and
shared reads): their texts are kept by value (their texts, and the identity of their
citation and reads, held), bounded too. Longer or non-ASCII texts are kept escaped by value
(bounded): a flag's message or a step's outcome recurs in new objects.

A settlement's lines are written one short piece each (ASCII for ASCII ids and reasons),
their citation's text shared between them, and the whole joined once: a settlement of
100 000 charges does not hold a second copy of every citation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from json.encoder import encode_basestring
from typing import Any, TypeVar, get_args

from .common import FrozenModel, Programme
from .settlement import (
    CalculationStep,
    CatalogueVersion,
    Citation,
    ConversionOutcome,
    Disposition,
    Flag,
    Line,
    MergeWindowBounds,
    MergeWindows,
    ParameterRead,
    Payment,
    PolicyFile,
    PolicyRef,
    RejectionReason,
    Settlement,
    TimeLimit,
    TimeLimitStatus,
    Totals,
    TraceStep,
)

_escape: Callable[[str], str] = encode_basestring

FIELDS: dict[type[FrozenModel], tuple[str, ...]] = {
    Citation: ("document", "clause"),
    ParameterRead: ("name", "value", "provenance"),
    TraceStep: ("step", "rule", "outcome", "citation", "quote", "parameters"),
    RejectionReason: ("code", "message", "citation"),
    TimeLimit: (
        "limit_hours",
        "extended_limit_hours",
        "duration_hours",
        "duration_seconds",
        "status",
        "citation",
    ),
    CalculationStep: ("label", "amount", "note"),
    Payment: (
        "patient",
        "agency",
        "counts_toward_annual_inpatient_cap",
        "patient_citation",
        "agency_citation",
        "agency_amount",
        "calculation",
        "basis",
        "units",
    ),
    Line: ("charge_id", "disposition", "amount", "allowed_amount", "reason", "citation"),
    Totals: (
        "input",
        "included",
        "not_merged",
        "disallowed",
        "merged_pre_admission",
        "merged_post_discharge",
    ),
    Flag: ("code", "severity", "message", "citation", "charge_ids"),
    PolicyFile: ("path", "sha256"),
    CatalogueVersion: ("key", "id", "version", "format", "file"),
    PolicyRef: ("id", "document", "version", "sha256", "files", "catalogues", "frames", "amends"),
    ConversionOutcome: ("at", "ward", "mode", "citation"),
    MergeWindowBounds: ("basis", "start", "end", "first_day", "last_day", "applied"),
    MergeWindows: ("pre_admission", "post_discharge"),
    Settlement: (
        "episode_id",
        "policy",
        "library_version",
        "programme",
        "status",
        "rejection_reasons",
        "settled_as",
        "conversion",
        "time_limit",
        "windows",
        "payment",
        "lines",
        "totals",
        "flags",
        "trace",
    ),
}
"""The fields this writer writes, in order, per record class. When a model's fields differ
(one added, removed or moved), the writer stands down and the serialiser writes every
settlement (a test keeps the two in step)."""

ENABLED = all(tuple(cls.model_fields) == names for cls, names in FIELDS.items())


class Unvouched(Exception):
    """A value this writer does not vouch for: the serialiser writes the settlement."""


def write_settlement(settlement: Settlement, indent: int | None) -> str | None:
    """The text ``settlement.model_dump_json(indent=indent)`` gives, or None when something
    in it is not what this writer vouches for (then the serialiser must write it)."""
    if not ENABLED or type(settlement) is not Settlement:
        return None
    if indent is not None and (type(indent) is not int or indent < 0):
        return None
    layout = _LAYOUTS.get(indent)
    if layout is None:
        if len(_LAYOUTS) >= _LAYOUTS_KEPT:
            _LAYOUTS.clear()
        layout = _LAYOUTS.setdefault(indent, _Layout(indent))
    try:
        return _settlement(settlement, layout)
    except (Unvouched, AttributeError):  # AttributeError: a constructed record lacks a field
        return None


# --- layout ---------------------------------------------------------------------------------


class _Layout:
    """What one ``indent`` makes of brackets, separators and keys, per depth (a value at
    depth ``d`` opens on a line indented ``d`` times; compact text has no depth)."""

    __slots__ = ("_keys", "_newlines", "arrays", "at", "colon", "indent", "tags")

    def __init__(self, indent: int | None) -> None:
        self.indent = indent
        self.colon = ":" if indent is None else ": "
        self._newlines: list[str] = []
        self.tags: list[str] = []
        self._keys: dict[type[FrozenModel], list[tuple[str, ...]]] = {}
        self.arrays: list[tuple[str, str, str]] = []
        self._grow(8)  # the depths of a settlement's records, but for nested frames
        for cls in FIELDS:
            self.keys(cls, 6)
        # per class, the keys of each depth up to 6 at least: what a settlement's own
        # records (at depth 3 at most) read without a call
        self.at = self._keys

    def _grow(self, depth: int) -> None:
        while len(self._newlines) <= depth:
            at = len(self._newlines)
            compact = self.indent is None
            self._newlines.append("" if compact else "\n" + " " * (self.indent or 0) * at)
            self.tags.append("c" if compact else f"{self.indent}:{at}")
        while len(self.arrays) < len(self._newlines) - 1:
            at = len(self.arrays)
            inner = self._newlines[at + 1]
            self.arrays.append((f"[{inner}", f",{inner}", f"{self._newlines[at]}]"))

    def keys(self, cls: type[FrozenModel], depth: int) -> tuple[str, ...]:
        """The text around the values of a ``cls`` record at ``depth``: before the first
        value ``{`` and its key, before each other value ``,`` and its key, after the last
        the closing brace."""
        by_depth = self._keys.get(cls)
        if by_depth is None:
            by_depth = self._keys[cls] = []
        if depth < len(by_depth):
            return by_depth[depth]
        self._grow(depth + 2)
        colon = self.colon
        while len(by_depth) <= depth:
            at = len(by_depth)
            inner = self._newlines[at + 1]
            by_depth.append(
                (
                    *(
                        f"{',' if number else '{'}{inner}{_escape(name)}{colon}"
                        for number, name in enumerate(FIELDS[cls])
                    ),
                    f"{self._newlines[at]}}}",
                )
            )
        return by_depth[depth]

    def array(self, texts: list[str], depth: int) -> str:
        """An array at ``depth`` of values already written at ``depth + 1`` (for a record
        at ``depth - 1`` whose :meth:`keys` were read: they grow the layout deep enough)."""
        if not texts:
            return "[]"
        start, between, end = self.arrays[depth]
        return f"{start}{between.join(texts)}{end}"


_LAYOUTS: dict[int | None, _Layout] = {}
_LAYOUTS_KEPT = 8
"""Layouts kept (by indent): the canonical 2 and compact text, and a few others."""


# --- values ---------------------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")

_QUOTED: dict[str, str] = {}
"""Texts written before, by value: longer or non-ASCII texts recur from one settlement to the
next (a flag's message, a step's outcome naming the document), and finding one here costs a
hash and a comparison, where escaping it again costs a pass per character (and a search
for a surrogate, for text that is not printable)."""
QUOTED_KEPT = 4096
QUOTED_LONGEST = 2000
"""A text longer than this is written each time, never kept."""
_SHORT = 32
"""ASCII text shorter than this (an id, a code) is escaped again, cheaper than a lookup."""


def _text(value: object) -> str:
    """A ``str`` field's value, quoted and escaped."""
    if type(value) is str or isinstance(value, StrEnum):
        if len(value) < _SHORT and value.isascii():
            return _escape(value)
        quoted = _QUOTED.get(value)
        if quoted is not None:
            return quoted
        # printable text holds no surrogate; anything else is searched for one
        if value.isascii() or value.isprintable() or _SURROGATE.search(value) is None:
            quoted = _escape(value)
            if len(value) <= QUOTED_LONGEST:
                if len(_QUOTED) >= QUOTED_KEPT:
                    _QUOTED.clear()
                _QUOTED[value] = quoted
            return quoted
    raise Unvouched


def _optional_text(value: object) -> str:
    return "null" if value is None else _text(value)


def _amount(value: object) -> str:
    if type(value) is Decimal:
        return f'"{value!s}"'
    raise Unvouched


def _optional_amount(value: object) -> str:
    return "null" if value is None else _amount(value)


_INT_LOW, _INT_HIGH = -(2**63), 2**64
"""What fits a 64-bit integer, signed or not: what the serialiser writes as a number
without a detour (beyond it, it is left to the serialiser)."""


def _int(value: object) -> str:
    if type(value) is int and _INT_LOW <= value < _INT_HIGH:
        return str(value)
    raise Unvouched


def _optional_int(value: object) -> str:
    return "null" if value is None else _int(value)


def _bool(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise Unvouched


def _choices(cls: type[FrozenModel], field: str) -> dict[object, str]:
    """The quoted texts of a ``Literal`` field's values (``None`` for an optional one)."""
    choices: dict[object, str] = {}
    for value in _literal_values(cls.model_fields[field].annotation):
        if value is None:
            choices[value] = "null"
        elif type(value) is str:
            choices[value] = _escape(value)
        else:  # pragma: no cover - a Literal of another type: the writer must learn it first
            raise TypeError(f"{cls.__name__}.{field}: a Literal of {value!r}")
    return choices


def _literal_values(annotation: Any) -> tuple[object, ...]:
    values: list[object] = []
    for arg in get_args(annotation):
        if arg is type(None):
            values.append(None)
        elif get_args(arg):
            values.extend(_literal_values(arg))
        else:
            values.append(arg)
    return tuple(values)


def _choice(value: object, choices: dict[object, str]) -> str:
    if value is None or type(value) is str:
        text = choices.get(value)
        if text is not None:
            return text
    raise Unvouched


def _members(enum: type[StrEnum]) -> dict[str, str]:
    """The quoted texts of an enum's members, by value (a member's own hash is a call into
    Python; its value's is cached)."""
    return {member._value_: _escape(member._value_) for member in enum}


_PROGRAMMES = _members(Programme)
_DISPOSITIONS = _members(Disposition)
_TIME_LIMITS = _members(TimeLimitStatus)
_STATUSES = _choices(Settlement, "status")
_SETTLED_AS = _choices(Settlement, "settled_as")
_SEVERITIES = _choices(Flag, "severity")
_MODES = _choices(ConversionOutcome, "mode")
_BASES = _choices(MergeWindowBounds, "basis")


def _tuple(value: object) -> tuple[object, ...]:
    if type(value) is tuple:
        return value
    raise Unvouched


# --- records shared between settlements -----------------------------------------------------

_SHARED: dict[int, tuple[object, dict[str, str]]] = {}
"""Per record identity: the record (held, so that its id is not reused) and its text per
layout and depth."""
SHARED_KEPT = 4096

_R = TypeVar("_R", bound=FrozenModel)


def _shared(
    record: _R, layout: _Layout, depth: int, write: Callable[[_R, _Layout, int], str]
) -> str:
    entry = _SHARED.get(id(record))
    if entry is None or entry[0] is not record:
        if len(_SHARED) >= SHARED_KEPT:
            _SHARED.clear()
        entry = _SHARED[id(record)] = (record, {})
    texts = entry[1]
    tag = layout.tags[depth]
    text = texts.get(tag)
    if text is None:
        text = texts[tag] = write(record, layout, depth)
    return text


def _citation(value: object, layout: _Layout, depth: int) -> str:
    if value is None:
        return "null"
    if type(value) is not Citation:
        raise Unvouched
    return _shared(value, layout, depth, _write_citation)


def _write_citation(citation: Citation, layout: _Layout, depth: int) -> str:
    k = layout.keys(Citation, depth)
    return f"{k[0]}{_text(citation.document)}{k[1]}{_text(citation.clause)}{k[2]}"


def _write_read(read: ParameterRead, layout: _Layout, depth: int) -> str:
    k = layout.keys(ParameterRead, depth)
    return f"{k[0]}{_text(read.name)}{k[1]}{_text(read.value)}{k[2]}{_text(read.provenance)}{k[3]}"


def _write_step(step: TraceStep, layout: _Layout, depth: int) -> str:
    k = layout.keys(TraceStep, depth)
    reads = []
    for read in _tuple(step.parameters):
        if type(read) is not ParameterRead:
            raise Unvouched
        reads.append(_shared(read, layout, depth + 2, _write_read))
    return (
        f"{k[0]}{_text(step.step)}{k[1]}{_text(step.rule)}{k[2]}{_text(step.outcome)}"
        f"{k[3]}{_citation(step.citation, layout, depth + 1)}"
        f"{k[4]}{_optional_text(step.quote)}{k[5]}{layout.array(reads, depth + 1)}{k[6]}"
    )


def _write_file(file: PolicyFile, layout: _Layout, depth: int) -> str:
    k = layout.keys(PolicyFile, depth)
    return f"{k[0]}{_text(file.path)}{k[1]}{_text(file.sha256)}{k[2]}"


def _write_catalogue(catalogue: CatalogueVersion, layout: _Layout, depth: int) -> str:
    k = layout.keys(CatalogueVersion, depth)
    return (
        f"{k[0]}{_text(catalogue.key)}{k[1]}{_text(catalogue.id)}{k[2]}"
        f"{_text(catalogue.version)}{k[3]}{_text(catalogue.format)}{k[4]}"
        f"{_text(catalogue.file)}{k[5]}"
    )


def _policy(value: object, layout: _Layout, depth: int) -> str:
    if type(value) is not PolicyRef:
        raise Unvouched
    return _shared(value, layout, depth, _write_policy)


def _write_policy(ref: PolicyRef, layout: _Layout, depth: int) -> str:
    k = layout.keys(PolicyRef, depth)  # grows the layout to depth + 2 (frames nest)
    item = depth + 2

    def records(values: object, cls: type[_R], write: Callable[[_R, _Layout, int], str]) -> str:
        texts = []
        for value in _tuple(values):
            if type(value) is not cls:
                raise Unvouched
            texts.append(write(value, layout, item))
        return layout.array(texts, depth + 1)

    return (
        f"{k[0]}{_text(ref.id)}{k[1]}{_text(ref.document)}{k[2]}{_text(ref.version)}"
        f"{k[3]}{_text(ref.sha256)}{k[4]}{records(ref.files, PolicyFile, _write_file)}"
        f"{k[5]}{records(ref.catalogues, CatalogueVersion, _write_catalogue)}"
        f"{k[6]}{records(ref.frames, PolicyRef, _write_policy)}"
        f"{k[7]}{records(ref.amends, PolicyRef, _write_policy)}{k[8]}"
    )


# --- the settlement's own records -----------------------------------------------------------
#
# Written as pieces appended to one list, joined once at the end: Chinese text makes the whole
# text two bytes a character, and each nesting of f-strings would copy (and widen) the text
# of everything inside it again.

_Writer = Callable[[object, _Layout, int, list[str]], None]


def _rejection(reason: object, layout: _Layout, depth: int, out: list[str]) -> None:
    if type(reason) is not RejectionReason:
        raise Unvouched
    k = layout.at[RejectionReason][depth]
    out += (k[0], _text(reason.code), k[1], _text(reason.message), k[2])
    out += (_citation(reason.citation, layout, depth + 1), k[3])


def _conversion(value: object, layout: _Layout, depth: int, out: list[str]) -> None:
    if value is None:
        out.append("null")
        return
    if type(value) is not ConversionOutcome:
        raise Unvouched
    k = layout.at[ConversionOutcome][depth]
    out += (k[0], _text(value.at), k[1], _text(value.ward), k[2], _choice(value.mode, _MODES))
    out += (k[3], _citation(value.citation, layout, depth + 1), k[4])


def _time_limit(value: object, layout: _Layout, depth: int, out: list[str]) -> None:
    if type(value) is not TimeLimit:
        raise Unvouched
    status = value.status
    if type(status) is not TimeLimitStatus:
        raise Unvouched
    k = layout.at[TimeLimit][depth]
    out += (
        f"{k[0]}{_optional_int(value.limit_hours)}{k[1]}"
        f"{_optional_int(value.extended_limit_hours)}{k[2]}{_text(value.duration_hours)}"
        f"{k[3]}{_int(value.duration_seconds)}{k[4]}{_TIME_LIMITS[status._value_]}{k[5]}",
        _citation(value.citation, layout, depth + 1),
        k[6],
    )


def _bounds(value: object, layout: _Layout, depth: int) -> str:
    if value is None:
        return "null"
    if type(value) is not MergeWindowBounds:
        raise Unvouched
    k = layout.at[MergeWindowBounds][depth]
    return (
        f"{k[0]}{_choice(value.basis, _BASES)}{k[1]}{_optional_text(value.start)}"
        f"{k[2]}{_text(value.end)}{k[3]}{_optional_text(value.first_day)}"
        f"{k[4]}{_optional_text(value.last_day)}{k[5]}{_bool(value.applied)}{k[6]}"
    )


def _windows(value: object, layout: _Layout, depth: int, out: list[str]) -> None:
    if value is None:
        out.append("null")
        return
    if type(value) is not MergeWindows:
        raise Unvouched
    k = layout.at[MergeWindows][depth]
    out += (
        k[0],
        _bounds(value.pre_admission, layout, depth + 1),
        k[1],
        _bounds(value.post_discharge, layout, depth + 1),
        k[2],
    )


def _calculation(value: object, layout: _Layout, depth: int, out: list[str]) -> None:
    if type(value) is not CalculationStep:
        raise Unvouched
    k = layout.at[CalculationStep][depth]
    out += (k[0], _text(value.label), k[1], _amount(value.amount), k[2])
    out += (_optional_text(value.note), k[3])


def _payment(value: object, layout: _Layout, depth: int, out: list[str]) -> None:
    if value is None:
        out.append("null")
        return
    if type(value) is not Payment:
        raise Unvouched
    k = layout.at[Payment][depth]
    inner = depth + 1
    out += (k[0], _text(value.patient), k[1], _text(value.agency), k[2])
    out += (_bool(value.counts_toward_annual_inpatient_cap), k[3])
    out += (_citation(value.patient_citation, layout, inner), k[4])
    out += (_citation(value.agency_citation, layout, inner), k[5])
    out += (_optional_amount(value.agency_amount), k[6])
    _array(value.calculation, layout, inner, _calculation, out)
    out += (k[7], _optional_text(value.basis), k[8], _optional_text(value.units), k[9])


def _totals(value: object, layout: _Layout, depth: int, out: list[str]) -> None:
    if type(value) is not Totals:
        raise Unvouched
    k = layout.at[Totals][depth]
    out.append(
        f"{k[0]}{_amount(value.input)}{k[1]}{_amount(value.included)}"
        f"{k[2]}{_amount(value.not_merged)}{k[3]}{_amount(value.disallowed)}"
        f"{k[4]}{_amount(value.merged_pre_admission)}"
        f"{k[5]}{_amount(value.merged_post_discharge)}{k[6]}"
    )


def _flag(value: object, layout: _Layout, depth: int, out: list[str]) -> None:
    if type(value) is not Flag:
        raise Unvouched
    k = layout.at[Flag][depth]
    inner = depth + 1
    out += (k[0], _text(value.code), k[1], _choice(value.severity, _SEVERITIES), k[2])
    out += (_text(value.message), k[3], _citation(value.citation, layout, inner), k[4])
    ids = _tuple(value.charge_ids)
    if ids:
        start, between, end = layout.arrays[inner]
        out += (start, between.join([_text(charge_id) for charge_id in ids]), end, k[5])
    else:
        out += ("[]", k[5])


def _trace(values: object, layout: _Layout, out: list[str]) -> None:
    """The ``trace`` array (depth 1), each step's text at depth 2 (see :func:`_step`)."""
    steps = _tuple(values)
    if not steps:
        out.append("[]")
        return
    start, between, end = layout.arrays[1]
    tag = layout.tags[2]
    before = start
    for step in steps:
        out += (before, _step(step, layout, tag))
        before = between
    out.append(end)


_STEPS: dict[tuple[object, ...], tuple[dict[str, str], object, tuple[object, ...]]] = {}
"""Trace steps written before, by value: per (step, rule, outcome, quote, the citation's
identity, each parameter read's identity), the text per layout and depth, with the citation
and the reads held so that their ids are not reused."""
STEPS_KEPT = 4096


def _step(step: object, layout: _Layout, tag: str) -> str:
    """A trace step's text at depth 2. A policy's steps recur from one settlement to the
    next: some as the same objects, most as new objects of the same value (an outcome
    text made again, the citation and the parameter reads shared). So the text is kept by
    value; a step whose texts are not plain ``str`` is written the usual way."""
    if type(step) is not TraceStep:
        raise Unvouched
    name, rule, outcome, quote = step.step, step.rule, step.outcome, step.quote
    citation, reads = step.citation, step.parameters
    if (
        type(name) is not str
        or type(rule) is not str
        or type(outcome) is not str
        or (quote is not None and type(quote) is not str)
        or type(reads) is not tuple
    ):
        return _write_step(step, layout, 2)
    key = (name, rule, outcome, quote, id(citation), *map(id, reads))
    entry = _STEPS.get(key)
    if entry is None:
        if len(_STEPS) >= STEPS_KEPT:
            _STEPS.clear()
        texts: dict[str, str] = {}
        text = texts[tag] = _write_step(step, layout, 2)  # checks the citation and reads
        _STEPS[key] = (texts, citation, reads)
        return text
    found = entry[0].get(tag)
    if found is None:
        found = entry[0][tag] = _write_step(step, layout, 2)
    return found


def _array(values: object, layout: _Layout, depth: int, write: _Writer, out: list[str]) -> None:
    """A tuple of records at ``depth``, each written at ``depth + 1``."""
    records = _tuple(values)
    if not records:
        out.append("[]")
        return
    start, between, end = layout.arrays[depth]
    before = start
    for record in records:
        out.append(before)
        write(record, layout, depth + 1, out)
        before = between
    out.append(end)


def _lines(values: object, layout: _Layout, out: list[str]) -> None:
    """The ``lines`` array (depth 1): per line, its text up to the citation, then the
    citation's text, shared by every line that holds the same citation."""
    lines = _tuple(values)
    if not lines:
        out.append("[]")
        return
    k0, k1, k2, k3, k4, k5, k6 = layout.at[Line][2]
    start, between, end = layout.arrays[1]
    # The texts of the values lines share (a disposition, a reason code, a citation), one
    # table per field, by the value's identity: the lines hold them for the whole call, so
    # no id is reused; each value is checked the first time it is met. A disposition's text
    # comes with the keys around it, a reason's with the quote before and the key after it.
    dispositions: dict[int, str] = {}
    reasons: dict[int, str] = {}
    citations: dict[int, str] = {}
    append = out.append
    before, after = start + k0, f"{k6}{between}{k0}"
    amounts = f'"{k3}"'
    for line in lines:
        if type(line) is not Line:
            raise Unvouched
        # attributes, not __dict__: reading that of a large settlement's line (whose values
        # are kept against the class's shared key table) would make it a dict of its own
        charge_id, disposition, reason = line.charge_id, line.disposition, line.reason
        amount, allowed, citation = line.amount, line.allowed_amount, line.citation
        if type(amount) is not Decimal or type(allowed) is not Decimal:
            raise Unvouched
        # an included line allowed in full holds the same Decimal twice: one str() for both
        allowed_text = str(allowed)
        amount_text = allowed_text if amount is allowed else str(amount)
        if type(charge_id) is str and charge_id.isascii():
            charge_id = _escape(charge_id)
        else:
            charge_id = _text(charge_id)
        chosen = dispositions.get(id(disposition))
        if chosen is None:
            if type(disposition) is not Disposition:
                raise Unvouched
            chosen = dispositions[id(disposition)] = (
                f'{k1}{_DISPOSITIONS[disposition._value_]}{k2}"'
            )
        quoted = reasons.get(id(reason))
        if quoted is None:
            quoted = reasons[id(reason)] = f'"{k4}{_text(reason)}{k5}'
        append(f"{before}{charge_id}{chosen}{amount_text}{amounts}{allowed_text}{quoted}")
        cited = citations.get(id(citation))
        if cited is None:
            cited = citations[id(citation)] = _citation(citation, layout, 3)
        append(cited)
        before = after
    append(k6 + end)


def _settlement(value: Settlement, layout: _Layout) -> str:
    k = layout.at[Settlement][0]
    programme = value.programme
    if type(programme) is not Programme:
        raise Unvouched
    out = [
        k[0],
        _text(value.episode_id),
        k[1],
        _policy(value.policy, layout, 1),
        f"{k[2]}{_text(value.library_version)}{k[3]}{_PROGRAMMES[programme._value_]}"
        f"{k[4]}{_choice(value.status, _STATUSES)}{k[5]}",
    ]
    _array(value.rejection_reasons, layout, 1, _rejection, out)
    out += (k[6], _choice(value.settled_as, _SETTLED_AS), k[7])
    _conversion(value.conversion, layout, 1, out)
    out.append(k[8])
    _time_limit(value.time_limit, layout, 1, out)
    out.append(k[9])
    _windows(value.windows, layout, 1, out)
    out.append(k[10])
    _payment(value.payment, layout, 1, out)
    out.append(k[11])
    _lines(value.lines, layout, out)
    out.append(k[12])
    _totals(value.totals, layout, 1, out)
    out.append(k[13])
    _array(value.flags, layout, 1, _flag, out)
    out.append(k[14])
    _trace(value.trace, layout, out)
    out.append(k[15])
    return "".join(out)
