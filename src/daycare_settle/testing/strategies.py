"""Hypothesis strategies that build episodes for a policy, read from its compiled rules.

:func:`episodes` draws **valid** episodes (plain JSON-like dicts, as a hospital system sends
them) for one programme of one policy. Each rule of the programme shapes the draw:

- eligibility: ``programme_filed`` → the hospital filed the programme; ``consent_signed`` →
  consent given; ``min_tier`` → a tier at or above it; ``department`` → the hospital has it
  (one of them, drawn, for ``departments``);
  ``catalogue_match`` → a code from the catalogue (an entry's code plus a suffix, or a
  category of a range); ``filed_diseases`` → the filing list names the disease (or is
  absent); ``session_route`` → sessions of that kind with an allowed route;
  ``sessions_mainly`` → sessions, enough of them by the route or of the kind (an ineligible
  draw may mix in others below the share);
  ``sessions_required`` → sessions of the listed kinds; ``disease_mapped`` → a principal
  diagnosis from the disease table, in TCD or ICD-10, with the other system's code as a hint;
- time limit: ``stay_hours`` → stays around ``limit_hours`` and ``extended_limit_hours``;
  ``none`` → stays over several days with a session a day; ``sessions_same_day`` → cycles
  of days up to past ``max_cycle``, one session on each of some days;
- merge windows: outpatient charges before admission and charges after discharge (booked
  ``post_discharge`` or as an outpatient visit), around the window's edges (days or clinical
  pathway), at this or another hospital, related or not; now and then an outpatient-booked
  charge inside the stay (``during_stay``) or a ``post_discharge`` one misdated inside it;
- charge rules: ``only_listed_between_sessions`` and ``daily_fees_by_session`` → day-ward
  charges of the categories they judge, on session days and between them, drugs with routes;
- payment: ``per_disease`` → a disease of its table; ``fee_for_service_or_quota`` → now and
  then a quota disease and the hospital's choice of method; ``per_bed_day`` → sessions where
  bed-days count sessions;
- conversion: a move to the ward part-way, with ward charges after it (``merged`` and
  ``separate`` modes alike; ``not_provided``: the same, refused by the engine).

A rule kind this module does not know raises :class:`UnsupportedRule` when the strategy is
built: it never draws episodes that silently ignore a rule. :func:`invalid_episodes` draws
inputs with exactly one known defect each.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

from hypothesis import strategies as st

from ..engine.payment import quota_disease
from ..models.common import SHANGHAI, Category, CodeSystem, Programme, Route, SessionKind
from ..models.episode import Code
from ..policy.disease_table import MAPPED_SYSTEMS, DiseaseTable
from ..policy.loader import Catalogue, Policy
from ..policy.registry import resolve_policy
from ..policy.schema import (
    AgencyLabel,
    BetweenSessions,
    CatalogueMatch,
    ClinicalPathwayWindow,
    ConsentSigned,
    ConversionNotProvided,
    ConvertToOrdinaryInpatient,
    DailyFeeSchedule,
    DaysWindow,
    DepartmentRequired,
    DiseaseMapped,
    FeeForServiceOrQuota,
    FiledDiseases,
    MergeDuringStay,
    MergeWindow,
    MinTier,
    NoMerge,
    NoTimeLimit,
    PerBedDay,
    PerDisease,
    ProgrammeFiled,
    ProgrammeRules,
    SessionRoute,
    SessionsMainly,
    SessionsRequired,
    SessionsSameDay,
    StayHours,
)

Stay = Literal["within", "extended", "exceeded", "eligible", "any"]
"""Stay lengths to draw: within the limit, extended (with a reason, up to the ceiling),
over the limit, ``eligible`` (within or extended) or ``any``."""

HOSPITAL = "H-KIT-001"
OTHER_HOSPITAL = "H-KIT-OTHER"
HOUR = 3600
DAY = 24 * HOUR
US = 1_000_000  # microseconds in a second

_SESSION_KIND = {
    Programme.DAY_SURGERY: SessionKind.SURGERY,
    Programme.DAY_CHEMO: SessionKind.CHEMOTHERAPY,
    Programme.ONCOLOGY_DAY_WARD: SessionKind.CHEMOTHERAPY,
    Programme.TCM_DAY_CARE: SessionKind.TCM,
}


class UnsupportedRule(NotImplementedError):
    """The strategy meets a rule kind it cannot satisfy; extend the kit for it."""


@dataclass(frozen=True)
class BadInput:
    """An input with one known defect: where it is (a path prefix of the expected
    :class:`~daycare_settle.FieldProblem`) and what it is."""

    data: Any
    path: str
    defect: str


# --- small pieces --------------------------------------------------------------------------


def amounts() -> st.SearchStrategy[str]:
    """Money as a decimal string with at most two decimals ("12", "12.5", "12.50")."""
    fen = st.one_of(st.integers(0, 2_000_000), st.sampled_from([0, 1, 99, 100, 999_999_99]))

    def text(value: int, style: int) -> str:
        yuan, cents = divmod(value, 100)
        if style == 0 and cents == 0:
            return str(yuan)
        if style == 1 and cents % 10 == 0:
            return f"{yuan}.{cents // 10}"
        return f"{yuan}.{cents:02d}"

    return st.builds(text, fen, st.integers(0, 2))


def categories() -> st.SearchStrategy[str]:
    """A category by name, or now and then by its national code "01"-"14"."""
    return st.one_of(
        st.sampled_from([c.value for c in Category]),
        st.sampled_from([c.national_code for c in Category]),
    )


def _render(moment: dt.datetime, style: int) -> str:
    """The same instant as naive Asia/Shanghai text, with +08:00, or in UTC."""
    local = moment.astimezone(SHANGHAI)
    if style == 0:
        return local.replace(tzinfo=None).isoformat()
    if style == 1:
        return local.isoformat()
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


_SUFFIXES = st.sampled_from(["", "0", "01", ".1", ".901", "00x001"])
"""What hospitals append to a listed code (e.g. ``51.23`` → ``51.2300x001``)."""


def _code_for(catalogue: Catalogue) -> st.SearchStrategy[str]:
    """A code the catalogue matches: an entry's code plus a suffix, or a range bound."""
    options: list[str] = []
    for entry in catalogue.entries:
        if entry.code is not None:
            options.append(entry.code)
        elif entry.range is not None:
            options.extend(entry.range)
    system = CodeSystem(catalogue.header.system)

    def checked(code: str) -> str:
        if catalogue.match(Code(code=code, system=system)) is None:  # pragma: no cover
            raise UnsupportedRule(f"cannot draw a code that catalogue {catalogue.key} matches")
        return code

    return st.builds(
        lambda base, suffix: checked(base + suffix), st.sampled_from(options), _SUFFIXES
    )


# --- the episode strategy -----------------------------------------------------------------


def episodes(
    policy: str | Path | Policy,
    programme: str | Programme = "day_surgery",
    *,
    stay: Stay = "eligible",
    eligible: bool = True,
    outpatient: bool = True,
    post_discharge: bool = True,
    conversion: bool | None = False,
    time_zones: bool = True,
    max_stay_charges: int = 6,
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid episodes (JSON-like dicts) for ``programme`` under ``policy``.

    ``stay`` picks stay lengths (see :data:`Stay`); ``eligible=False`` also draws hospitals
    of any tier, filings and departments and unsigned consent; ``outpatient`` and
    ``post_discharge`` add charges before admission and after discharge (this hospital or
    another, related or not, around the window edges); ``conversion`` ``True`` always,
    ``None`` sometimes, ``False`` never converts; ``time_zones`` mixes naive, +08:00 and UTC
    times. Raises :class:`UnsupportedRule` for a rule kind it does not know.
    """
    compiled = resolve_policy(policy)
    kind = Programme(programme)
    rules = compiled.programme(kind)
    if rules is None:
        covered = ", ".join(p.value for p in compiled.rules.programmes)
        raise ValueError(f"policy {compiled.id!r} covers {covered}, not {kind.value}")
    plan = _Plan(compiled, kind, rules, stay=stay, eligible=eligible)
    return st.composite(_draw)(
        plan,
        outpatient=outpatient,
        post_discharge=post_discharge,
        conversion=conversion,
        time_zones=time_zones,
        max_stay_charges=max_stay_charges,
    )


class _Plan:
    """What the programme's rules ask of an episode, checked once when the strategy is built."""

    def __init__(
        self,
        policy: Policy,
        programme: Programme,
        rules: ProgrammeRules,
        *,
        stay: Stay,
        eligible: bool,
    ) -> None:
        self.policy = policy
        self.programme = programme
        self.rules = rules
        self.eligible = eligible
        self.min_tier = 1
        self.departments: list[tuple[str, ...]] = []
        """Per department rule, the departments of which the hospital needs one."""
        self.principal: st.SearchStrategy[list[Code]] | None = None
        """The principal diagnosis and the codes that must come with it."""
        self.principal_catalogue: Catalogue | None = None
        self.principal_table: str | None = None
        self.extra_diagnoses: list[st.SearchStrategy[Code]] = []
        self.procedures: list[st.SearchStrategy[Code]] = []
        self.filed_diseases = False
        self.required_session_kinds: list[SessionKind] | None = None
        self.allowed_routes: list[Route] | None = None
        self.needs_sessions = False
        self.mainly: list[SessionsMainly] = []
        self.same_day_sessions = isinstance(rules.time_limit, SessionsSameDay)
        self.quota_rule: FeeForServiceOrQuota | None = None
        self.quota_codes: list[str] = []
        for rule in rules.eligibility:
            self._eligibility(rule)
        self._payment()
        self.durations = self._durations(stay)
        self._check_merge_and_conversion()
        self.day_ward_categories = self._charge_rules()

    def _eligibility(self, rule: object) -> None:
        if isinstance(rule, ProgrammeFiled | ConsentSigned | FiledDiseases):
            self.filed_diseases = self.filed_diseases or isinstance(rule, FiledDiseases)
        elif isinstance(rule, MinTier):
            self.min_tier = max(self.min_tier, rule.min_tier)
        elif isinstance(rule, DepartmentRequired):
            self.departments.append(rule.any_of)
        elif isinstance(rule, CatalogueMatch):
            catalogue = self.policy.catalogues[rule.catalogue]
            system = CodeSystem(catalogue.header.system)
            codes = _code_for(catalogue).map(partial(_as_code, system=system))
            if rule.target == "principal_diagnosis":
                self._set_principal(codes.map(lambda code: [code]), rule.kind)
                self.principal_catalogue = catalogue
            elif rule.target == "any_diagnosis":
                self.extra_diagnoses.append(codes)
            else:
                self.procedures.append(codes)
        elif isinstance(rule, SessionRoute):
            self._session_route(rule)
        elif isinstance(rule, SessionsMainly):
            self._sessions_mainly(rule)
        elif isinstance(rule, SessionsRequired):
            self._narrow_sessions(list(rule.session_kinds))
        elif isinstance(rule, DiseaseMapped):
            self._set_principal(
                _mapped_diagnoses(self.policy.disease_tables[rule.table]), rule.kind
            )
            self.principal_table = rule.table
        else:
            raise UnsupportedRule(f"eligibility rule kind {_kind(rule)!r} is not known to the kit")

    def _session_route(self, rule: SessionRoute) -> None:
        """Sessions of the rule's kind, each with a route it does not exclude."""
        self._narrow_sessions([rule.session_kind])
        self.allowed_routes = [
            r for r in (self.allowed_routes or list(Route)) if r not in rule.excluded_when_all
        ]
        if any(m.mainly.route in rule.excluded_when_all for m in self.mainly):
            raise UnsupportedRule("session_route excludes the route sessions_mainly asks for")

    def _sessions_mainly(self, rule: SessionsMainly) -> None:
        """Sessions are required (of the counted kind, where the rule names one), with routes
        where the rule judges them; each draw is then brought to (or, ineligible, maybe below)
        the rule's share by :func:`_mainly`."""
        if rule.sessions != "all":
            self._narrow_sessions([rule.sessions])
        elif rule.mainly.session_kind is not None:
            self._narrow_sessions([rule.mainly.session_kind])
        self.needs_sessions = True
        if rule.mainly.route is not None:
            routes = self.allowed_routes if self.allowed_routes is not None else list(Route)
            if rule.mainly.route not in routes:
                raise UnsupportedRule(
                    f"sessions_mainly asks for route {rule.mainly.route.value}, which another "
                    "rule excludes"
                )
            self.allowed_routes = routes
        self.mainly.append(rule)

    def _set_principal(self, codes: st.SearchStrategy[list[Code]], kind: str) -> None:
        if self.principal is not None:
            raise UnsupportedRule(
                f"two rules ({kind} and another) constrain the principal diagnosis; the kit "
                "cannot draw one code for both"
            )
        self.principal = codes

    def _admits_principal(self, code: Code) -> bool:
        """Whether the catalogue or disease table the principal is drawn from admits ``code``."""
        if self.principal_catalogue is not None:
            return self.principal_catalogue.match(code) is not None
        if self.principal_table is not None:
            return self.policy.disease_tables[self.principal_table].lookup([code]).row is not None
        return True

    def _narrow_sessions(self, kinds: list[SessionKind]) -> None:
        """Sessions are required, of kinds every session rule admits."""
        if self.required_session_kinds is not None:
            kinds = [k for k in self.required_session_kinds if k in kinds]
        if not kinds:
            raise UnsupportedRule("the session rules admit no session kind in common")
        self.required_session_kinds = kinds
        self.needs_sessions = True

    @property
    def session_kinds(self) -> list[SessionKind]:
        """The kinds sessions are drawn from: the required ones, else the programme's own."""
        return self.required_session_kinds or [_SESSION_KIND[self.programme]]

    def _payment(self) -> None:
        agency = self.rules.payment.agency
        if isinstance(agency, PerBedDay):
            self.needs_sessions = self.needs_sessions or agency.count == "session_days"
        elif isinstance(agency, PerDisease):
            if agency.bed_days is not None and agency.bed_days.count == "session_days":
                self.needs_sessions = True
            if self.principal_table != agency.table:
                table = self.policy.disease_tables[agency.table]
                self._set_principal(_mapped_diagnoses(table), agency.kind)
                self.principal_table = agency.table
        elif isinstance(agency, FeeForServiceOrQuota):
            self.quota_rule = agency
            self.quota_codes = [
                d.code
                for d in agency.quotas.diseases
                if self._admits_principal(_as_code(d.code, CodeSystem.ICD_10))
            ]
        elif not isinstance(agency, AgencyLabel):
            raise UnsupportedRule(f"agency rule kind {_kind(agency)!r} is not known to the kit")

    def _durations(self, stay: Stay) -> st.SearchStrategy[tuple[int, str | None]]:
        """(microseconds of day care, extension reason) for the chosen stay lengths: whole
        seconds mostly, and a microsecond or half a second either side of each threshold."""
        rule = self.rules.time_limit
        if isinstance(rule, NoTimeLimit):
            return st.tuples(st.integers(HOUR, 14 * DAY).map(lambda s: s * US), st.none())
        if isinstance(rule, SessionsSameDay):
            top = 14 if rule.max_cycle is None else rule.max_cycle.days + 2
            cycle = st.one_of(st.integers(HOUR, 14 * DAY), st.integers(HOUR, top * DAY))
            return st.tuples(cycle.map(lambda s: s * US), st.none())
        if not isinstance(rule, StayHours):
            raise UnsupportedRule(f"time-limit rule kind {_kind(rule)!r} is not known to the kit")
        limit = rule.limit_hours * HOUR * US
        ceiling = None
        if rule.extended_limit_hours is not None:
            ceiling = rule.extended_limit_hours * HOUR * US
        reasons = st.sampled_from(["condition required observation", "延期观察"])
        nudges = st.sampled_from([1, US // 2, US, 120 * US])

        def around(low: int, high: int) -> st.SearchStrategy[int]:
            """Whole seconds in [low, high], or just inside either end."""
            whole = st.integers(-(-low // US), high // US).map(lambda s: s * US)
            return st.one_of(
                whole,
                nudges.map(lambda d: max(low, high - d + 1)),
                nudges.map(lambda d: min(high, low + d - 1)),
            )

        within = st.tuples(around(HOUR * US, limit), st.one_of(st.none(), reasons))
        pieces = {"within": within}
        if ceiling is not None:
            pieces["extended"] = st.tuples(around(limit + 1, ceiling), reasons)
        top = ceiling or limit
        pieces["exceeded"] = st.one_of(
            st.tuples(around(top + 1, top + 2 * DAY * US), st.one_of(st.none(), reasons)),
            st.tuples(around(limit + 1, top + 2 * DAY * US), st.none()),
        )
        chosen = {
            "within": ["within"],
            "extended": ["extended"],
            "exceeded": ["exceeded"],
            "eligible": ["within", "extended"],
            "any": ["within", "extended", "exceeded"],
        }[stay]
        available = [pieces[name] for name in chosen if name in pieces]
        if not available:
            raise UnsupportedRule(f"stay={stay!r}: the policy has no extended stay")
        return st.one_of(available)

    def _check_merge_and_conversion(self) -> None:
        for side in ("pre_admission", "post_discharge"):
            rule = getattr(self.rules.merge, side)
            if isinstance(rule, NoMerge):
                continue
            if not isinstance(rule, MergeWindow) or not isinstance(
                rule.window, DaysWindow | ClinicalPathwayWindow
            ):
                raise UnsupportedRule(f"merge rule {_kind(rule)!r} is not known to the kit")
        during = self.rules.merge.during_stay
        if not isinstance(during, MergeDuringStay | NoMerge):
            raise UnsupportedRule(f"during-stay rule {_kind(during)!r} is not known to the kit")
        conversion = self.rules.conversion
        if not isinstance(conversion, ConvertToOrdinaryInpatient | ConversionNotProvided):
            raise UnsupportedRule(f"conversion kind {_kind(conversion)!r} is not known to the kit")

    def _charge_rules(self) -> list[str]:
        """The categories the day ward's charge rules judge (drawn often for day care)."""
        judged: list[Category] = []
        between, fees = self.rules.between_sessions, self.rules.fee_schedule
        if isinstance(between, BetweenSessions):
            judged += [*between.categories, *between.drug_categories]
        elif between is not None:
            raise UnsupportedRule(f"between-sessions kind {_kind(between)!r} is not known")
        if isinstance(fees, DailyFeeSchedule):
            judged += fees.categories
        elif fees is not None:
            raise UnsupportedRule(f"fee schedule kind {_kind(fees)!r} is not known to the kit")
        return sorted({c.value for c in judged})

    def categories(self, setting: str) -> st.SearchStrategy[str]:
        """Any category; for an outside charge, often one its merge window takes; for a
        day-ward charge, often one the charge rules judge."""
        if setting == "day_care" and self.day_ward_categories:
            return st.one_of(st.sampled_from(self.day_ward_categories), categories())
        side = {"outpatient": "pre_admission", "post_discharge": "post_discharge"}.get(setting)
        rule = None if side is None else getattr(self.rules.merge, side)
        if isinstance(rule, MergeWindow) and rule.categories != "all" and rule.categories:
            merging = st.sampled_from([c.value for c in rule.categories])
            return st.one_of(merging, categories())
        return categories()

    def routes(self) -> st.SearchStrategy[dict[str, str]]:
        """A charge's route, now and then, where a between-sessions rule judges drug routes."""
        between = self.rules.between_sessions
        if not isinstance(between, BetweenSessions) or not between.drug_routes:
            return st.just({})
        return st.one_of(st.just({}), st.sampled_from([{"route": r.value} for r in Route]))

    def window_days(self, side: str) -> int:
        rule = getattr(self.rules.merge, side)
        if isinstance(rule, MergeWindow) and isinstance(rule.window, DaysWindow):
            return rule.window.days
        return 7

    def pathway(self, side: str) -> bool:
        rule = getattr(self.rules.merge, side)
        return isinstance(rule, MergeWindow) and isinstance(rule.window, ClinicalPathwayWindow)


def _as_code(code: str, system: CodeSystem) -> Code:
    return Code(code=code, system=system)


def _mapped_diagnoses(table: DiseaseTable) -> st.SearchStrategy[list[Code]]:
    """A principal diagnosis a disease row maps (its TCD or ICD-10 code, now and then with a
    suffix), followed by the row's code in the other system where the mapping needs it or
    the draw adds it."""

    def pick(index: int, system: CodeSystem, suffix: str, hint: bool) -> list[Code]:
        row = table.rows[index]
        tcd, icd10 = _as_code(row.tcd, CodeSystem.TCD), _as_code(row.icd10, CodeSystem.ICD_10)
        principal, other = (tcd, icd10) if system is CodeSystem.TCD else (icd10, tcd)
        longer = _as_code(principal.code + suffix, principal.system)
        if table.lookup([longer, other]).row == row:
            principal = longer
        if table.lookup([principal, other]).row != row:  # pragma: no cover
            raise UnsupportedRule(f"table {table.key} does not map {row.name} one to one")
        alone = table.lookup([principal]).row == row
        return [principal] if alone and not hint else [principal, other]

    return st.builds(
        pick,
        st.integers(0, len(table.rows) - 1),
        st.sampled_from(MAPPED_SYSTEMS),
        _SUFFIXES,
        st.booleans(),
    )


def _kind(rule: object) -> str:
    return str(getattr(rule, "kind", type(rule).__name__))


def _draw(
    draw: Callable[[st.SearchStrategy[Any]], Any],
    plan: _Plan,
    *,
    outpatient: bool,
    post_discharge: bool,
    conversion: bool | None,
    time_zones: bool,
    max_stay_charges: int,
) -> dict[str, Any]:
    header = plan.policy.rules.policy
    last_day = header.effective_until or header.effective_from + dt.timedelta(days=3 * 365)
    day = draw(st.dates(header.effective_from, last_day))
    minute = draw(st.integers(0, 24 * 60 - 1))
    admitted = dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI) + dt.timedelta(minutes=minute)
    style = st.integers(0, 2) if time_zones else st.just(0)

    def when(moment: dt.datetime) -> str:
        return _render(moment, draw(style))

    micro, reason = draw(plan.durations)
    seconds = micro // US
    day_care_end = admitted + dt.timedelta(microseconds=micro)
    converts = draw(st.booleans()) if conversion is None else conversion
    moved: dt.datetime | None = None
    discharged = day_care_end
    if converts:
        moved = day_care_end
        discharged = moved + dt.timedelta(seconds=draw(st.integers(HOUR, 10 * DAY)))

    charges: list[dict[str, Any]] = []

    def add(at: dt.datetime, setting: str, **extra: Any) -> None:
        charges.append(
            {
                "id": "",
                "at": when(at),
                "setting": setting,
                "category": draw(plan.categories(setting)),
                "amount": draw(amounts()),
                **draw(plan.routes()),
                **extra,
            }
        )

    for _ in range(draw(st.integers(1, max_stay_charges))):
        when_at = admitted + dt.timedelta(seconds=draw(st.integers(0, seconds)))
        add(when_at, "day_care", related=draw(st.booleans()))
    if moved is not None:
        span = int((discharged - moved).total_seconds())
        for _ in range(draw(st.integers(0, 3))):
            add(moved + dt.timedelta(seconds=draw(st.integers(0, span))), "inpatient")

    pathway = _outside_charges(
        draw, plan, (admitted, discharged), when, add, pre=outpatient, post=post_discharge
    )

    order = draw(st.permutations(range(len(charges))))
    charges = [charges[i] for i in order]
    for number, item in enumerate(charges):
        item["id"] = f"c{number:03d}"

    sessions = _sessions(draw, plan, admitted, seconds, when)
    first = draw(plan.principal) if plan.principal is not None else [draw(_any_icd10())]
    if plan.quota_codes and draw(st.integers(0, 2)) == 0:
        first = [
            _as_code(draw(st.sampled_from(plan.quota_codes)) + draw(_SUFFIXES), CodeSystem.ICD_10)
        ]
    if not plan.eligible and draw(st.integers(0, 4)) == 0:  # maybe outside every list
        first = [draw(_any_icd10())]
    principal = first[0]
    diagnoses = [*first, *(draw(s) for s in plan.extra_diagnoses)]
    procedures = [draw(s) for s in plan.procedures]
    if not procedures and draw(st.booleans()):
        procedures.append(Code(code="99.25", system=CodeSystem.ICD_9_CM_3))

    episode: dict[str, Any] = {
        "episode_id": f"EP-{draw(st.integers(1, 10**6))}",
        "programme": plan.programme.value,
        "admitted_at": when(admitted),
        "discharged_at": when(discharged),
        "institution": _institution(draw, plan, principal),
        "patient": {"id": "P-KIT-1"},
        "consent_signed": draw(st.booleans()) if not plan.eligible else True,
        "diagnoses": [{"code": c.code, "system": c.system.value} for c in diagnoses],
        "procedures": [{"code": c.code, "system": c.system.value} for c in procedures],
        "sessions": sessions,
        "charges": charges,
    }
    if reason is not None:
        episode["extension_reason"] = reason
    choice = _method_choice(draw, plan, principal, episode["institution"]["tier"])
    if choice is not None:
        episode["agency_method_choice"] = choice
    if moved is not None:
        episode["conversion"] = {"at": when(moved), "ward": "general_surgery"}
    if pathway:
        episode["clinical_pathway"] = pathway
    return episode


def _outside_charges(
    draw: Callable[[st.SearchStrategy[Any]], Any],
    plan: _Plan,
    stay: tuple[dt.datetime, dt.datetime],
    when: Callable[[dt.datetime], str],
    add: Callable[..., None],
    *,
    pre: bool,
    post: bool,
) -> dict[str, Any]:
    """Charges before admission and after discharge, a few days either side of each
    window's edge, at this hospital or another, related or not; returns the clinical
    pathway dates where a window runs by the pathway."""
    admitted, discharged = stay
    pathway: dict[str, Any] = {}
    if pre:
        days = plan.window_days("pre_admission")
        if plan.pathway("pre_admission") and draw(st.booleans()):
            first = admitted - dt.timedelta(days=draw(st.integers(0, days)), hours=1)
            pathway["first_visit_at"] = when(first)
        for _ in range(draw(st.integers(0, 4))):
            back = dt.timedelta(
                days=draw(st.integers(0, days + 2)), minutes=draw(st.integers(1, 1439))
            )
            add(admitted - back, "outpatient", **_origin(draw))
    if (pre or post) and draw(st.integers(0, 3)) == 0:
        # inside the stay: booked as an outpatient visit (a during-stay candidate, judged
        # by time) or as post-discharge care although dated before discharge (never merges)
        for _ in range(draw(st.integers(1, 3))):
            inside = dt.timedelta(
                seconds=draw(st.integers(0, int((discharged - admitted).total_seconds())))
            )
            setting = draw(st.sampled_from(["outpatient", "post_discharge"]))
            add(admitted + inside, setting, **_origin(draw))
    if post:
        days = plan.window_days("post_discharge")
        if plan.pathway("post_discharge") and draw(st.booleans()):
            pathway["ended_at"] = when(discharged + dt.timedelta(days=draw(st.integers(0, days))))
        for _ in range(draw(st.integers(0, 3))):
            ahead = dt.timedelta(
                days=draw(st.integers(0, days + 2)), minutes=draw(st.integers(1, 1439))
            )
            # a post-discharge follow-up, or an outpatient visit after discharge (the same
            # candidate, judged by its time)
            setting = draw(st.sampled_from(["post_discharge", "outpatient"]))
            add(discharged + ahead, setting, **_origin(draw))
    return pathway


def _origin(draw: Callable[[st.SearchStrategy[Any]], Any]) -> dict[str, Any]:
    """An outside charge: this hospital (named or implied) or another, related or not."""
    where = draw(st.sampled_from([None, HOSPITAL, OTHER_HOSPITAL]))
    origin: dict[str, Any] = {"related": draw(st.booleans())}
    if where is not None:
        origin["institution_id"] = where
    return origin


def _method_choice(
    draw: Callable[[st.SearchStrategy[Any]], Any], plan: _Plan, principal: Code, tier: int
) -> str | None:
    """The hospital's choice of agency method where the policy offers one: none given,
    fee-for-service, or the quota method (for an eligible draw only where it applies)."""
    rule = plan.quota_rule
    if rule is None:
        return None
    options: list[str | None] = [None, "fee_for_service"]
    listed = quota_disease(rule, principal) is not None
    if not plan.eligible or (listed and tier in rule.ordinary_daily_fees.by_tier):
        options.append("quota_minus_fees")
    choice: str | None = draw(st.sampled_from(options))
    return choice


def _any_icd10() -> st.SearchStrategy[Code]:
    return st.from_regex(r"[A-Z][0-9]{2}\.[0-9]{1,3}", fullmatch=True).map(
        lambda c: Code(code=c, system=CodeSystem.ICD_10)
    )


def _institution(
    draw: Callable[[st.SearchStrategy[Any]], Any], plan: _Plan, principal: Code
) -> dict[str, Any]:
    others = [p.value for p in Programme if p is not plan.programme]
    filed = draw(st.lists(st.sampled_from(others), unique=True, max_size=3))
    departments = [draw(st.sampled_from(group)) for group in plan.departments]
    departments += draw(
        st.lists(st.sampled_from(["general_surgery", "icu", "oncology"]), max_size=2, unique=True)
    )
    tier = draw(st.integers(plan.min_tier, 3))
    if not plan.eligible:
        tier = draw(st.integers(1, 3))
        departments = [d for d in departments if draw(st.booleans())]
        if draw(st.booleans()):
            filed.append(plan.programme.value)
    else:
        filed.append(plan.programme.value)
    institution: dict[str, Any] = {
        "id": HOSPITAL,
        "tier": tier,
        "filed_programmes": sorted(set(filed)),
        "departments": sorted(set(departments)),
    }
    if plan.filed_diseases and draw(st.booleans()):
        institution["filed_diseases"] = [principal.code[:3], "Z99"]
        if not plan.eligible and draw(st.booleans()):
            institution["filed_diseases"] = ["Z99"]  # a list that does not name the disease
    return institution


def _sessions(
    draw: Callable[[st.SearchStrategy[Any]], Any],
    plan: _Plan,
    admitted: dt.datetime,
    seconds: int,
    when: Callable[[dt.datetime], str],
) -> list[dict[str, Any]]:
    """Sessions inside the day-care part, non-overlapping: one a day for a stay that spans
    days, else one to three; for a cycle of same-day sessions, one on each of some days
    (for an ineligible draw, the last may run past midnight); with an allowed route where
    the policy judges routes."""
    if not plan.needs_sessions and not draw(st.booleans()):
        return []
    if plan.needs_sessions and not plan.eligible and draw(st.integers(0, 3)) == 0:
        return []
    if plan.same_day_sessions:
        spans = _daily_spans(draw, plan, admitted, admitted + dt.timedelta(seconds=seconds))
    else:
        count = max(1, seconds // DAY) if seconds > DAY else draw(st.integers(1, 3))
        slot = seconds // count
        spans = []
        for index in range(count):
            start = admitted + dt.timedelta(seconds=index * slot)
            spans.append(
                (start, start + dt.timedelta(seconds=draw(st.integers(0, max(0, slot - 1)))))
            )
    routes = plan.allowed_routes
    sessions = []
    for start, end in spans:
        session: dict[str, Any] = {
            "start": when(start),
            "end": when(end),
            "kind": draw(st.sampled_from(plan.session_kinds)).value,
        }
        if routes is not None:
            session["route"] = draw(st.sampled_from(routes)).value
        sessions.append(session)
    return _mainly(draw, plan, sessions)


def _mainly(
    draw: Callable[[st.SearchStrategy[Any]], Any], plan: _Plan, sessions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Bring the sessions to each ``sessions_mainly`` share: an eligible draw turns just
    enough counted sessions to the rule's route or kind (the least share that passes, or
    more); an ineligible draw may instead turn some to another route or kind."""
    for rule in plan.mainly:
        key, value = (
            ("route", rule.mainly.route.value)
            if rule.mainly.route is not None
            else ("kind", rule.mainly.session_kind.value if rule.mainly.session_kind else "")
        )
        counted = [
            s for s in sessions if rule.sessions == "all" or s["kind"] == rule.sessions.value
        ]
        if not counted:
            continue
        if not plan.eligible and draw(st.booleans()):
            others = [r.value for r in Route] if key == "route" else [k.value for k in SessionKind]
            for item in counted:
                if draw(st.booleans()):
                    item[key] = draw(st.sampled_from(others))
            continue
        share = rule.min_share * len(counted)
        least = math.floor(share) + 1 if rule.comparison == "more_than" else math.ceil(share)
        needed = draw(st.integers(min(least, len(counted)), len(counted)))
        hits = sum(1 for item in counted if item.get(key) == value)
        for item in counted:
            if hits >= needed:
                break
            if item.get(key) != value:
                item[key] = value
                hits += 1
    return sessions


def _daily_spans(
    draw: Callable[[st.SearchStrategy[Any]], Any],
    plan: _Plan,
    admitted: dt.datetime,
    end: dt.datetime,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """One session on each of up to eight calendar days (Asia/Shanghai) of the cycle, each
    starting and ending on its day, inside [admitted, end]."""
    first_day = admitted.astimezone(SHANGHAI).date()
    days = (end.astimezone(SHANGHAI).date() - first_day).days + 1
    chosen = draw(st.lists(st.integers(0, days - 1), min_size=1, max_size=8, unique=True))
    spans = []
    for offset in sorted(chosen):
        midnight = dt.datetime.combine(first_day + dt.timedelta(days=offset), dt.time(), SHANGHAI)
        low = max(admitted, midnight)
        high = min(end, midnight + dt.timedelta(days=1, microseconds=-1))
        if low > high:
            continue
        start = low + dt.timedelta(seconds=draw(st.integers(0, int((high - low).total_seconds()))))
        length = draw(st.integers(0, int((high - start).total_seconds())))
        spans.append((start, start + dt.timedelta(seconds=length)))
    if not spans:
        spans.append((admitted, admitted))
    if not plan.eligible and draw(st.booleans()):  # the last session runs past midnight
        start = spans[-1][0]
        spans[-1] = (start, min(end, start + dt.timedelta(hours=draw(st.integers(1, 30)))))
    return spans


# --- invalid input -------------------------------------------------------------------------

_DEFECTS: dict[str, tuple[str, Callable[[dict[str, Any]], None]]] = {
    "negative amount": ("charges[0].amount", lambda e: e["charges"][0].update(amount="-1.00")),
    "float amount": ("charges[0].amount", lambda e: e["charges"][0].update(amount=12.5)),
    "three decimals": ("charges[0].amount", lambda e: e["charges"][0].update(amount="1.005")),
    "NaN amount": ("charges[0].amount", lambda e: e["charges"][0].update(amount="NaN")),
    "huge amount": ("charges[0].amount", lambda e: e["charges"][0].update(amount="1e309")),
    "boolean amount": ("charges[0].amount", lambda e: e["charges"][0].update(amount=True)),
    "unknown category": (
        "charges[0].category",
        lambda e: e["charges"][0].update(category="15"),
    ),
    "unknown programme": ("programme", lambda e: e.update(programme="day_dentistry")),
    "unknown field": ("surprise", lambda e: e.update(surprise=1)),
    "missing field": ("patient", lambda e: e.pop("patient")),
    "tier as text": ("institution.tier", lambda e: e["institution"].update(tier="3")),
    "bare date": ("admitted_at", lambda e: e.update(admitted_at="2025-03-10")),
    "not a time": ("discharged_at", lambda e: e.update(discharged_at="tomorrow")),
    "empty charges": ("charges", lambda e: e.update(charges=[])),
    "duplicate charge id": (
        "charges[",
        lambda e: e["charges"].append({**e["charges"][0]}),
    ),
    "discharge before admission": (
        "discharged_at",
        lambda e: e.update(discharged_at="2000-01-01T00:00:00+08:00"),
    ),
    "conversion before admission": (
        "conversion.at",
        lambda e: e.update(conversion={"at": "2000-01-01T00:00:00+08:00", "ward": "w"}),
    ),
    "overlapping sessions": (
        "sessions[",
        lambda e: e.update(
            sessions=[
                {"start": e["admitted_at"], "end": e["discharged_at"], "kind": "surgery"},
                {"start": e["admitted_at"], "end": e["discharged_at"], "kind": "surgery"},
            ]
        ),
    ),
    "year out of range": (
        "charges[0].at",
        lambda e: e["charges"][0].update(at="0001-01-01T00:00:00+14:00"),
    ),
}


def invalid_episodes(
    policy: str | Path | Policy, programme: str | Programme = "day_surgery"
) -> st.SearchStrategy[BadInput]:
    """A valid episode with exactly one defect from a catalogue of bad inputs; settling it
    must raise :class:`~daycare_settle.InvalidEpisode` with a problem at ``path``."""
    valid = episodes(policy, programme, conversion=False, time_zones=False)

    def spoil(episode: dict[str, Any], defect: str) -> BadInput:
        path, change = _DEFECTS[defect]
        change(episode)
        return BadInput(data=episode, path=path, defect=defect)

    return st.builds(spoil, valid, st.sampled_from(sorted(_DEFECTS)))


def malformed_json() -> st.SearchStrategy[str | bytes]:
    """Text that is not a JSON object at all."""
    return st.one_of(
        st.text(max_size=50),
        st.binary(max_size=50),
        st.sampled_from(["", "{", "[]", "null", "NaN", '{"a": Infinity}', "[" * 5000]),
    )
