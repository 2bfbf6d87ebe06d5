"""Trace steps — the audit trail of a settlement: citations, the parameter values each
decision read (with their provenance), trace steps, rejection reasons and flags.

Every record here is built from values the engine holds already validated (texts it
formats, citations the policy made, ids of validated charges). Where each value is exactly
of its field's type the record is constructed without a second validation
(:func:`~daycare_settle.models.common.trusted`); anything else takes the validating
constructor, so an unexpected value is refused as it always was.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar, get_args

from ..models.common import trusted
from ..models.settlement import Citation, Flag, ParameterRead, RejectionReason, TraceStep
from ..policy.loader import Policy
from ..policy.schema import Rule

_READS: dict[tuple[str, str, str], ParameterRead] = {}
"""One :class:`ParameterRead` per distinct (name, value, provenance): the same parameter
is read in every settlement under a policy, and a frozen record can be shared."""
_READS_KEPT = 4096
_RuleTexts = tuple[Citation | None, str | None, str | None]
"""A rule's citation, its clause's quote, and the note of a reading (see :func:`step`)."""
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
    if rule is None:
        citation = quote = note = None
    else:
        texts = policy.__dict__.get(_TEXTS_KEY)
        found = None if texts is None else texts.get((rule.source, rule.provenance, rule.note))
        citation, quote, note = _rule_texts(policy, rule) if found is None else found
    outcome_text = outcome if note is None else f"{outcome}{note}"
    if (
        type(name) is str
        and type(rule_name) is str
        and type(outcome_text) is str
        and type(parameters) is tuple
        and (quote is None or type(quote) is str)
    ):
        for parameter in parameters:
            if type(parameter) is not ParameterRead:
                break
        else:
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


def _rule_texts(policy: Policy, rule: Rule) -> _RuleTexts:
    """What a trace step takes from its rule: the citation, the clause's quote (with its
    reading), and the note appended to the outcome of a value that is a reading. Made once
    per policy and (clause, provenance, note): a policy's steps repeat in every settlement."""
    source = rule.source
    provenance = rule.provenance
    key = (source, provenance, rule.note)
    texts: dict[tuple[str | None, str, str | None], _RuleTexts]
    texts = policy.__dict__.get(_TEXTS_KEY) or policy.__dict__.setdefault(_TEXTS_KEY, {})
    found = texts.get(key)
    if found is None:
        clause = policy.clause(source)
        found = texts[key] = (
            policy.citation(source),
            None if clause is None else _quote(clause.quote, clause.reading),
            f" [{provenance}: {rule.note}]" if provenance != "explicit" and rule.note else None,
        )
    return found


_TEXTS_KEY = "_trace_rule_texts"
"""Where a compiled policy keeps its per-rule trace texts (in the instance's ``__dict__``,
as :attr:`Policy.ref` keeps its record): they live and die with the policy."""


_T = TypeVar("_T")
_MADE_KEY = "_trace_made_once"


def once_per_policy(policy: Policy, rule: Any, key: str, make: Callable[[], _T]) -> _T:
    """``make()`` for a trace record that depends on nothing but the compiled policy and
    one of its rules (the same parameter reads, or the same step, in every settlement under
    it): made on first use and kept with the policy, as :func:`_rule_texts` keeps its texts.

    ``rule`` must belong to ``policy`` (a rule of its rule file): it is told apart by its
    identity, and kept alongside the record so that the identity is never reused."""
    made: dict[tuple[int, str], tuple[Any, Any]]
    made = policy.__dict__.get(_MADE_KEY) or policy.__dict__.setdefault(_MADE_KEY, {})
    found = made.get((id(rule), key))
    if found is not None and found[0] is rule:
        record: _T = found[1]
        return record
    value = make()
    made[(id(rule), key)] = (rule, value)
    return value


def _quote(quote: str, reading: str | None) -> str:
    return quote if reading is None else f"{quote} [reading: {reading}]"


def _plain(code: str) -> str:
    """A code as validation stores it: the codes are :class:`~enum.StrEnum` members, which a
    ``str`` field holds as their plain value."""
    return code.value if isinstance(code, StrEnum) and type(code.value) is str else code


def reject(policy: Policy, code: str, message: str, rule: Rule | None) -> RejectionReason:
    citation = cite(policy, rule)
    code = _plain(code)
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
    return cited_flag(cite(policy, rule), code, severity, message, charge_ids)


def cited_flag(
    citation: Citation | None,
    code: str,
    severity: str,
    message: str,
    charge_ids: tuple[str, ...] = (),
) -> Flag:
    """A flag with the citation at hand (a policy clause, or an audit profile's strategy);
    a coded reason is stored as its plain text, as validation would store it."""
    code = _plain(code)
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
