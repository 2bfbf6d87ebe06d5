"""Command line: ``daycare-settle settle EPISODE.json --policy panzhihua [--explain]``.

Other commands: ``examples [DIR]`` settles every ``DIR/<policy-id>/*.json`` under the
policy its folder names and prints one summary line each; ``policies`` lists the bundled
policies; ``policy readings [P ...]`` prints the register of readings of policies P (ids or
rule-file paths; all bundled policies when none is given) as markdown. Bad input exits
with status 2 and one message, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .engine import settle
from .errors import DaycareSettleError
from .models import Settlement
from .policy import policy_ids, versions
from .policy.readings import render
from .policy.registry import resolve_policy

EXIT_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "settle":
            return _settle(args.episodes, args.policy, explain=args.explain)
        if args.command == "examples":
            return _examples(Path(args.directory))
        if args.command == "policy":
            return _readings(args.policies)
        return _policies()
    except DaycareSettleError as exc:
        print(f"daycare-settle: error: {exc}", file=sys.stderr)
        return EXIT_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="daycare-settle", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("settle", help="settle episode JSON files; print the settlement JSON")
    one.add_argument(
        "episodes", nargs="+", metavar="EPISODE.json", help="episode file ('-' for stdin)"
    )
    one.add_argument("--policy", required=True, help="bundled policy id or a rule-file path")
    one.add_argument("--explain", action="store_true", help="print the decisions as readable text")
    many = commands.add_parser("examples", help="settle every DIR/<policy-id>/*.json and summarise")
    many.add_argument("directory", nargs="?", default="examples")
    commands.add_parser("policies", help="list the bundled policies")
    policy = commands.add_parser("policy", help="inspect a policy's rule file")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    register = policy_commands.add_parser("readings", help="print the register of readings")
    register.add_argument("policies", nargs="*", metavar="P", help="policy id or rule-file path")
    return parser


def _readings(names: Sequence[str]) -> int:
    """The register of readings (markdown) of the named policies, or of every bundled one."""
    print(render([resolve_policy(name) for name in names or policy_ids()]), end="")
    return 0


def _read(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DaycareSettleError(f"cannot read {name}: {exc}") from None


def _settle(names: Sequence[str], policy: str, *, explain: bool) -> int:
    results = []
    for name in names:
        try:
            results.append(settle(_read(name), policy=policy))
        except DaycareSettleError as exc:
            raise DaycareSettleError(f"{name}: {exc}") from None
    if explain:
        print("\n\n".join(explain_text(result) for result in results))
    elif len(results) == 1:
        print(results[0].to_json())
    else:
        print(
            json.dumps([r.model_dump(mode="json") for r in results], ensure_ascii=False, indent=2)
        )
    return 0


def _examples(directory: Path) -> int:
    files = sorted(directory.glob("*/*.json"))
    if not files:
        raise DaycareSettleError(f"no example episodes found under {directory}/<policy-id>/")
    failures = 0
    for path in files:
        try:
            result = settle(path.read_text(encoding="utf-8"), policy=path.parent.name)
        except DaycareSettleError as exc:
            failures += 1
            print(f"{path}: ERROR {exc}")
            continue
        print(f"{path}: {summary(result)}")
    print(f"{len(files) - failures} settled, {failures} failed")
    return 1 if failures else 0


def _policies() -> int:
    for policy_id in policy_ids():
        for version in versions(policy_id):
            header = version.rules.policy
            programmes = ", ".join(p.value for p in version.rules.programmes)
            print(f"{policy_id}\t{header.document}\t{version.window_text()}\t{programmes}")
    return 0


def summary(result: Settlement) -> str:
    """One line: status, how settled, method, totals."""
    if result.status == "rejected":
        codes = ", ".join(reason.code for reason in result.rejection_reasons)
        return f"rejected ({codes}); disallowed {result.totals.disallowed}"
    payment = result.payment
    method = payment.agency if payment is not None else "-"
    totals = result.totals
    return (
        f"settled as {result.settled_as} ({result.programme.value}, agency {method}, "
        f"time {result.time_limit.status.value}); included {totals.included}, "
        f"not merged {totals.not_merged}, disallowed {totals.disallowed} of {totals.input}"
    )


def explain_text(result: Settlement) -> str:
    """The trace and lines as text an auditor can read."""
    out = [
        f"Episode {result.episode_id} under {result.policy.id} {result.policy.document} "
        f"(version {result.policy.version}, sha256 {result.policy.sha256[:12]})",
        f"Result: {summary(result)}",
        "",
        "Decisions:",
    ]
    for number, item in enumerate(result.trace, start=1):
        where = f" [{item.citation.document} {item.citation.clause}]" if item.citation else ""
        out.append(f"{number:3d}. {item.step} / {item.rule}: {item.outcome}{where}")
        out.extend(f"       read {p.name} = {p.value} ({p.provenance})" for p in item.parameters)
    for reason in result.rejection_reasons:
        where = f" [{reason.citation.clause}]" if reason.citation else ""
        out.append(f"  REJECTED {reason.code}: {reason.message}{where}")
    out.append("")
    out.append("Charges:")
    for line in result.lines:
        where = f" [{line.citation.clause}]" if line.citation else ""
        out.append(
            f"  {line.charge_id}: {line.disposition.value} {line.allowed_amount} of "
            f"{line.amount} ({line.reason}){where}"
        )
    if result.flags:
        out.append("")
        out.append("Flags:")
        out.extend(f"  {f.severity} {f.code}: {f.message}" for f in result.flags)
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
