"""Verify a stored result: settle its episode again and say what differs, and why it may.

``verify(result_json, episode)`` re-settles the episode under the stored result's policy
(its ``policy.id``, or ``policy=`` given) and compares the new result with the stored one
field by field. It reports ``match``, or each differing field as a JSON path
(``lines[3].disposition: stored "included", now "disallowed"``, the first
:data:`SHOWN` of them), and whether the rules changed since: which of the files the stored
result lists under ``policy.files`` changed, which were added or removed (by their SHA-256),
and whether the library version differs. See docs/versions.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._version import __version__
from .engine import parse_episode, settle
from .engine.settle import EpisodeInput
from .errors import InvalidResult
from .models.common import local_date
from .policy.loader import Policy
from .policy.registry import resolve_policy

SHOWN = 20
"""The most differing fields a :class:`Verification` lists (it counts them all)."""


@dataclass(frozen=True)
class Verification:
    """The outcome of :func:`verify`."""

    match: bool
    differences: tuple[str, ...]
    """The first :data:`SHOWN` differing fields: ``path: stored X, now Y``."""
    difference_count: int
    files_changed: tuple[str, ...]
    """Rule and catalogue files (paths as the result lists them) whose SHA-256 differs."""
    files_added: tuple[str, ...]
    """Files the policy reads now that the stored result does not list."""
    files_removed: tuple[str, ...]
    """Files the stored result lists that the policy no longer reads."""
    stored_library_version: str | None
    library_version: str
    stored_policy_sha256: str | None
    policy_sha256: str
    catalogues_changed: tuple[str, ...] = ()
    """Catalogues (by key) whose version or format differs from the stored
    ``policy.catalogues``: ``key: version stored X, now Y``."""

    @property
    def rules_changed(self) -> bool:
        return bool(self.files_changed or self.files_added or self.files_removed) or (
            self.stored_policy_sha256 != self.policy_sha256
        )

    @property
    def library_changed(self) -> bool:
        return self.stored_library_version != self.library_version

    def text(self) -> str:
        """A readable report: ``match``, or the differing fields and what changed since."""
        lines = ["match" if self.match else f"differ: {self.difference_count} field(s)"]
        lines.extend(f"  {difference}" for difference in self.differences)
        if self.difference_count > len(self.differences):
            lines.append(f"  ... and {self.difference_count - len(self.differences)} more")
        if self.rules_changed:
            lines.append("rules changed since the result was stored:")
            lines.extend(f"  changed {name}" for name in self.files_changed)
            lines.extend(f"  added {name}" for name in self.files_added)
            lines.extend(f"  removed {name}" for name in self.files_removed)
            lines.extend(f"  catalogue {change}" for change in self.catalogues_changed)
            lines.append(
                f"  policy.sha256 stored {self.stored_policy_sha256}, now {self.policy_sha256}"
            )
        else:
            lines.append("rules unchanged (every file has its stored SHA-256)")
        if self.library_changed:
            lines.append(
                f"library version stored {self.stored_library_version}, now {self.library_version}"
            )
        else:
            lines.append(f"library version unchanged ({self.library_version})")
        return "\n".join(lines)


def verify(
    result_json: str | bytes | Mapping[str, Any],
    episode: EpisodeInput,
    policy: str | os.PathLike[str] | Policy | None = None,
) -> Verification:
    """Settle ``episode`` again and compare with the stored result ``result_json`` (JSON
    text or the parsed object). ``policy`` defaults to the stored ``policy.id``.

    Raises :class:`InvalidResult` for a stored result that is not a result's JSON object,
    and what :func:`settle` raises for the episode and the policy.
    """
    stored = _stored(result_json)
    stored_policy = stored.get("policy")
    if not isinstance(stored_policy, Mapping) or not isinstance(stored_policy.get("id"), str):
        raise InvalidResult("the stored result has no policy.id (is it a settlement result?)")
    parsed = parse_episode(episode)
    chosen: str | os.PathLike[str] | Policy = stored_policy["id"] if policy is None else policy
    compiled = resolve_policy(
        Path(chosen) if isinstance(chosen, os.PathLike) else chosen,
        on=local_date(parsed.admitted_at),
    )
    now = json.loads(settle(parsed, compiled).to_json())
    differences = list(_differences(stored, now, ""))
    stored_files = _files(stored_policy.get("files"))
    current = {f.path: f.sha256 for f in compiled.files}
    stored_version = stored.get("library_version")
    stored_sha = stored_policy.get("sha256")
    return Verification(
        match=not differences,
        differences=tuple(differences[:SHOWN]),
        difference_count=len(differences),
        files_changed=tuple(
            sorted(p for p in stored_files if p in current and current[p] != stored_files[p])
        ),
        files_added=tuple(sorted(p for p in current if p not in stored_files)),
        files_removed=tuple(sorted(p for p in stored_files if p not in current)),
        stored_library_version=stored_version if isinstance(stored_version, str) else None,
        library_version=__version__,
        stored_policy_sha256=stored_sha if isinstance(stored_sha, str) else None,
        policy_sha256=compiled.sha256,
        catalogues_changed=_catalogue_changes(stored_policy.get("catalogues"), compiled),
    )


def _catalogue_changes(value: object, compiled: Policy) -> tuple[str, ...]:
    """Each catalogue the stored result and the policy both name whose version or format
    differs (a result stored before results named catalogue versions names none)."""
    if not isinstance(value, list):
        return ()
    stored: dict[str, tuple[object, object]] = {
        item["key"]: (item.get("version"), item.get("format"))
        for item in value
        if isinstance(item, Mapping) and isinstance(item.get("key"), str)
    }
    changes: list[str] = []
    for now in compiled.ref.catalogues:
        if now.key not in stored:
            continue
        version, form = stored[now.key]
        if (version, form) != (now.version, now.format):
            changes.append(
                f"{now.key}: version stored {version} ({form}), now {now.version} ({now.format})"
            )
    return tuple(changes)


def _stored(result_json: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(result_json, Mapping):
        return result_json
    if not isinstance(result_json, str | bytes):
        raise InvalidResult(
            f"the stored result must be JSON text or a mapping, not {type(result_json).__name__}"
        )
    try:
        data = json.loads(result_json)
    except (ValueError, RecursionError) as exc:
        raise InvalidResult(f"the stored result is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidResult("the stored result must be a JSON object")
    return data


def _files(value: object) -> dict[str, str]:
    if not isinstance(value, list):
        raise InvalidResult("the stored result has no policy.files list")
    files: dict[str, str] = {}
    for index, item in enumerate(value):
        if not isinstance(item, Mapping) or not all(
            isinstance(item.get(key), str) for key in ("path", "sha256")
        ):
            raise InvalidResult(f"policy.files[{index}] is not a {{path, sha256}} object")
        files[item["path"]] = item["sha256"]
    return files


def _differences(stored: Any, now: Any, path: str) -> Iterator[str]:
    """Each differing leaf (or a value of another shape) as ``path: stored X, now Y``."""
    if isinstance(stored, Mapping) and isinstance(now, Mapping):
        for key in [*stored, *(k for k in now if k not in stored)]:
            where = f"{path}.{key}" if path else str(key)
            if key not in now:
                yield f"{where}: stored {_short(stored[key])}, now absent"
            elif key not in stored:
                yield f"{where}: stored absent, now {_short(now[key])}"
            else:
                yield from _differences(stored[key], now[key], where)
        return
    if isinstance(stored, list) and isinstance(now, list):
        for index in range(max(len(stored), len(now))):
            where = f"{path}[{index}]"
            if index >= len(now):
                yield f"{where}: stored {_short(stored[index])}, now absent"
            elif index >= len(stored):
                yield f"{where}: stored absent, now {_short(now[index])}"
            else:
                yield from _differences(stored[index], now[index], where)
        return
    if stored != now or type(stored) is not type(now):
        yield f"{path or '(result)'}: stored {_short(stored)}, now {_short(now)}"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."
