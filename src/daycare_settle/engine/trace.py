"""Trace steps — the audit trail of a settlement: citations, the parameter values each
decision read (with their provenance), trace steps, rejection reasons and flags.

Every record here is built from values the engine holds already validated (texts it
formats, citations the policy made, ids of validated charges). Where each value is exactly
of its field's type the record is constructed without a second validation
(:func:`~daycare_settle.models.common.trusted`); anything else takes the validating
constructor, so an unexpected value is refused as it always was.
"""

from __future__ import annotations

from typing import get_args

from ..models.common import trusted
from ..models.settlement import Citation, Flag, ParameterRead, RejectionReason, TraceStep
from ..policy.loader import Policy
from ..policy.schema import Rule

_READS: dict[tuple[str, str, str], ParameterRead] = {}
"""One :class:`ParameterRead` per distinct (name, value, provenance): the same parameter
is read in every settlement under a policy, and a frozen record can be shared."""
_READS_KEPT = 4096
_SEVERITIES = frozenset(get_args(Flag.model_fields["severity"].annotation))


def cite(policy: Policy, rule: Rule | None) -> Citation | None:
    """The citation of a rule: its clause (every rule has one, ``Rule.source`` is required),
    or ``None`` only where no rule decided (``rule`` is ``None``)."""
    return None if rule is None else policy.citation(rule.source)


def read(name: str, value: object, rule: Rule | None, field: str | None = None) -> ParameterRead:
    """Record that a decision read ``value`` from ``rule``'s ``field`` (``name`` unless
    given), with that value's provenance, or from the episode when ``rule`` is ``None``."""
    text = value if isinstance(value, str) else _text(value)
    provenance = "episode" if rule is None else rule.provenance_of(field or name)
    if type(name) is not str or type(text) is not str or type(provenance) is not str:
        return ParameterRead(name=name, value=text, provenance=provenance)
    key = (name, text, provenance)
    found = _READS.get(key)
    if found is None:
        if len(_READS) >= _READS_KEPT:
            _READS.clear()
        found = _READS[key] = trusted(
            ParameterRead, {"name": name, "value": text, "provenance": provenance}
        )
    return found


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
    citation = cite(policy, rule)
    quote = None if clause is None else _quote(clause.quote, clause.reading)
    if (
        type(name) is str
        and type(rule_name) is str
        and type(outcome_text) is str
        and type(parameters) is tuple
        and all(type(p) is ParameterRead for p in parameters)
        and (quote is None or type(quote) is str)
    ):
        return trusted(
            TraceStep,
            {
                "step": name,
                "rule": rule_name,
                "outcome": outcome_text,
                "citation": citation,
                "quote": quote,
                "parameters": parameters,
            },
        )
    return TraceStep(
        step=name,
        rule=rule_name,
        outcome=outcome_text,
        citation=citation,
        quote=quote,
        parameters=parameters,
    )


def _quote(quote: str, reading: str | None) -> str:
    return quote if reading is None else f"{quote} [reading: {reading}]"


def reject(policy: Policy, code: str, message: str, rule: Rule | None) -> RejectionReason:
    citation = cite(policy, rule)
    if type(code) is str and type(message) is str:
        return trusted(RejectionReason, {"code": code, "message": message, "citation": citation})
    return RejectionReason(code=code, message=message, citation=citation)


def flag(
    policy: Policy,
    code: str,
    severity: str,
    message: str,
    rule: Rule | None,
    charge_ids: tuple[str, ...] = (),
) -> Flag:
    citation = cite(policy, rule)
    if (
        type(code) is str
        and type(severity) is str
        and severity in _SEVERITIES
        and type(message) is str
        and type(charge_ids) is tuple
        and all(type(i) is str for i in charge_ids)
    ):
        return trusted(
            Flag,
            {
                "code": code,
                "severity": severity,
                "message": message,
                "citation": citation,
                "charge_ids": charge_ids,
            },
        )
    return Flag.model_validate(
        {
            "code": code,
            "severity": severity,
            "message": message,
            "citation": citation,
            "charge_ids": charge_ids,
        }
    )
