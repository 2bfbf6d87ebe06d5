"""Eligibility (准入): programme filed, consent, hospital tier and departments, catalogues,
session routes. Each failed check is a rejection with its own code and clause."""

from __future__ import annotations

from ..models.common import local_date
from ..models.episode import Code, Episode
from ..policy.loader import Catalogue, Policy, normalise_code
from ..policy.schema import (
    CatalogueMatch,
    ConsentSigned,
    DepartmentRequired,
    DiseaseMapped,
    EligibilityRule,
    FiledDiseases,
    MinTier,
    ProgrammeFiled,
    SessionRoute,
)
from .explain import flag, read, reject, step
from .findings import Findings

STEP = "eligibility"


def check_eligibility(
    episode: Episode, policy: Policy, rules: tuple[EligibilityRule, ...], findings: Findings
) -> None:
    """Run every eligibility rule of the programme; each failure is one rejection."""
    for rule in rules:
        failure = _check(episode, policy, rule, findings)
        if failure is None:
            continue
        code, message = failure
        findings.rejections.append(reject(policy, code, message, rule))


def _check(
    episode: Episode, policy: Policy, rule: EligibilityRule, findings: Findings
) -> tuple[str, str] | None:
    institution = episode.institution
    failure: tuple[str, str] | None = None
    if isinstance(rule, ProgrammeFiled):
        if episode.programme not in institution.filed_programmes:
            failure = (
                "PROGRAMME_NOT_FILED",
                f"institution {institution.id} has not filed {episode.programme.value}",
            )
        findings.trace.append(
            step(
                policy,
                STEP,
                rule.kind,
                _outcome(failure),
                rule,
                (read("filed_programmes", [p.value for p in institution.filed_programmes], None),),
            )
        )
    elif isinstance(rule, ConsentSigned):
        if not episode.consent_signed:
            failure = ("CONSENT_NOT_SIGNED", "no signed day-care informed-consent form")
        findings.trace.append(step(policy, STEP, rule.kind, _outcome(failure), rule))
    elif isinstance(rule, MinTier):
        if institution.tier < rule.min_tier:
            failure = (
                "TIER_TOO_LOW",
                f"institution tier {institution.tier} is below the required tier {rule.min_tier}",
            )
        findings.trace.append(
            step(
                policy,
                STEP,
                rule.kind,
                _outcome(failure),
                rule,
                (read("min_tier", rule.min_tier, rule),),
            )
        )
    elif isinstance(rule, DepartmentRequired):
        if rule.department not in institution.departments:
            failure = (
                "DEPARTMENT_MISSING",
                f"institution {institution.id} has no {rule.department!r} department",
            )
        findings.trace.append(
            step(
                policy,
                STEP,
                rule.kind,
                _outcome(failure),
                rule,
                (read("department", rule.department, rule),),
            )
        )
    elif isinstance(rule, CatalogueMatch):
        failure = _catalogue_match(episode, policy, rule, findings)
    elif isinstance(rule, FiledDiseases):
        failure = _filed_diseases(episode, policy, rule, findings)
    elif isinstance(rule, SessionRoute):
        failure = _session_route(episode, policy, rule, findings)
    elif isinstance(rule, DiseaseMapped):
        failure = _disease_mapped(episode, policy, rule, findings)
    return failure


def _outcome(failure: tuple[str, str] | None) -> str:
    return "passed" if failure is None else f"failed: {failure[0]}: {failure[1]}"


def _targets(episode: Episode, target: str) -> tuple[Code, ...]:
    if target == "principal_diagnosis":
        return (episode.principal_diagnosis,)
    if target == "any_diagnosis":
        return episode.diagnoses
    return episode.procedures


def _catalogue_match(
    episode: Episode, policy: Policy, rule: CatalogueMatch, findings: Findings
) -> tuple[str, str] | None:
    catalogue: Catalogue = policy.catalogues[rule.catalogue]
    codes = _targets(episode, rule.target)
    matched = [(code, entry) for code in codes if (entry := catalogue.match(code)) is not None]
    header = catalogue.header
    failure = None
    if matched:
        code, entry = matched[0]
        pattern = entry.code or "-".join(entry.range or ())
        outcome = f"passed: {code.code} matches {pattern} ({entry.name})"
    else:
        shown = ", ".join(f"{c.code} ({c.system.value})" for c in codes) or "none given"
        failure = (
            "NOT_IN_CATALOGUE",
            f"{rule.target.replace('_', ' ')} {shown} not in catalogue {header.id} "
            f"({header.title}, {header.status})",
        )
        outcome = _outcome(failure)
    findings.trace.append(
        step(
            policy,
            STEP,
            rule.kind,
            outcome,
            rule,
            (
                read("catalogue", f"{header.id} v{header.version}", rule),
                read("catalogue_status", header.status, rule),
                read("catalogue_sha256", catalogue.sha256, rule),
            ),
        )
    )
    if header.status != "official":
        findings.flags.append(
            flag(
                policy,
                "STARTER_CATALOGUE",
                "info",
                f"codes were judged against the {header.status} catalogue {header.id} "
                f"({header.origin}); a deployment replaces it with its official list",
                rule,
            )
        )
    return failure


def _filed_diseases(
    episode: Episode, policy: Policy, rule: FiledDiseases, findings: Findings
) -> tuple[str, str] | None:
    filed = episode.institution.filed_diseases
    if filed is None:
        findings.trace.append(
            step(
                policy,
                STEP,
                rule.kind,
                "not checked: the institution records no per-disease filing list",
                rule,
            )
        )
        return None
    prefixes = tuple(normalise_code(code) for code in filed)
    codes = (episode.principal_diagnosis, *episode.procedures)
    hit = next((c for c in codes if normalise_code(c.code).startswith(prefixes)), None)
    failure = None
    if hit is None:
        failure = (
            "DISEASE_NOT_FILED",
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
) -> tuple[str, str] | None:
    sessions = [s for s in episode.sessions if s.kind is rule.session_kind]
    kind = rule.session_kind.value
    failure = None
    if not sessions:
        failure = ("SESSION_MISSING", f"no {kind} session is given, so its route cannot be judged")
    elif any(s.route is None for s in sessions):
        day = next(local_date(s.start) for s in sessions if s.route is None)
        failure = ("SESSION_ROUTE_MISSING", f"a {kind} session on {day} gives no route")
    elif all(s.route in rule.excluded_when_all for s in sessions):
        routes = ", ".join(r.value for r in rule.excluded_when_all)
        failure = (
            "SESSION_ROUTE_EXCLUDED",
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


def _disease_mapped(
    episode: Episode, policy: Policy, rule: DiseaseMapped, findings: Findings
) -> tuple[str, str] | None:
    """TCM pilot 二、（五）: the principal diagnosis, in TCD or ICD-10, maps to one disease of
    the region's table (中西医编码映射); an unmapped or ambiguous code is refused."""
    table = policy.disease_tables[rule.table]
    match = table.lookup(episode.diagnoses)
    failure = None if match.code is None else (match.code, match.message)
    header = table.header
    findings.trace.append(
        step(
            policy,
            STEP,
            rule.kind,
            f"passed: {match.message}" if failure is None else _outcome(failure),
            rule,
            (
                read("disease_table", f"{header.id} v{header.version}", rule),
                read("disease_table_status", header.status, rule),
                read("disease_table_sha256", table.sha256, rule),
            ),
        )
    )
    if header.status != "official":
        findings.flags.append(
            flag(
                policy,
                f"{header.status.upper()}_DISEASE_TABLE",
                "info",
                f"the disease was mapped and priced with the {header.status} table {header.id} "
                f"({header.origin}); a deployment uses its own official table",
                rule,
            )
        )
    return failure
