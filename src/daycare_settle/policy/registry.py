"""The registry: policy ids → rule files → the version in force on a date.

Rule files live in ``rules/<city>/*.yaml`` (installed inside the package as
``daycare_settle/rules``). A file is a rule file when it has a top-level ``policy`` key;
catalogue files beside it are read through the rule file that declares them, and frame
files (``rules/national/``, top-level ``frame``) through the region files that extend them.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from ..errors import PolicyLoadError, PolicyNotInForce, UnknownPolicy
from .loader import Policy, load_policy_file
from .yaml_source import read_yaml


def rules_root() -> Path:
    """The bundled rules folder: inside the installed package, or the source tree's."""
    packaged = Path(__file__).resolve().parent.parent / "rules"
    if packaged.is_dir():
        return packaged
    source_tree = Path(__file__).resolve().parents[3] / "rules"
    if source_tree.is_dir():
        return source_tree
    raise PolicyLoadError(str(packaged), None, "the bundled rules folder is missing")


def _is_rule_file(path: Path) -> bool:
    """A rule file has a top-level ``policy:`` key (a region file may open with
    ``extends:``); frames (``frame:``) and catalogues are read through the files using them."""
    with path.open("rb") as handle:
        for raw in handle:
            line = raw.decode("utf-8", "replace").rstrip()
            if line.startswith("policy:"):
                return True
    return False


@lru_cache(maxsize=8)
def _index(root: Path) -> dict[str, tuple[Policy, ...]]:
    index: dict[str, list[Policy]] = {}
    for path in sorted(root.rglob("*.yaml")):
        if _is_rule_file(path):
            policy = load_policy_file(path)
            index.setdefault(policy.id, []).append(policy)
    for versions in index.values():
        versions.sort(key=lambda p: p.rules.policy.effective_from)
        for earlier, later in pairwise(versions):
            until = earlier.rules.policy.effective_until
            if until is None or until >= later.rules.policy.effective_from:
                raise PolicyLoadError(
                    later.file,
                    _line_of(later.file, ("policy", "effective_from")),
                    f"effective window {later.window_text()} of policy {later.id!r} overlaps "
                    f"{earlier.window_text()} in {earlier.file}",
                )
    return {key: tuple(value) for key, value in index.items()}


def _line_of(file: str, path: tuple[str, ...]) -> int | None:
    """The line of a key in a rule file that has already loaded (for an error message)."""
    return read_yaml(Path(file).read_text(encoding="utf-8"), file).line_of(path)


def policy_ids(root: Path | None = None) -> list[str]:
    """The ids of the bundled policies."""
    return sorted(_index(root or rules_root()))


def versions(policy_id: str, root: Path | None = None) -> tuple[Policy, ...]:
    """Every version of a bundled policy, oldest first."""
    index = _index(root or rules_root())
    if policy_id not in index:
        known = ", ".join(sorted(index)) or "none"
        raise UnknownPolicy(f"no policy with id {policy_id!r} (bundled: {known})")
    return index[policy_id]


def resolve_policy(policy: str | Path | Policy, on: dt.date | None = None) -> Policy:
    """The policy to apply: a compiled :class:`Policy`, a rule-file path, or a bundled id.

    With ``on``, the version in force on that day; a policy with no version in force then
    raises :class:`PolicyNotInForce`. Without ``on``, the newest version.
    """
    if isinstance(policy, Policy):
        candidates: tuple[Policy, ...] = (policy,)
    elif isinstance(policy, Path) or policy.endswith((".yaml", ".yml")):
        candidates = (load_policy_file(policy),)
    else:
        candidates = versions(policy)
    if on is None:
        return candidates[-1]
    for candidate in candidates:
        if candidate.in_force_on(on):
            return candidate
    windows = "; ".join(c.window_text() for c in candidates)
    raise PolicyNotInForce(
        f"no version of policy {candidates[0].id!r} is in force on {on} (in force: {windows})"
    )
