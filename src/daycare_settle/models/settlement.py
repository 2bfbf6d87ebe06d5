"""The settlement the engine returns: decisions, one line per charge, totals, flags, trace.

Every model is frozen. ``model_dump(mode="json")`` gives plain JSON with amounts as strings;
:meth:`Settlement.to_json` gives the canonical byte-stable text.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from .._version import __version__
from .common import FrozenModel, Money, Programme, share_field_keys


class Citation(FrozenModel):
    """Where a decision comes from: the policy document and the clause."""

    document: str
    clause: str


class ParameterRead(FrozenModel):
    """A rule-file value a decision read, with where that value comes from."""

    name: str
    value: str
    provenance: str


class TraceStep(FrozenModel):
    """One decision, in the order the engine made it."""

    step: str
    rule: str
    outcome: str
    citation: Citation | None
    quote: str | None = None
    parameters: tuple[ParameterRead, ...] = ()


class RejectionReason(FrozenModel):
    code: str
    message: str
    citation: Citation | None


class TimeLimitStatus(StrEnum):
    WITHIN = "within"
    EXTENDED = "extended"
    EXCEEDED = "exceeded"
    NOT_APPLICABLE = "not_applicable"


class TimeLimit(FrozenModel):
    """The stay-length decision (24 h / 48 h, or none for programmes that span days)."""

    limit_hours: int | None
    extended_limit_hours: int | None
    duration_hours: str
    duration_seconds: int
    status: TimeLimitStatus
    citation: Citation | None


class CalculationStep(FrozenModel):
    """One line of arithmetic behind an agency amount."""

    label: str
    amount: Money
    note: str | None = None


class Payment(FrozenModel):
    """How the stay is paid: the patient side and the agency side."""

    patient: str
    agency: str
    counts_toward_annual_inpatient_cap: bool
    patient_citation: Citation | None
    agency_citation: Citation | None
    agency_amount: Money | None = None
    calculation: tuple[CalculationStep, ...] = ()
    basis: str | None = None
    units: str | None = None
    """A count the agency method pays by (e.g. bed-days), where it has one."""


class Disposition(StrEnum):
    INCLUDED = "included"
    NOT_MERGED = "not_merged"
    DISALLOWED = "disallowed"


class Line(FrozenModel):
    """What became of one input charge. ``allowed_amount`` is the part included; for an
    included line capped by a fee schedule, the rest counts as disallowed in the totals."""

    charge_id: str
    disposition: Disposition
    amount: Money
    allowed_amount: Money
    reason: str
    citation: Citation | None


share_field_keys(Line)


class Totals(FrozenModel):
    """``included + not_merged + disallowed == input`` to the fen."""

    input: Money
    included: Money
    not_merged: Money
    disallowed: Money
    merged_pre_admission: Money
    merged_post_discharge: Money


class Flag(FrozenModel):
    """An audit finding."""

    code: str
    severity: Literal["info", "warning", "violation"]
    message: str
    citation: Citation | None
    charge_ids: tuple[str, ...] = ()


class PolicyFile(FrozenModel):
    """One file a policy read: its path relative to the rule file's folder (``/``
    separators, the same on every machine) and the SHA-256 of its bytes."""

    path: str
    sha256: str


class CatalogueVersion(FrozenModel):
    """One catalogue or disease table a policy read: its key in the rule file, its own id,
    its version (for a platform download, the highest ``VER`` among its valid rows), how
    the file is written, and the file (relative to the rule file's folder, as in
    :attr:`PolicyRef.files`)."""

    key: str
    id: str
    version: str
    format: str
    """``yaml``, or the platform download it was read as (``platform-1311`` …)."""
    file: str


class PolicyRef(FrozenModel):
    """Which rules decided: id, document, version, and every file read with its SHA-256.

    ``sha256`` covers all of ``files``: the SHA-256 of the UTF-8 manifest holding one line
    ``"<sha256>  <path>\\n"`` per file, sorted by path (by code point) — what
    ``sha256sum`` prints for those files from the rule file's folder. ``files`` lists the
    rule file, the frame or version it extends, and its catalogues and disease tables; a
    frame's own ref (and that of an amended version) lists its file alone."""

    id: str
    document: str
    version: str
    sha256: str
    files: tuple[PolicyFile, ...] = ()
    catalogues: tuple[CatalogueVersion, ...] = ()
    """Every catalogue and disease table read, with its version, sorted by key."""
    frames: tuple[PolicyRef, ...] = ()
    """The national frames the rule file composes with (``extends:`` a frame file)."""
    amends: tuple[PolicyRef, ...] = ()
    """For an amendment: the version of the same policy it amends (``extends:`` a rule
    file), with that file's hash; the amendment's own header decides."""


class ConversionOutcome(FrozenModel):
    """How a converted episode (转普通住院) was settled: when it moved to which ward, and the
    policy's mode: ``merged`` (day-care and ward costs settled here as one ordinary stay) or
    ``separate`` (the day-ward part settled here; the ward part, from ``at``, belongs to a
    separate ordinary inpatient settlement and its charges are ``not_merged``)."""

    at: str
    """The conversion instant (ISO 8601 with offset); it belongs to the ward part."""
    ward: str
    mode: Literal["merged", "separate"]
    citation: Citation | None


class MergeWindowBounds(FrozenModel):
    """One merge window of this episode as the engine fixed it: the span a charge of that
    side must fall in (its other conditions are judged apart, per charge).

    ``start`` and ``end`` are instants (ISO 8601 with offset). A calendar-day window
    (``basis: calendar_days``) covers whole days in Asia/Shanghai: ``first_day`` ..
    ``last_day`` inclusive, i.e. from 00:00 of the first day to 00:00 of the day after the
    last. A pre-admission window ends at admission (charges before it); a post-discharge
    window starts at discharge (charges after it)."""

    basis: Literal["calendar_days", "clinical_pathway"]
    start: str | None
    """The first instant of the window; ``null`` when it has no start (a clinical-pathway
    window without ``clinical_pathway.first_visit_at``: any time before admission)."""
    end: str
    """The end of the window: admission (pre-admission); 00:00 after ``last_day``, or the
    end of the clinical pathway (inclusive; discharge when it is not given) (post-discharge)."""
    first_day: str | None = None
    """A pre-admission calendar-day window: its first day (ISO date); else ``null``."""
    last_day: str | None = None
    """A post-discharge calendar-day window: its last day (ISO date); else ``null``."""
    applied: bool = True
    """``false`` when a conversion to ordinary inpatient care drops this merge."""


class MergeWindows(FrozenModel):
    """The merge windows of the episode, one per side; ``null`` for a side whose rule
    merges nothing (``kind: none``)."""

    pre_admission: MergeWindowBounds | None
    post_discharge: MergeWindowBounds | None


class Settlement(FrozenModel):
    """The result of settling one episode."""

    episode_id: str
    policy: PolicyRef
    library_version: str = __version__
    """The version of daycare_settle that settled the episode."""
    programme: Programme
    status: Literal["settled", "rejected"]
    rejection_reasons: tuple[RejectionReason, ...]
    settled_as: Literal["day_care", "ordinary_inpatient"] | None
    """``ordinary_inpatient`` for a conversion settled in ``merged`` mode; ``day_care``
    otherwise (also for ``separate`` mode, which settles the day-ward part only)."""
    conversion: ConversionOutcome | None = None
    """Present when the episode converted and settled: the conversion and its mode."""
    time_limit: TimeLimit
    windows: MergeWindows | None = None
    """The merge windows as the engine fixed them (``null`` when the policy does not cover
    the programme, so no merge rule applies)."""
    payment: Payment | None
    lines: tuple[Line, ...]
    totals: Totals
    flags: tuple[Flag, ...]
    trace: tuple[TraceStep, ...]

    def to_json(self, *, indent: int | None = 2) -> str:
        """Canonical JSON: same episode and same rule file give the same bytes.

        The text ``model_dump_json(indent=indent)`` writes, put together by
        :mod:`.result_json` (a few times faster), or by the serialiser itself for a
        settlement holding anything that writer does not vouch for."""
        text = write_settlement(self, indent)
        return self.model_dump_json(indent=indent) if text is None else text


# The writer reads the models above; imported last, once they exist.
from .result_json import write_settlement  # noqa: E402
