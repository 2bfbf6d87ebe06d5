"""Eligibility (准入): programme filed, consent, hospital tier and departments, catalogues,
session routes and what the treatment mainly is (为主). Each failed check is a rejection with
its own code and clause."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..codes import FlagCode, RejectionCode
from ..models.common import local_date
from ..models.episode import Code, Episode
from ..models.settlement import ParameterRead
from ..policy.loader import Catalogue, Policy, normalise_code
from ..policy.schema import (
    CatalogueHeader,
    CatalogueMatch,
    ConsentSigned,
    DepartmentRequired,
    DiseaseMapped,
    DiseaseTableHeader,
    EligibilityRule,
    FiledDiseases,
    MinTier,
    ProgrammeFiled,
    Rule,
    SessionRoute,
    SessionsMainly,
    SessionsRequired,
)
from .dispatch import require_complete
from .findings import Findings
from .trace import flag, once_per_policy, read, reject, step

STEP = "eligibility"


Failure = tuple[RejectionCode, str] | None
"""A failed check as (code, message), or ``None`` when it passed."""


def check_eligibility(
    episode: Episode, policy: Policy, rules: tuple[EligibilityRule, ...], findings: Findings
) -> None:
    """Run every eligibility rule of the programme; each failure is one rejection."""
    for rule in rules:
        check: Callable[[Episode, Policy, Any, Findings], Failure] = _CHECKS[type(rule)]
        failure = check(episode, policy, rule, findings)
        if failure is not None:
            code, message = failure
            if code in _SHARED and code in {r.code for r in findings.rejections}:
                continue  # one fact (no sessions, a session without a route) is said once
            cited: Rule = rule
            if isinstance(rule, DiseaseMapped) and _unlisted(episode, policy, rule):
                cited = policy.rules.catalogues[rule.table]
            findings.rejections.append(reject(policy, code, message, cited))


_TABLE_FLAGS: dict[str, FlagCode | None] = {
    "official": None,
    "starter": FlagCode.STARTER_DISEASE_TABLE,
    "illustrative": FlagCode.ILLUSTRATIVE_DISEASE_TABLE,
}
"""The flag for a disease table by its status (an official table is not flagged)."""

_SHARED = frozenset(
    {
        RejectionCode.SESSION_MISSING,
        RejectionCode.SESSIONS_MISSING,
        RejectionCode.SESSION_ROUTE_MISSING,
    }
)
"""Codes for a missing input that several session rules may find; the first rule's
rejection stands, the others are traced only."""


def _unlisted(episode: Episode, policy: Policy, rule: DiseaseMapped) -> bool:
    """Whether the principal diagnosis lies outside the table (the catalogue, 病种目录) —
    cited by the table's own clause — rather than failing the code mapping."""
    return policy.disease_tables[rule.table].lookup(episode.diagnoses).unlisted


def _record(
    policy: Policy,
    rule: EligibilityRule,
    failure: Failure,
    findings: Findings,
    *parameters: ParameterRead,
) -> Failure:
    if failure is None and not parameters:  # a pass that read nothing: one record per policy
        findings.trace.append(
            once_per_policy(
                policy,
                rule,
                "eligibility.passed",
                lambda: step(policy, STEP, rule.kind, "passed", rule),
            )
        )
        return None
    findings.trace.append(step(policy, STEP, rule.kind, _outcome(failure), rule, parameters))
    return failure


def _programme_filed(
    episode: Episode, policy: Policy, rule: ProgrammeFiled, findings: Findings
) -> Failure:
    filed = episode.institution.filed_programmes
    failure = None
    if episode.programme not in filed:
        failure = (
            RejectionCode.PROGRAMME_NOT_FILED,
            f"institution {episode.institution.id} has not filed {episode.programme.value}",
        )
    # the programmes' texts are their values (a StrEnum's str), read without .value
    return _record(policy, rule, failure, findings, read("filed_programmes", list(filed), None))


def _consent_signed(
    episode: Episode, policy: Policy, rule: ConsentSigned, findings: Findings
) -> Failure:
    failure = None
    if not episode.consent_signed:
        failure = (RejectionCode.CONSENT_NOT_SIGNED, "no signed day-care informed-consent form")
    return _record(policy, rule, failure, findings)


def _min_tier(episode: Episode, policy: Policy, rule: MinTier, findings: Findings) -> Failure:
    tier = episode.institution.tier
    failure = None
    if tier < rule.min_tier:
        failure = (
            RejectionCode.TIER_TOO_LOW,
            f"institution tier {tier} is below the required tier {rule.min_tier}",
        )
    return _record(policy, rule, failure, findings, read("min_tier", rule.min_tier, rule))


def _department(
    episode: Episode, policy: Policy, rule: DepartmentRequired, findings: Findings
) -> Failure:
    """The hospital has the department, or any one of the departments the clause names."""
    wanted = rule.any_of
    failure = None
    if not set(wanted) & set(episode.institution.departments):
        names = " or ".join(repr(d) for d in wanted)
        failure = (
            RejectionCode.DEPARTMENT_MISSING,
            f"institution {episode.institution.id} has no {names} department",
        )
    field = "department" if rule.department is not None else "departments"
    return _record(policy, rule, failure, findings, read(field, list(wanted), rule))


def _outcome(failure: Failure) -> str:
    return "passed" if failure is None else f"failed: {failure[0]}: {failure[1]}"


def _targets(episode: Episode, target: str) -> tuple[Code, ...]:
    if target == "principal_diagnosis":
        return (episode.principal_diagnosis,)
    if target == "any_diagnosis":
        return episode.diagnoses
    return episode.procedures


def _catalogue_match(
    episode: Episode, policy: Policy, rule: CatalogueMatch, findings: Findings
) -> Failure:
    catalogue: Catalogue = policy.catalogues[rule.catalogue]
    codes = _targets(episode, rule.target)
    # the first code that matches decides (the codes after it are not looked up)
    matched = next(
        ((code, entry) for code in codes if (entry := catalogue.match(code)) is not None), None
    )
    header = catalogue.header
    failure = None
    if matched is not None:
        code, entry = matched
        pattern = entry.code or "-".join(entry.range or ())
        outcome = f"passed: {code.code} matches {pattern} ({entry.name})"
    else:
        shown = ", ".join(f"{c.code} ({c.system.value})" for c in codes) or "none given"
        failure = (
            RejectionCode.NOT_IN_CATALOGUE,
            f"{rule.target.replace('_', ' ')} {shown} not in catalogue {header.id} "
            f"({header.title}, {header.status})",
        )
        outcome = _outcome(failure)
    _record_list(
        policy,
        rule,
        findings,
        outcome,
        "catalogue",
        header,
        catalogue.sha256,
        None if header.status == "official" else FlagCode.STARTER_CATALOGUE,
        lambda: (
            f"codes were judged against the {header.status} catalogue {header.id} "
            f"({header.origin}); a deployment replaces it with its official list"
        ),
    )
    return failure


def _record_list(
    policy: Policy,
    rule: EligibilityRule,
    findings: Findings,
    outcome: str,
    name: str,
    header: CatalogueHeader | DiseaseTableHeader,
    sha256: str,
    flag_code: FlagCode | None,
    flag_text: Callable[[], str],
) -> None:
    """Trace a check made against a code list (which list, its status and hash), and flag
    the result with ``flag_code`` (given when the list is not an official one) and the text
    ``flag_text()``. The list is the policy's for ``rule`` (its catalogue or disease table),
    so the reads and the flag are made once per policy."""
    findings.trace.append(
        step(
            policy,
            STEP,
            rule.kind,
            outcome,
            rule,
            once_per_policy(
                policy,
                rule,
                f"list.{name}",
                lambda: (
                    read(name, f"{header.id} v{header.version}", rule),
                    read(f"{name}_status", header.status, rule),
                    read(f"{name}_sha256", sha256, rule),
                ),
            ),
        )
    )
    if flag_code is not None:  # the flag names the list only: one record per policy
        findings.flags.append(
            once_per_policy(
                policy,
                rule,
                f"list.flag.{name}",
                lambda: flag(policy, flag_code, "info", flag_text(), rule),
            )
        )


def _filed_diseases(
    episode: Episode, policy: Policy, rule: FiledDiseases, findings: Findings
) -> Failure:
    filed = episode.institution.filed_diseases
    if filed is None:
        findings.trace.append(
            once_per_policy(
                policy,
                rule,
                "filed_diseases.not_checked",
                lambda: step(
                    policy,
                    STEP,
                    rule.kind,
                    "not checked: the institution records no per-disease filing list",
                    rule,
                ),
            )
        )
        return None
    prefixes = tuple(normalise_code(code) for code in filed)
    codes = (episode.principal_diagnosis, *episode.procedures)
    hit = next((c for c in codes if normalise_code(c.code).startswith(prefixes)), None)
    failure = None
    if hit is None:
        failure = (
            RejectionCode.DISEASE_NOT_FILED,
            f"neither the principal diagnosis {episode.principal_diagnosis.code} nor a procedure "
            f"is among the diseases institution {episode.institution.id} filed",
        )
    findings.trace.append(
        step(
            policy,
            STEP,
            rule.kind,
            _outcome(failure),
            rule,
            (read("filed_diseases", list(filed), None),),
        )
    )
    return failure


def _session_route(
    episode: Episode, policy: Policy, rule: SessionRoute, findings: Findings
) -> Failure:
    sessions = [s for s in episode.sessions if s.kind is rule.session_kind]
    kind = rule.session_kind.value
    failure = None
    if not sessions:
        failure = (
            RejectionCode.SESSION_MISSING,
            f"no {kind} session is given, so its route cannot be judged",
        )
    elif any(s.route is None for s in sessions):
        day = next(local_date(s.start) for s in sessions if s.route is None)
        failure = (RejectionCode.SESSION_ROUTE_MISSING, f"a {kind} session on {day} gives no route")
    elif all(s.route in rule.excluded_when_all for s in sessions):
        routes = ", ".join(r.value for r in rule.excluded_when_all)
        failure = (
            RejectionCode.SESSION_ROUTE_EXCLUDED,
            f"every {kind} session is by an excluded route ({routes})",
        )
    findings.trace.append(
        step(
            policy,
            STEP,
            rule.kind,
            _outcome(failure),
            rule,
            (read("excluded_when_all", [r.value for r in rule.excluded_when_all], rule),),
        )
    )
    return failure


def _sessions_mainly(
    episode: Episode, policy: Policy, rule: SessionsMainly, findings: Findings
) -> Failure:
    """Treatment mainly (为主) of one sort: the share of the counted sessions that are by
    the rule's route, or of its session kind, reaches ``min_share``."""
    counted = [s for s in episode.sessions if rule.sessions == "all" or s.kind is rule.sessions]
    which = "" if rule.sessions == "all" else f"{rule.sessions.value} "
    trait = rule.mainly
    failure: Failure = None
    share: Decimal | None = None
    if not counted:
        code = (
            RejectionCode.SESSIONS_MISSING
            if rule.sessions == "all"
            else RejectionCode.SESSION_MISSING
        )
        failure = (
            code,
            f"no {which}session is given, so what the treatment mainly is cannot be judged",
        )
    elif trait.route is not None and any(s.route is None for s in counted):
        day = next(local_date(s.start) for s in counted if s.route is None)
        failure = (RejectionCode.SESSION_ROUTE_MISSING, f"a {which}session on {day} gives no route")
    else:
        hits = sum(
            1
            for s in counted
            if (s.route is trait.route if trait.route is not None else s.kind is trait.session_kind)
        )
        share = Decimal(hits) / Decimal(len(counted))
        enough = (
            share > rule.min_share if rule.comparison == "more_than" else (share >= rule.min_share)
        )
        if not enough:
            needed = "more than" if rule.comparison == "more_than" else "at least"
            code = (
                RejectionCode.SESSIONS_NOT_MAINLY_ROUTE
                if trait.route is not None
                else RejectionCode.SESSIONS_NOT_MAINLY_KIND
            )
            failure = (
                code,
                f"{hits} of {len(counted)} {which}session(s) are {trait.describe()}; the "
                f"treatment must be mainly so ({needed} {rule.min_share} of them)",
            )
    outcome = _outcome(failure)
    if failure is None and share is not None:
        outcome = f"passed: {hits} of {len(counted)} {which}session(s) are {trait.describe()}"
    findings.trace.append(
        step(
            policy,
            STEP,
            rule.kind,
            outcome,
            rule,
            (
                read("sessions", rule.sessions, rule),
                read("mainly", trait.describe(), rule),
                read("min_share", rule.min_share, rule),
                read("comparison", rule.comparison, rule),
            ),
        )
    )
    return failure


def _sessions_required(
    episode: Episode, policy: Policy, rule: SessionsRequired, findings: Findings
) -> Failure:
    kinds = [k.value for k in rule.session_kinds]
    failure = None
    other = sorted({s.kind.value for s in episode.sessions} - set(kinds))
    if not episode.sessions:
        failure = (
            RejectionCode.SESSIONS_MISSING,
            "the programme settles treatment sessions, but the episode gives none",
        )
    elif other:
        failure = (
            RejectionCode.SESSION_KIND_NOT_ALLOWED,
            f"session kind(s) {', '.join(other)} are not treated in this programme",
        )
    findings.trace.append(
        step(
            policy,
            STEP,
            rule.kind,
            _outcome(failure),
            rule,
            (read("session_kinds", kinds, rule),),
        )
    )
    return failure


def _disease_mapped(
    episode: Episode, policy: Policy, rule: DiseaseMapped, findings: Findings
) -> Failure:
    """TCM pilot 二、（五）: the principal diagnosis, in TCD or ICD-10, maps to one disease of
    the region's table (中西医编码映射); an unmapped or ambiguous code is refused. A code
    that no disease of the table has is outside the catalogue: its rejection cites the
    clause the table is declared under (二、（一）), not the mapping's."""
    table = policy.disease_tables[rule.table]
    match = table.lookup(episode.diagnoses)
    failure = None if match.code is None else (RejectionCode(match.code), match.message)
    header = table.header
    _record_list(
        policy,
        rule,
        findings,
        f"passed: {match.message}" if failure is None else _outcome(failure),
        "disease_table",
        header,
        table.sha256,
        _TABLE_FLAGS[header.status],
        lambda: (
            f"the disease was mapped and priced with the {header.status} table {header.id} "
            f"({header.origin}); a deployment uses its own official table"
        ),
    )
    return failure


_CHECKS: dict[type[Any], Callable[[Episode, Policy, Any, Findings], Failure]] = {
    ProgrammeFiled: _programme_filed,
    ConsentSigned: _consent_signed,
    MinTier: _min_tier,
    DepartmentRequired: _department,
    CatalogueMatch: _catalogue_match,
    FiledDiseases: _filed_diseases,
    SessionRoute: _session_route,
    SessionsMainly: _sessions_mainly,
    SessionsRequired: _sessions_required,
    DiseaseMapped: _disease_mapped,
}
"""One check per eligibility kind."""

require_complete(_CHECKS, EligibilityRule, "engine/eligibility.py")
