"""The rules in force, as a table for people (``policy show``), and what changed between two
versions (``policy diff``).

``show`` lists every rule of every programme: the programme, the stage and rule path, the
rule kind, its values, the clause it cites and the provenance of the rule and of each value
the clause does not state (its readings). ``diff`` flattens both versions' rule files into
dotted paths and lists each path whose value differs (``old → new``), each added or removed,
and each clause whose wording or number changed. See docs/versions.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from ..errors import InvalidArgument
from .loader import Policy
from .registry import resolve_policy
from .schema import Rule

_RULE_KEYS = frozenset({"source", "provenance", "note", "alternative", "readings", "kind"})


def show(policy: Policy) -> str:
    """The rules of ``policy`` as a table (markdown pipes), one row per rule."""
    header = policy.rules.policy
    out = [
        f"{header.id} — {header.document} {header.title} (version {header.version})",
        f"in force {policy.window_text()}; confirmed against its source until "
        f"{header.confirmed_until}; sha256 {policy.sha256}",
    ]
    out.extend(f"composed with {f.id} {f.document} v{f.version}" for f in policy.frames)
    out.extend(f"amends {f.id} {f.document} v{f.version}" for f in policy.amends)
    out.extend(f"overrides {path}: {why}" for path, why in policy.overrides)
    out.append("")
    out.append("| programme | rule | kind | values | clause | provenance |")
    out.append("|---|---|---|---|---|---|")
    for programme, rules in policy.rules.programmes.items():
        for path, rule in _rules(rules, ()):
            out.append(
                "| "
                + " | ".join(
                    _cell(text)
                    for text in (
                        programme.value,
                        ".".join(path),
                        str(getattr(rule, "kind", "") or "-"),
                        _values(rule) or "-",
                        _clause(policy, rule.source),
                        _provenance(rule),
                    )
                )
                + " |"
            )
    for key, catalogue in policy.rules.catalogues.items():
        out.append(
            f"| (catalogue) | {_cell(key)} | file | {_cell(catalogue.file)} | "
            f"{_cell(_clause(policy, catalogue.source))} | {_cell(_provenance(catalogue))} |"
        )
    return "\n".join(out) + "\n"


def diff(old: Policy, new: Policy) -> str:
    """What changed from ``old`` to ``new``: header, rule values (dotted paths) and clauses."""
    before = dict(_flat(_dumped(old), ()))
    after = dict(_flat(_dumped(new), ()))
    out = [
        f"{old.id} {old.rules.policy.document} v{old.rules.policy.version} ({old.window_text()})"
        f" → {new.id} {new.rules.policy.document} v{new.rules.policy.version} "
        f"({new.window_text()})"
    ]
    changes = []
    for path in [*before, *(p for p in after if p not in before)]:
        if path not in after:
            changes.append(f"- {path}: {before[path]} (removed)")
        elif path not in before:
            changes.append(f"+ {path}: {after[path]} (added)")
        elif before[path] != after[path]:
            changes.append(f"~ {path}: {before[path]} → {after[path]}")
    out.extend(changes or ["no rule, clause or header value differs"])
    return "\n".join(out) + "\n"


def _dumped(policy: Policy) -> dict[str, Any]:
    """The rule file as data, each clause naming its document (the policy's own where the
    clause gives none), so that an amendment's inherited clauses compare equal."""
    data: dict[str, Any] = policy.rules.model_dump(mode="json")
    for clause in data["clauses"].values():
        clause["document"] = clause["document"] or policy.rules.policy.document
    return data


def _rules(model: BaseModel, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Rule]]:
    """Every rule inside ``model`` (itself included), with its path of field names."""
    if isinstance(model, Rule):
        yield path, model
    for name in type(model).model_fields:
        if name in _RULE_KEYS:
            continue
        value = getattr(model, name)
        items = list(enumerate(value)) if isinstance(value, tuple | list) else [(None, value)]
        for index, item in items:
            if isinstance(item, BaseModel):
                where = (*path, name if index is None else f"{name}[{index}]")
                yield from _rules(item, where)


def _values(rule: Rule) -> str:
    parts = []
    for name in type(rule).model_fields:
        if name in _RULE_KEYS:
            continue
        value = getattr(rule, name)
        if value is None or isinstance(value, BaseModel):
            continue
        if isinstance(value, tuple | list) and any(isinstance(v, BaseModel) for v in value):
            continue
        parts.append(f"{name}={_text(value)}")
    return ", ".join(parts)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_text(v)}" for k, v in value.items()) + "}"
    return str(getattr(value, "value", value))


def _clause(policy: Policy, key: str) -> str:
    clause = policy.rules.clauses[key]
    document = clause.document or policy.rules.policy.document
    return f"{document} {clause.clause}"


def _provenance(rule: Rule) -> str:
    text: str = rule.provenance
    if rule.readings:
        text += "; readings: " + ", ".join(
            f"{name} {reading.provenance}" for name, reading in rule.readings.items()
        )
    return text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _flat(value: Any, path: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    if value == {}:
        return  # an empty mapping (e.g. no readings) holds no value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flat(item, (*path, str(key)))
    elif isinstance(value, list) and value and any(isinstance(v, dict) for v in value):
        for index, item in enumerate(value):
            yield from _flat(item, (*path[:-1], f"{path[-1]}[{index}]") if path else (str(index),))
    else:
        yield ".".join(path), _short(value)


def _short(value: Any) -> str:
    text = _text(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


# --- command line (``daycare-settle policy show|diff``) ------------------------------------


def add_show_commands(commands: Any) -> None:
    """Add ``show`` and ``diff`` to the ``policy`` subcommands of the command line."""
    one = commands.add_parser("show", help="print the rules in force as a table")
    one.add_argument("policy", metavar="P", help="policy id or rule-file path")
    one.add_argument("--on", help="the day (YYYY-MM-DD) whose version to show (default: newest)")
    two = commands.add_parser("diff", help="what changed between two versions")
    two.add_argument(
        "policies", nargs="+", metavar="P", help="a policy id (with --from/--to) or two rule files"
    )
    two.add_argument("--from", dest="from_day", help="the old version's day (YYYY-MM-DD)")
    two.add_argument("--to", dest="to_day", help="the new version's day (YYYY-MM-DD)")


def show_command(args: argparse.Namespace) -> str:
    """The text of ``policy show`` or ``policy diff`` for parsed arguments."""
    if args.policy_command == "show":
        return show(resolve_policy(args.policy, on=_day(args.on, "--on")))
    names = list(args.policies)
    if len(names) == 2 and args.from_day is None and args.to_day is None:
        return diff(resolve_policy(names[0]), resolve_policy(names[1]))
    if len(names) == 1 and args.from_day is not None and args.to_day is not None:
        old = resolve_policy(names[0], on=_day(args.from_day, "--from"))
        new = resolve_policy(names[0], on=_day(args.to_day, "--to"))
        return diff(old, new)
    raise InvalidArgument(
        "policy diff takes one policy with --from DATE --to DATE, or two rule files"
    )


def _day(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(f"{option} must be a date YYYY-MM-DD, not {text!r}") from None
