"""The register of readings (解读): every value of a compiled policy its clause does not state.

A rule's ``readings`` label single values (``local-parameter``, ``national-definition``,
``illustrative``); a rule whose kind is itself a reading carries ``provenance`` on the rule.
:func:`readings` lists both, each with its rule path, clause, the value chosen, the note, the
alternative and the setting in the rule file that switches it; :func:`render` writes them as
markdown. ``daycare-settle policy readings [P ...]`` prints that page; ``docs/readings.md`` is
its output for the bundled policies.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel

from .loader import Policy
from .schema import CatalogueRef, Rule

_RULE_KEYS = frozenset({"source", "provenance", "note", "alternative", "readings", "kind"})


@dataclass(frozen=True)
class ReadingEntry:
    """One reading of a policy: where it is, what was chosen, and how to choose otherwise."""

    path: str
    """The rule (or value) path in the rule file, e.g.
    ``programmes.day_surgery.merge.pre_admission.same_institution``."""
    clause: str
    """The clause cited: document and clause number."""
    value: str
    provenance: str
    note: str
    alternative: str
    setting: str
    """The rule-file key a deployment sets to choose the alternative."""


def readings(policy: Policy) -> tuple[ReadingEntry, ...]:
    """Every reading of ``policy``, in rule-file order."""
    return tuple(_entries(policy, policy.rules, ()))


def _entries(policy: Policy, node: object, path: tuple[str, ...]) -> Iterator[ReadingEntry]:
    if isinstance(node, Rule):
        yield from _rule_entries(policy, node, path)
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            if name in _RULE_KEYS and isinstance(node, Rule):
                continue
            yield from _entries(policy, getattr(node, name), (*path, name))
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from _entries(policy, item, (*path, _key(key)))
    elif isinstance(node, tuple):
        for index, item in enumerate(node):
            yield from _entries(policy, item, (*path[:-1], f"{path[-1]}[{index}]"))


def _rule_entries(policy: Policy, rule: Rule, path: tuple[str, ...]) -> Iterator[ReadingEntry]:
    dotted = ".".join(path)
    if rule.provenance != "explicit":
        kind = getattr(rule, "kind", None)
        values = _values(rule)
        yield ReadingEntry(
            path=dotted,
            clause=_clause(policy, rule.source),
            value="; ".join(v for v in (f"kind: {kind}" if kind else "", values) if v),
            provenance=rule.provenance,
            note=rule.note or "",
            alternative=rule.alternative or "",
            setting=f"{dotted}.kind" if kind is not None and not values else dotted,
        )
    for field, reading in rule.readings.items():
        yield ReadingEntry(
            path=f"{dotted}.{field}",
            clause=_clause(policy, reading.source or rule.source),
            value=_text(getattr(rule, field)),
            provenance=reading.provenance,
            note=reading.note,
            alternative=reading.alternative,
            setting=f"{dotted}.{field}",
        )


def _key(key: object) -> str:
    return key.value if isinstance(key, Enum) else str(key)


def _clause(policy: Policy, key: str) -> str:
    citation = policy.citation(key)
    return key if citation is None else f"{citation.clause} ({citation.document})"


def _values(rule: Rule) -> str:
    """The rule's own scalar and list values (nested rules are listed on their own); of a
    catalogue declaration, only those the rule file gives (a ``yaml`` catalogue has no
    platform ``format``, ``column`` or ``system`` to show)."""
    fields = [
        f
        for f in type(rule).model_fields
        if f not in _RULE_KEYS
        and not isinstance(getattr(rule, f), Rule)
        and not (isinstance(rule, CatalogueRef) and f not in rule.model_fields_set)
    ]
    return "; ".join(f"{f}: {_text(getattr(rule, f))}" for f in fields)


def _text(value: Any) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Decimal | int | str):
        return str(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_text(k)}: {_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, BaseModel):
        fields = [f for f in type(value).model_fields if f not in _RULE_KEYS]
        return "{" + ", ".join(f"{f}: {_text(getattr(value, f))}" for f in fields) + "}"
    return str(value)


COMMAND = "daycare-settle policy readings"
REGENERATE = "daycare-settle policy readings > docs/readings.md"


def render(policies: Sequence[Policy], command: str = COMMAND) -> str:
    """The register of ``policies`` as a markdown page."""
    out = [
        "# Readings: what the rule files decide where the texts are silent",
        "",
        f"Generated by `{command}` from the rule files; do not edit by hand (regenerate: "
        f"`{REGENERATE}`, or `PYTHONPATH=src python3 -m daycare_settle.cli policy readings "
        "> docs/readings.md` in a checkout). Each entry is a "
        "value the cited clause does not state (a reading), or a rule whose kind is itself a "
        "reading. `local-parameter`: chosen here, a deployment sets its own; "
        "`national-definition`: stated by the national document the clause names; "
        "`illustrative`: an example only. To choose the alternative, set the key in "
        "*setting* in the rule file as the alternative says.",
    ]
    for policy in policies:
        header = policy.rules.policy
        entries = readings(policy)
        out += ["", f"## {header.id} — {header.document} (version {header.version})", ""]
        if not entries:
            out.append("No readings: every value is stated by its clause.")
            continue
        out.append(f"{len(entries)} reading(s).")
        for entry in entries:
            out += [
                "",
                f"### `{entry.path}`",
                "",
                f"- **clause:** {entry.clause}",
                f"- **value:** `{entry.value}` ({entry.provenance})",
                f"- **reading:** {entry.note}",
                f"- **alternative:** {entry.alternative or '(none given)'}",
                f"- **setting:** `{entry.setting}`",
            ]
    return "\n".join(out) + "\n"
