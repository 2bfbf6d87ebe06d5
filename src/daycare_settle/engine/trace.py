"""Trace steps — the audit trail of a settlement: citations, the parameter values each
decision read (with their provenance), trace steps, rejection reasons and flags."""

from __future__ import annotations

from ..models.settlement import Citation, Flag, ParameterRead, RejectionReason, TraceStep
from ..policy.loader import Policy
from ..policy.schema import Rule


def cite(policy: Policy, rule: Rule | None) -> Citation | None:
    """The citation of a rule: its clause (every rule has one, ``Rule.source`` is required),
    or ``None`` only where no rule decided (``rule`` is ``None``)."""
    return None if rule is None else policy.citation(rule.source)


def read(name: str, value: object, rule: Rule | None, field: str | None = None) -> ParameterRead:
    """Record that a decision read ``value`` from ``rule``'s ``field`` (``name`` unless
    given), with that value's provenance, or from the episode when ``rule`` is ``None``."""
    text = value if isinstance(value, str) else _text(value)
    provenance = "episode" if rule is None else rule.provenance_of(field or name)
    return ParameterRead(name=name, value=text, provenance=provenance)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, tuple | list):
        return ", ".join(_text(item) for item in value)
    return str(value)


def step(
    policy: Policy,
    name: str,
    rule_name: str,
    outcome: str,
    rule: Rule | None,
    parameters: tuple[ParameterRead, ...] = (),
) -> TraceStep:
    """One trace step citing ``rule``; the clause's original wording travels with it."""
    clause = None if rule is None else policy.clause(rule.source)
    outcome_text = outcome
    if rule is not None and rule.provenance != "explicit" and rule.note:
        outcome_text = f"{outcome} [{rule.provenance}: {rule.note}]"
    return TraceStep(
        step=name,
        rule=rule_name,
        outcome=outcome_text,
        citation=cite(policy, rule),
        quote=None if clause is None else _quote(clause.quote, clause.reading),
        parameters=parameters,
    )


def _quote(quote: str, reading: str | None) -> str:
    return quote if reading is None else f"{quote} [reading: {reading}]"


def reject(policy: Policy, code: str, message: str, rule: Rule | None) -> RejectionReason:
    return RejectionReason(code=code, message=message, citation=cite(policy, rule))


def flag(
    policy: Policy,
    code: str,
    severity: str,
    message: str,
    rule: Rule | None,
    charge_ids: tuple[str, ...] = (),
) -> Flag:
    return Flag.model_validate(
        {
            "code": code,
            "severity": severity,
            "message": message,
            "citation": cite(policy, rule),
            "charge_ids": charge_ids,
        }
    )
