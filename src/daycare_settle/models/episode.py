"""The episode a hospital information system hands in: one day-care stay and its charges.

Field names follow the issue contract. Checks made here are those that need no policy:
times in order, ids unique, sessions not overlapping, a conversion inside the stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Annotated, TypeVar

from pydantic import AfterValidator, Field, model_validator

from ..errors import FieldProblem
from .common import (
    CategoryField,
    CodeSystem,
    FrozenModel,
    LocalDateTime,
    Money,
    Programme,
    Quantity,
    Route,
    SessionKind,
    Setting,
)


class InconsistentEpisode(ValueError):
    """Checks across fields failed; each problem names its own field."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = tuple(problems)


NonEmptyStr = Annotated[str, Field(min_length=1, max_length=200)]
T = TypeVar("T")


def _non_empty(items: tuple[T, ...]) -> tuple[T, ...]:
    # An after-validator rather than ``min_length``: it runs only when every item is
    # valid, so one bad charge is reported once, not also as "too few charges".
    if not items:
        raise ValueError("must list at least one item")
    return items


class Institution(FrozenModel):
    """The designated hospital (定点医疗机构)."""

    id: NonEmptyStr
    tier: Annotated[int, Field(ge=1, le=3, strict=True)]
    filed_programmes: tuple[Programme, ...] = ()
    departments: tuple[NonEmptyStr, ...] = ()
    filed_diseases: tuple[NonEmptyStr, ...] | None = None
    """Codes of the diseases the hospital filed for day care (备案病种), where recorded."""


class Patient(FrozenModel):
    id: NonEmptyStr


class Code(FrozenModel):
    """A diagnosis or procedure code; the first diagnosis of an episode is the principal."""

    code: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^\S+$")]
    system: CodeSystem


class Session(FrozenModel):
    """One treatment session inside a stay that spans days."""

    start: LocalDateTime
    end: LocalDateTime
    kind: SessionKind
    route: Route | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Session:
        if self.end < self.start:
            raise ValueError("session end is before its start")
        return self


class Conversion(FrozenModel):
    """The move from day care to an ordinary ward (转普通住院)."""

    at: LocalDateTime
    ward: NonEmptyStr


class ClinicalPathway(FrozenModel):
    """Optional clinical-pathway dates: first visit for this disease, end of the pathway."""

    first_visit_at: LocalDateTime | None = None
    ended_at: LocalDateTime | None = None


class Charge(FrozenModel):
    """One itemised charge (费用明细)."""

    id: NonEmptyStr
    at: LocalDateTime
    setting: Setting
    institution_id: NonEmptyStr | None = None
    category: CategoryField
    amount: Money
    quantity: Quantity | None = None
    related: Annotated[bool, Field(strict=True)] = False
    route: Route | None = None


class Episode(FrozenModel):
    """A day-care episode to settle."""

    episode_id: NonEmptyStr
    programme: Programme
    admitted_at: LocalDateTime
    discharged_at: LocalDateTime
    institution: Institution
    patient: Patient
    consent_signed: Annotated[bool, Field(strict=True)]
    extension_reason: NonEmptyStr | None = None
    diagnoses: Annotated[tuple[Code, ...], AfterValidator(_non_empty)]
    procedures: tuple[Code, ...] = ()
    sessions: tuple[Session, ...] = ()
    conversion: Conversion | None = None
    clinical_pathway: ClinicalPathway | None = None
    agency_method_choice: NonEmptyStr | None = None
    """A hospital's choice among agency methods where a policy allows one (e.g. a quota)."""
    charges: Annotated[tuple[Charge, ...], AfterValidator(_non_empty)]

    @model_validator(mode="after")
    def _consistent(self) -> Episode:
        problems: list[FieldProblem] = []
        if self.discharged_at < self.admitted_at:
            problems.append(FieldProblem("discharged_at", "is before admitted_at"))
        problems.extend(_duplicate_charge_ids(self.charges))
        problems.extend(_session_problems(self))
        if self.conversion is not None and not (
            self.admitted_at <= self.conversion.at <= self.discharged_at
        ):
            problems.append(
                FieldProblem("conversion.at", "lies outside the stay (admitted_at..discharged_at)")
            )
        pathway = self.clinical_pathway
        if (
            pathway is not None
            and pathway.first_visit_at is not None
            and pathway.first_visit_at > self.admitted_at
        ):
            problems.append(FieldProblem("clinical_pathway.first_visit_at", "is after admitted_at"))
        if (
            pathway is not None
            and pathway.ended_at is not None
            and (pathway.ended_at < self.admitted_at)
        ):
            problems.append(FieldProblem("clinical_pathway.ended_at", "is before admitted_at"))
        if self.conversion is None:
            problems.extend(
                FieldProblem(
                    f"charges[{i}].setting", "'inpatient' needs a conversion on the episode"
                )
                for i, charge in enumerate(self.charges)
                if charge.setting is Setting.INPATIENT
            )
        if problems:
            raise InconsistentEpisode(problems)
        return self

    @property
    def principal_diagnosis(self) -> Code:
        return self.diagnoses[0]

    def charge_institution(self, charge: Charge) -> str:
        """The institution a charge arose at (the episode's, unless the charge names one)."""
        return charge.institution_id or self.institution.id


def _duplicate_charge_ids(charges: Sequence[Charge]) -> list[FieldProblem]:
    seen: dict[str, int] = {}
    problems = []
    for index, charge in enumerate(charges):
        if charge.id in seen:
            problems.append(
                FieldProblem(
                    f"charges[{index}].id", f"{charge.id!r} repeats charges[{seen[charge.id]}].id"
                )
            )
        else:
            seen[charge.id] = index
    return problems


def _session_problems(episode: Episode) -> list[FieldProblem]:
    problems = []
    ordered = sorted(enumerate(episode.sessions), key=lambda pair: pair[1].start)
    for (i, earlier), (j, later) in pairwise(ordered):
        if later.start < earlier.end:
            problems.append(FieldProblem(f"sessions[{j}]", f"overlaps sessions[{i}]"))
    for index, session in enumerate(episode.sessions):
        if session.start < episode.admitted_at or session.end > episode.discharged_at:
            problems.append(FieldProblem(f"sessions[{index}]", "lies outside the stay"))
    return problems
