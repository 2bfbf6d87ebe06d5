"""The rule-file schema: generic rule kinds that a city's YAML file sets.

Every rule says where it comes from: ``source`` (required) names a clause of the file's
``clauses`` table (document, clause number, quoted original text); every decision and every
line of a result cites it. Where the clause does not state a value, the rule's ``readings``
label that value (``local-parameter``, ``national-definition`` or ``illustrative``, a note,
the alternative and the value that selects it); where the rule's kind itself is a reading,
the rule carries ``provenance`` and a ``note``. All models reject unknown keys and are
frozen; a wrong key fails at load with file:line.

The kinds are in pipeline order: the base rule and provenance; the header, clauses and
catalogues; eligibility; time limit; merge; conversion; charge rules (between sessions, daily
fee schedule); payment (patient side, agency kinds with quotas and disease tables); the
programme and the file.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, model_validator

from ..models.common import (
    CategoryField,
    FrozenModel,
    Money,
    Programme,
    Quantity,
    Route,
    SessionKind,
)

# --- base: provenance, readings, the rule ----------------------------------------------------

Provenance = Literal[
    "explicit", "local-parameter", "national-definition", "illustrative", "background-strategy"
]
"""``background-strategy`` labels the rules of an audit profile only (a rule file refuses
it): a strategy from background reading, not any policy's rule."""
ReadingProvenance = Literal["local-parameter", "national-definition", "illustrative"]
MAX_LIMIT_HOURS = 24 * 366
"""The longest stay limit a rule may set (a leap year of hours)."""
StrictDate = Annotated[dt.date, Field(strict=True)]
"""A date read from YAML as a date (``YYYY-MM-DD``), never from text or a number."""
Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.\-]*$", max_length=80)]
_RULE_KEYS = frozenset({"source", "provenance", "note", "alternative", "readings", "kind"})


class Reading(FrozenModel):
    """One value of a rule that its clause does not state (a reading, 解读): what kind of
    reading it is, what was chosen and why, and the other reading a deployment may choose
    by setting the value differently in its rule file."""

    provenance: ReadingProvenance
    note: str = Field(min_length=1)
    """What was chosen and why."""
    alternative: str = Field(min_length=1)
    """The other reading(s), and the value of this key that selects each."""
    source: str | None = None
    """For ``national-definition`` (required): the clause, naming its national document
    (``document``), that states the value; otherwise the clause that leaves the value
    open, where it is not the rule's own."""

    @model_validator(mode="after")
    def _national_source(self) -> Reading:
        if self.provenance == "national-definition" and self.source is None:
            raise ValueError(
                "a national-definition reading needs 'source': the clause of the national "
                "document that states the value"
            )
        return self


class Rule(FrozenModel):
    """What every rule carries: its clause, and the provenance of what the clause lacks.

    ``source`` is required: the clause that states the rule or, for a reading, the clause
    that leaves the matter open (e.g. one delegating details to the agency or region).
    ``provenance`` and ``note`` label the rule as a whole (its kind is itself a reading);
    ``readings`` labels single values: each key names a field of the rule whose value the
    cited clause does not state. A value without a reading has the rule's provenance.
    """

    source: str = Field(min_length=1)
    provenance: Provenance = "explicit"
    note: str | None = None
    alternative: str | None = None
    """For a rule whose kind is a reading: the other reading, and the rule that selects it."""
    readings: dict[str, Reading] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_origin(self) -> Rule:
        if self.provenance != "explicit" and not self.note:
            raise ValueError(
                f"provenance {self.provenance!r} needs a 'note' saying what was chosen"
            )
        if self.alternative is not None and self.provenance == "explicit":
            raise ValueError("'alternative' labels a reading: give the rule its 'provenance'")
        fields = set(type(self).model_fields) - _RULE_KEYS
        unknown = sorted(set(self.readings) - fields)
        if unknown:
            known = ", ".join(sorted(fields)) or "none"
            raise ValueError(
                f"readings name {', '.join(unknown)}, which this rule does not have "
                f"(its values: {known})"
            )
        return self

    def provenance_of(self, field: str) -> str:
        """The provenance of one value: its reading's, else the rule's own."""
        reading = self.readings.get(field)
        return self.provenance if reading is None else reading.provenance


# --- header, clauses, catalogues -------------------------------------------------------------


class PolicyHeader(FrozenModel):
    id: Identifier
    document: str = Field(min_length=1)
    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    region: str = Field(min_length=1)
    issued: StrictDate | None = None
    effective_from: StrictDate
    effective_until: StrictDate | None = None
    """Last day in force, inclusive; absent while the policy stands."""
    confirmed_until: StrictDate
    """The day up to which the rule file was last checked against its source (required).
    An episode admitted after it settles with a ``POLICY_UNCONFIRMED`` flag, or fails
    under ``strict=True`` (see docs/versions.md)."""
    replaces: str | None = None
    scope: str = Field(min_length=1)
    """The clause (a key of ``clauses``) that says what the policy covers; cited when an
    episode's programme is not one the policy covers."""
    source: str | None = None
    """The clause that states the policy's window (e.g. a pilot's first and last day); a
    flag on sessions after ``effective_until`` cites it, so it is required with
    ``effective_until``."""

    @model_validator(mode="after")
    def _window(self) -> PolicyHeader:
        if self.effective_until is not None and self.effective_until < self.effective_from:
            raise ValueError("effective_until is before effective_from")
        if self.effective_until is not None and self.source is None:
            raise ValueError(
                "effective_until needs 'source': the clause that states the policy's last "
                "day (cited by the SESSIONS_AFTER_POLICY_END flag)"
            )
        return self


class Clause(FrozenModel):
    """A clause of a policy document with its original wording."""

    clause: str = Field(min_length=1)
    quote: str = Field(min_length=1)
    document: str | None = None
    """The document number, where it is not the policy's own (e.g. a national rule)."""
    reading: str | None = None
    """A corrected reading where the published wording is damaged (the quote stays verbatim)."""


CodeSystemName = Literal["ICD-10", "TCD", "ICD-9-CM-3"]
"""The code systems a catalogue may hold."""
CatalogueFormat = Literal[
    "yaml", "platform-1310", "platform-1311", "platform-1314", "platform-1315"
]
"""How a catalogue file is written: ``yaml`` (this library's catalogue or disease-table
form) or a catalogue download of the medical-insurance platform (医保信息平台目录下载), by
its interface number (see docs/platform-catalogues.md)."""


class CatalogueRef(Rule):
    """A catalogue data file, relative to the rule file.

    ``format`` (default ``yaml``) says how the file is written. A platform download
    (``platform-13xx``) also says which of its columns is matched (``column``, e.g.
    ``QUA_OPRN_OPRT_CODE`` of list 1311) and in which code system that column's codes are
    (``system``); both are required there and refused for ``yaml``."""

    file: str = Field(min_length=1)
    format: CatalogueFormat = "yaml"
    column: str | None = Field(default=None, min_length=1)
    system: CodeSystemName | None = None

    @model_validator(mode="after")
    def _platform_fields(self) -> CatalogueRef:
        if self.format == "yaml":
            if self.column is not None or self.system is not None:
                raise ValueError(
                    "'column' and 'system' describe a platform catalogue: a yaml catalogue "
                    "states its system in its own header"
                )
        elif self.column is None or self.system is None:
            raise ValueError(
                f"a {self.format} catalogue needs 'column' (the column whose codes are "
                "matched) and 'system' (the code system of that column)"
            )
        return self


class CatalogueHeader(FrozenModel):
    id: Identifier
    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    status: Literal["official", "starter", "illustrative"]
    """``starter``: a small set a deployment replaces; ``illustrative``: examples only."""
    origin: str = Field(min_length=1)
    system: CodeSystemName


class CatalogueEntry(FrozenModel):
    """A code prefix (``51.23`` matches ``51.2300x001``) or an inclusive range of
    three-character categories (``C00``–``C97``)."""

    code: str | None = Field(default=None, min_length=1)
    range: tuple[str, str] | None = None
    name: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_form(self) -> CatalogueEntry:
        if (self.code is None) == (self.range is None):
            raise ValueError("give exactly one of 'code' or 'range'")
        return self


class CatalogueFile(FrozenModel):
    catalogue: CatalogueHeader
    entries: tuple[CatalogueEntry, ...] = Field(min_length=1)


# --- eligibility -----------------------------------------------------------------------------


class ProgrammeFiled(Rule):
    """The hospital filed this programme with the agency (备案)."""

    kind: Literal["programme_filed"]


class ConsentSigned(Rule):
    """The patient signed the day-care informed-consent form (知情同意书)."""

    kind: Literal["consent_signed"]


class MinTier(Rule):
    """The hospital's tier is at least ``min_tier`` (二级及以上, 三级)."""

    kind: Literal["min_tier"]
    min_tier: StrictInt = Field(ge=1, le=3)


class DepartmentRequired(Rule):
    """The hospital has a department (e.g. ``oncology``): ``department``, or any one of
    ``departments`` where the clause names several (中医科或针灸科或中医康复科住院病区)."""

    kind: Literal["department"]
    department: str | None = Field(default=None, min_length=1)
    departments: tuple[Annotated[str, Field(min_length=1)], ...] | None = Field(
        default=None, min_length=2
    )

    @model_validator(mode="after")
    def _one_form(self) -> DepartmentRequired:
        if (self.department is None) == (self.departments is None):
            raise ValueError(
                "give exactly one of 'department' (one required) or 'departments' "
                "(any one of two or more)"
            )
        if self.departments is not None and len(set(self.departments)) != len(self.departments):
            raise ValueError("'departments' names a department twice")
        return self

    @property
    def any_of(self) -> tuple[str, ...]:
        """The departments of which the hospital must have one."""
        return (self.department,) if self.department is not None else self.departments or ()


class CatalogueMatch(Rule):
    """A code of the episode is in a catalogue (matched by code prefix)."""

    kind: Literal["catalogue_match"]
    catalogue: str
    target: Literal["principal_diagnosis", "any_diagnosis", "any_procedure"]


class FiledDiseases(Rule):
    """Where the institution records the diseases it filed, the episode's disease is one."""

    kind: Literal["filed_diseases"]


class SessionRoute(Rule):
    """Sessions of a kind are given, with a route, and not all by an excluded route."""

    kind: Literal["session_route"]
    session_kind: SessionKind
    excluded_when_all: tuple[Route, ...] = Field(min_length=1)


class SessionTrait(FrozenModel):
    """What a session must be to count toward a ``sessions_mainly`` share: given by
    ``route``, or of ``session_kind`` (exactly one)."""

    route: Route | None = None
    session_kind: SessionKind | None = None

    @model_validator(mode="after")
    def _one(self) -> SessionTrait:
        if (self.route is None) == (self.session_kind is None):
            raise ValueError("give exactly one of 'route' or 'session_kind'")
        return self

    def describe(self) -> str:
        if self.route is not None:
            return f"by the {self.route.value} route"
        assert self.session_kind is not None  # one of the two, by the validator
        return f"{self.session_kind.value} sessions"


class SessionsMainly(Rule):
    """Treatment mainly (为主) of one sort: of the episode's ``sessions`` (a session kind, or
    ``all``), the share that are ``mainly`` (by a route, or of a session kind) is at least
    ``min_share`` (``comparison: at_least``) or more than it (``more_than``). Sessions are
    required; a counted session without a route, where the route is judged, is refused."""

    kind: Literal["sessions_mainly"]
    sessions: SessionKind | Literal["all"]
    mainly: SessionTrait
    min_share: Quantity
    """A decimal share of the counted sessions, above 0 and at most 1 (e.g. ``"0.5"``)."""
    comparison: Literal["at_least", "more_than"]

    @model_validator(mode="after")
    def _share(self) -> SessionsMainly:
        if not Decimal(0) < self.min_share <= Decimal(1):
            raise ValueError('min_share must be above 0 and at most 1 (a share, e.g. "0.5")')
        if self.comparison == "more_than" and self.min_share == Decimal(1):
            raise ValueError("more_than a share of 1 can never hold; use at_least")
        return self


class SessionsRequired(Rule):
    """Eligibility: the episode gives at least one treatment session (治疗次), each of a kind
    the programme treats; an episode without sessions cannot be judged session by session."""

    kind: Literal["sessions_required"]
    session_kinds: tuple[SessionKind, ...] = Field(min_length=1)


class DiseaseMapped(Rule):
    """The principal diagnosis (TCD or ICD-10) maps to exactly one disease of ``table``
    through its TCD↔ICD-10 mapping (中西医编码映射)."""

    kind: Literal["disease_mapped"]
    table: Identifier


EligibilityRule = Annotated[
    ProgrammeFiled
    | ConsentSigned
    | MinTier
    | DepartmentRequired
    | CatalogueMatch
    | FiledDiseases
    | SessionRoute
    | SessionsMainly
    | SessionsRequired
    | DiseaseMapped,
    Field(discriminator="kind"),
]


# --- time limit ------------------------------------------------------------------------------


class StayHours(Rule):
    """Admission to discharge within ``limit_hours``; a condition-driven extension up to
    ``extended_limit_hours`` when the episode gives an ``extension_reason``."""

    kind: Literal["stay_hours"]
    limit_hours: StrictInt = Field(gt=0, le=MAX_LIMIT_HOURS)
    extended_limit_hours: StrictInt | None = Field(default=None, gt=0, le=MAX_LIMIT_HOURS)

    @model_validator(mode="after")
    def _ordered(self) -> StayHours:
        if self.extended_limit_hours is not None and self.extended_limit_hours <= self.limit_hours:
            raise ValueError("extended_limit_hours must exceed limit_hours")
        return self


class NoTimeLimit(Rule):
    """The programme has no stay-length limit (the stay spans days)."""

    kind: Literal["none"]


class CycleLength(Rule):
    """The usual longest settlement cycle (结算周期), in calendar days, admission to discharge."""

    days: StrictInt = Field(gt=0, le=366)


class SessionsSameDay(Rule):
    """Time limit for a stay that spans a settlement cycle: no limit on the stay, but each
    session starts and ends on one calendar day (当次治疗结束后，患者离院); a session that
    does not, or a cycle longer than ``max_cycle``, is flagged, not rejected."""

    kind: Literal["sessions_same_day"]
    max_cycle: CycleLength | None = None


TimeLimitRule = Annotated[StayHours | NoTimeLimit | SessionsSameDay, Field(discriminator="kind")]


# --- merge -----------------------------------------------------------------------------------


class DaysWindow(Rule):
    """Calendar days (Asia/Shanghai) before admission or after discharge."""

    kind: Literal["days"]
    days: StrictInt = Field(ge=0, le=366)


class ClinicalPathwayWindow(Rule):
    """From the first visit for this disease (before admission) or until the end of the
    clinical pathway (after discharge), as the episode's ``clinical_pathway`` records."""

    kind: Literal["clinical_pathway"]


WindowRule = Annotated[DaysWindow | ClinicalPathwayWindow, Field(discriminator="kind")]


class MergeWindow(Rule):
    """Outpatient (or post-discharge) charges that merge into the stay."""

    kind: Literal["merge_window"]
    same_institution: StrictBool
    requires_related: StrictBool
    categories: tuple[CategoryField, ...] | Literal["all"]
    window: WindowRule


class NoMerge(Rule):
    """Nothing of this setting merges."""

    kind: Literal["none"]


MergeRule = Annotated[MergeWindow | NoMerge, Field(discriminator="kind")]


class MergeDuringStay(Rule):
    """Charges the hospital booked as an outpatient visit (``setting: outpatient``) but dated
    inside the stay (admission to discharge, both included; before any conversion where the
    ward part settles separately) that join the stay: at this hospital where
    ``same_institution``, marked ``related`` where ``requires_related``, of ``categories``.
    The booking does not take a charge out of the stay's time (e.g. 期间发生的且与本次治疗
    相关的辅助检查费用一并纳入该次费用结算)."""

    kind: Literal["during_stay"]
    same_institution: StrictBool
    requires_related: StrictBool
    categories: tuple[CategoryField, ...] | Literal["all"]


DuringStayRule = Annotated[MergeDuringStay | NoMerge, Field(discriminator="kind")]


class MergeRules(FrozenModel):
    """Which charges outside the day-care booking settle with the stay, decided by the
    charge's time: before admission (``pre_admission``), inside the stay although booked
    as an outpatient visit (``during_stay``), after discharge (``post_discharge``)."""

    pre_admission: MergeRule
    post_discharge: MergeRule
    during_stay: DuringStayRule
    """Required, like both windows: ``kind: none`` keeps an outpatient-booked charge inside
    the stay an outpatient cost (``not_merged``, ``OUTPATIENT_CHARGE_DURING_STAY``), citing
    this rule; a rule file that says nothing is a load error, never a silent default."""


# --- conversion ------------------------------------------------------------------------------

AgencyMethod = Literal[
    "drg",
    "dip_score",
    "per_disease",
    "per_bed_day",
    "value_based",
    "fee_for_service",
    "quota_minus_fees",
]
ConversionMode = Literal["merged", "separate"]


class ConvertToOrdinaryInpatient(Rule):
    """A converted episode (转普通住院) is settled; ``mode`` says how:

    - ``merged``: day-care and ward costs settle together here as one ordinary inpatient
      stay, paid by ``agency`` (required) and counted toward the annual inpatient cap as
      ``counts_toward_annual_inpatient_cap`` (required);
    - ``separate``: two settlements. The day-ward part (before the conversion instant)
      settles here under the programme's own payment rules; the ward part (from the
      conversion instant) belongs to a separate ordinary inpatient settlement outside this
      one: its charges are ``not_merged`` (``WARD_STAY_SETTLED_SEPARATELY``). ``agency`` and
      ``counts_toward_annual_inpatient_cap`` are not given (this settlement does not pay the
      ward stay).

    ``keep_merges``: the merge windows that still apply after a conversion."""

    kind: Literal["ordinary_inpatient"]
    mode: ConversionMode
    agency: AgencyMethod | None = None
    counts_toward_annual_inpatient_cap: StrictBool | None = None
    keep_merges: tuple[Literal["pre_admission", "post_discharge"], ...] = ()

    @model_validator(mode="after")
    def _terms_fit_mode(self) -> ConvertToOrdinaryInpatient:
        terms = {
            "agency": self.agency,
            "counts_toward_annual_inpatient_cap": self.counts_toward_annual_inpatient_cap,
        }
        if self.mode == "merged":
            missing = [name for name, value in terms.items() if value is None]
            if missing:
                raise ValueError(
                    f"mode 'merged' settles the ward stay here and needs {', '.join(missing)}"
                )
        else:
            given = [name for name, value in terms.items() if value is not None]
            if given:
                raise ValueError(
                    f"mode 'separate' settles the ward stay elsewhere; remove {', '.join(given)}"
                )
        return self


class ConversionNotProvided(Rule):
    """The policy does not settle a converted episode; such an episode is rejected."""

    kind: Literal["not_provided"]


ConversionRule = Annotated[
    ConvertToOrdinaryInpatient | ConversionNotProvided, Field(discriminator="kind")
]


# --- charge rules: between sessions, daily fee schedule --------------------------------------
# Kinds for day wards whose stay spans a treatment cycle (e.g. an oncology radio-/chemo-
# therapy day ward): what may arise between sessions, and the per-day fees by session kind.


class BetweenSessions(Rule):
    """Between sessions (离开医疗机构至下次治疗前) only the listed categories may arise, and
    drugs only of ``drug_categories`` given by one of ``drug_routes``; with
    ``requires_related`` only where the charge is marked ``related`` (the hospital system's
    word that the treatment needs it). Any other charge lying after one session's end and
    before the next one's start is disallowed, whatever the hospital booked it as: a
    ``day_care`` charge and an ``outpatient``-booked one alike (a booking never takes a
    charge out of the interval).

    ``exempt_session_days``: a charge on the calendar day of a session counts as part of that
    day's visit (the episode records no time of leaving the hospital)."""

    kind: Literal["only_listed_between_sessions"]
    categories: tuple[CategoryField, ...]
    drug_categories: tuple[CategoryField, ...] = ()
    drug_routes: tuple[Route, ...] = ()
    requires_related: StrictBool
    exempt_session_days: StrictBool

    @model_validator(mode="after")
    def _drugs_with_routes(self) -> BetweenSessions:
        if bool(self.drug_categories) != bool(self.drug_routes):
            raise ValueError("give both 'drug_categories' and 'drug_routes', or neither")
        return self


class NotChargeable(Rule):
    """On a day of this session kind the schedule's categories are not chargeable."""

    kind: Literal["not_chargeable"]
    session_kind: SessionKind


class CappedPerDay(Rule):
    """On a day of this session kind each category is allowed up to a daily amount that
    depends on the hospital's tier (元/人次/天)."""

    kind: Literal["capped_per_day"]
    session_kind: SessionKind
    caps_by_tier: dict[Annotated[StrictInt, Field(ge=1, le=3)], dict[CategoryField, Money]] = Field(
        min_length=1
    )


FeeDayRule = Annotated[NotChargeable | CappedPerDay, Field(discriminator="kind")]


class DailyFeeSchedule(Rule):
    """Per-day fees (床位费、护理费、诊察费) of a day ward, by the kind of session on the day.

    ``days`` is in order of precedence: the first rule whose session kind occurs on a day
    decides it. A charge of ``categories`` on a day without a session, or on a day whose
    sessions no rule names, is disallowed (the schedule prices treatment days only)."""

    kind: Literal["daily_fees_by_session"]
    categories: tuple[CategoryField, ...] = Field(min_length=1)
    days: tuple[FeeDayRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _caps_cover_categories(self) -> DailyFeeSchedule:
        kinds = [day.session_kind for day in self.days]
        if len(set(kinds)) != len(kinds):
            raise ValueError("each session kind may have only one rule in 'days'")
        wanted = set(self.categories)
        for day in self.days:
            if isinstance(day, CappedPerDay):
                for tier, caps in day.caps_by_tier.items():
                    if set(caps) != wanted:
                        names = ", ".join(sorted(c.value for c in wanted))
                        raise ValueError(
                            f"caps_by_tier[{tier}] of {day.session_kind.value} days must cap "
                            f"exactly the schedule's categories ({names})"
                        )
        return self


def fee_schedule_gaps(rules: ProgrammeRules) -> tuple[tuple[str | int, ...], str] | None:
    """Where a capped fee day lacks a tier the programme admits (its ``min_tier`` .. 3): the
    path below the programme and a message; ``None`` when every admitted tier is priced."""
    schedule = rules.fee_schedule
    if schedule is None:
        return None
    lowest = max((r.min_tier for r in rules.eligibility if isinstance(r, MinTier)), default=1)
    for index, day in enumerate(schedule.days):
        if isinstance(day, CappedPerDay):
            missing = [t for t in range(lowest, 4) if t not in day.caps_by_tier]
            if missing:
                return (
                    ("fee_schedule", "days", index, "caps_by_tier"),
                    f"{day.session_kind.value} days price no tier {missing} although the "
                    f"programme admits tiers {lowest}..3",
                )
    return None


# --- payment: patient side, agency kinds (quotas, disease tables) ----------------------------
# A disease table (pay by disease, 按病种付费; TCM pilot 2025) maps each disease between TCD
# (中医病证分类与代码) and ICD-10 and gives its payment: category, method (per disease or per
# bed-day), standard, pre-pilot standard and the standard it references. Rules name a table
# declared under ``catalogues``.


class PatientSide(Rule):
    """Patient ↔ hospital: how the stay counts for the insured person."""

    kind: Literal["single_inpatient_stay"]
    counts_toward_annual_inpatient_cap: StrictBool


class AgencyLabel(Rule):
    """Agency ↔ hospital by a method whose amount the agency's own grouper computes."""

    kind: Literal["drg", "dip_score", "value_based", "fee_for_service"]
    basis: str | None = None
    """What the payment counts toward, in the policy's words (e.g. an annual budget)."""


class PerBedDay(Rule):
    """Agency pays per bed-day; ``rate`` where the policy sets one."""

    kind: Literal["per_bed_day"]
    count: Literal["session_days", "calendar_days"]
    rate: Money | None = None


class QuotaDisease(FrozenModel):
    """A disease formerly settled on a fixed quota (定额), matched by ICD-10 code prefix."""

    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    quota: Money


class QuotaList(Rule):
    diseases: tuple[QuotaDisease, ...] = Field(min_length=1)


class OrdinaryDailyFees(Rule):
    """The ordinary-inpatient daily fees, by tier and category, that a quota was built on."""

    by_tier: dict[Annotated[StrictInt, Field(ge=1, le=3)], dict[CategoryField, Money]] = Field(
        min_length=1
    )


class FeeForServiceOrQuota(Rule):
    """Fee-for-service (按服务项目); for a disease on ``quotas`` the hospital may choose
    (``agency_method_choice: quota_minus_fees``) the former quota minus the difference of
    the daily fees: Σ over treatment days of (ordinary daily fee − the day ward's allowed
    amount of those categories that day), never below zero."""

    kind: Literal["fee_for_service_or_quota"]
    quotas: QuotaList
    ordinary_daily_fees: OrdinaryDailyFees


DiseaseCategory = Literal["internal", "surgical", "rehabilitation"]
ReferenceBasis = Literal["western_drg_dip", "western_conservative_drg_dip", "historical_cost"]


class BedDayCount(Rule):
    """How bed-days are counted for a disease paid per bed-day."""

    kind: Literal["bed_days"]
    count: Literal["session_days", "calendar_days"]


class PerDisease(Rule):
    """Agency pays the standard of the episode's disease row in ``table``: per case, or per
    bed-day for rows whose method is ``per_bed_day``. ``references`` lists, per disease
    category, the reference standards a row may cite (checked at load).

    ``floor`` — a standard not below the row's pre-pilot standard (不低于试点前支付标准):
    ``check_table``: checked when the table loads; a row below it is a load error naming
    the row unless the row states its ``below_floor_reason`` (原则上: an exception the region
    gives), and each case is paid the table's standard; ``raise_payment``: each case's
    standard is raised to the pre-pilot standard when settled; ``null``: no floor."""

    kind: Literal["per_disease"]
    table: Identifier
    floor: Literal["check_table", "raise_payment"] | None
    references: dict[DiseaseCategory, tuple[ReferenceBasis, ...]] = Field(min_length=1)
    bed_days: BedDayCount | None = None


class DiseaseTableHeader(FrozenModel):
    id: Identifier
    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    status: Literal["official", "starter", "illustrative"]
    origin: str = Field(min_length=1)


class DiseaseReference(FrozenModel):
    """The standard a row's standard was set against (e.g. a western DRG/DIP group)."""

    basis: ReferenceBasis
    group: str | None = None
    amount: Money | None = None


class DiseaseRow(FrozenModel):
    """One disease: its TCD and ICD-10 codes (matched by prefix) and its payment."""

    name: str = Field(min_length=1)
    tcd: str = Field(min_length=1, pattern=r"^\S+$")
    icd10: str = Field(min_length=1, pattern=r"^\S+$")
    category: DiseaseCategory
    method: Literal["per_disease", "per_bed_day"]
    standard: Money
    pre_pilot_standard: Money
    reference: DiseaseReference | None = None
    below_floor_reason: str | None = Field(default=None, min_length=1)
    """Why the standard lies below the pre-pilot standard, where the region sets it so
    (an exception to the principle); a row below it without a reason fails ``check_table``."""


class DiseaseTableFile(FrozenModel):
    disease_table: DiseaseTableHeader
    diseases: tuple[DiseaseRow, ...] = Field(min_length=1)


AgencyRule = Annotated[
    AgencyLabel | PerBedDay | FeeForServiceOrQuota | PerDisease, Field(discriminator="kind")
]


class PaymentRules(FrozenModel):
    patient: PatientSide
    agency: AgencyRule


# --- audit flags ------------------------------------------------------------------------------
# Kinds that only flag a settled episode for review (稽核提示): they never change a line's
# disposition or an amount.


class DuplicateCharges(Rule):
    """Charges that look split or duplicated: two or more with the same category, time,
    amount and institution. (An item-code field on charges would sharpen the key.)"""

    kind: Literal["duplicate_charges"]


class RelatedOutsideWindows(Rule):
    """Charges marked ``related`` that are not merged because they fall outside every merge
    window (``NOT_MERGED_OUTSIDE_WINDOW``)."""

    kind: Literal["related_outside_windows"]


class ConsumablesShare(Rule):
    """The included amount of ``category`` is more than ``max_share`` of the episode's
    included amount."""

    kind: Literal["consumables_share"]
    category: CategoryField
    max_share: Quantity
    """A decimal share of the included amount, above 0 and below 1 (e.g. ``"0.4"``)."""

    @model_validator(mode="after")
    def _share(self) -> ConsumablesShare:
        if not Decimal(0) < self.max_share < Decimal(1):
            raise ValueError('max_share must be above 0 and below 1 (a share, e.g. "0.4")')
        return self


AuditRule = Annotated[
    DuplicateCharges | RelatedOutsideWindows | ConsumablesShare, Field(discriminator="kind")
]


# --- audit across episodes -------------------------------------------------------------------
# Kinds that ``daycare-settle audit`` checks over a stream of settled episodes (稽核提示 that
# need several episodes); like the in-episode kinds they never change a settlement.

MAX_WINDOW_DAYS = 366
"""The longest window a cross-episode rule may keep episodes for (a leap year)."""


class ReadmissionWithin(Rule):
    """A later admission of the same patient within ``days`` of an earlier episode's
    discharge: at the same institution unless ``same_institution`` is false, with the same
    principal diagnosis compared as ``diagnosis`` says (``exact`` code, ``category``: the
    first three characters of the ICD-10 code, or ``any``), after an earlier episode of one
    of ``after_programmes`` (all programmes when absent)."""

    kind: Literal["readmission_within"]
    days: Annotated[StrictInt, Field(ge=1, le=MAX_WINDOW_DAYS)]
    diagnosis: Literal["exact", "category", "any"] = "exact"
    same_institution: StrictBool = True
    after_programmes: tuple[Programme, ...] | None = None


class InstitutionRates(Rule):
    """Per institution: how many episodes converted to an ordinary ward and how many had an
    extended stay, out of those settled. Reported with their counts; judged only against a
    configured ``max_conversion_rate`` / ``max_extension_rate`` (absent: not judged)."""

    kind: Literal["institution_rates"]
    max_conversion_rate: Quantity | None = None
    max_extension_rate: Quantity | None = None
    min_episodes: Annotated[StrictInt, Field(ge=1)] = 1
    """Fewer settled episodes than this: the rates are reported but not judged."""

    @model_validator(mode="after")
    def _shares(self) -> InstitutionRates:
        for name in ("max_conversion_rate", "max_extension_rate"):
            value = getattr(self, name)
            if value is not None and not Decimal(0) <= value < Decimal(1):
                raise ValueError(f'{name} must be at least 0 and below 1 (a share, e.g. "0.1")')
        return self


class SameChargeInEpisodes(Rule):
    """The same charge included in two episodes of one patient admitted within ``days`` of
    each other. Two charges are the same when institution (the charge's, else the
    episode's), time, amount and category agree, and so does the item code when both carry
    one."""

    kind: Literal["same_charge_in_episodes"]
    days: Annotated[StrictInt, Field(ge=1, le=MAX_WINDOW_DAYS)]


CrossAuditRule = Annotated[
    ReadmissionWithin | InstitutionRates | SameChargeInEpisodes, Field(discriminator="kind")
]


PROFILE_PROVENANCE = "background-strategy"


def _rules_in(value: object) -> list[Rule]:
    """Every rule inside ``value`` (a model, tuple or dict), depth first."""
    if isinstance(value, Rule):
        return [value]
    if isinstance(value, FrozenModel):
        return [r for name in type(value).model_fields for r in _rules_in(getattr(value, name))]
    if isinstance(value, tuple | list):
        return [r for item in value for r in _rules_in(item)]
    if isinstance(value, dict):
        return [r for item in value.values() for r in _rules_in(item)]
    return []


class ProfileHeader(FrozenModel):
    """What an audit profile is and where its strategies come from."""

    id: Identifier
    title: str = Field(min_length=1)
    document: str = Field(min_length=1)
    """The source the strategies are read from (not a policy)."""
    provenance: Literal["background-strategy"]
    note: str = Field(min_length=1)


class ProfileFile(FrozenModel):
    """An optional audit profile (``rules/profiles/<id>.yaml``): audit kinds configured from a
    background source, every rule labelled ``provenance: background-strategy`` and citing a
    quoted passage of ``strategies``. Off unless asked for; never changes a settlement."""

    profile: ProfileHeader
    strategies: dict[Identifier, Clause] = Field(min_length=1)
    audit: tuple[AuditRule, ...] = ()
    audit_across: tuple[CrossAuditRule, ...] = ()

    @model_validator(mode="after")
    def _labelled(self) -> ProfileFile:
        for rule in (*self.audit, *self.audit_across):
            if rule.provenance != PROFILE_PROVENANCE:
                raise ValueError(
                    f"every profile rule needs provenance {PROFILE_PROVENANCE!r}, "
                    f"not {rule.provenance!r}"
                )
            if rule.source not in self.strategies:
                raise ValueError(f"rule source {rule.source!r} is not one of the strategies")
        return self


# --- programme and file ----------------------------------------------------------------------


class ProgrammeRules(FrozenModel):
    """All rules for one programme of a policy."""

    scope: Rule
    eligibility: tuple[EligibilityRule, ...]
    time_limit: TimeLimitRule
    merge: MergeRules
    conversion: ConversionRule
    payment: PaymentRules
    between_sessions: BetweenSessions | None = None
    """Absent: no rule on charges between sessions."""
    fee_schedule: DailyFeeSchedule | None = None
    """Absent: bed, nursing and consultation fees are taken as charged."""
    audit: tuple[AuditRule, ...] = ()
    """Flags for review on a settled episode; they never change a line or an amount."""


# --- platform codes --------------------------------------------------------------------------

MedTypeCode = Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,6}$")]
"""A 医疗类别 code of the national medical-insurance platform (``med_type``, up to 6
characters); quote it in YAML (``"28"``) so that it stays text."""


class PlatformCodes(Rule):
    """How the national medical-insurance platform's records name this policy's programmes
    (医疗类别 ``med_type`` of the 2401 admission record and the settlement list's
    ``ipt_med_type``): code → programme. The national dictionary has no day-care code, so
    each region sets its own; a code not listed here is refused, never read as "other"."""

    med_types: dict[MedTypeCode, Programme] = Field(min_length=1)


class RuleFile(FrozenModel):
    """A policy's rule file (``rules/<city>/<document>.yaml``)."""

    policy: PolicyHeader
    clauses: dict[Identifier, Clause] = Field(min_length=1)
    catalogues: dict[Identifier, CatalogueRef] = Field(default_factory=dict)
    programmes: dict[Programme, ProgrammeRules] = Field(min_length=1)
    audit_across: tuple[CrossAuditRule, ...] = ()
    """Checks across episodes (``daycare-settle audit``); they never change a settlement."""
    platform: PlatformCodes | None = None
    """Absent: the policy cannot settle platform records (``--from platform``)."""

    @model_validator(mode="after")
    def _no_profile_provenance(self) -> RuleFile:
        for rule in _rules_in(self):
            if rule.provenance == PROFILE_PROVENANCE:
                raise ValueError(
                    f"provenance {PROFILE_PROVENANCE!r} labels audit profiles only, "
                    "not a policy's rules"
                )
        return self

    @model_validator(mode="after")
    def _platform_programmes(self) -> RuleFile:
        if self.platform is not None:
            missing = sorted(
                {p.value for p in self.platform.med_types.values()} - set(self.programmes)
            )
            if missing:
                raise ValueError(
                    f"platform.med_types maps to {', '.join(missing)}, which this rule file "
                    "has no programme for"
                )
        return self
