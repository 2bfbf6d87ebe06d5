"""Audit a stream of episodes: findings that need several of them (稽核提示 across episodes).

``audit_many(lines, policy, profile=None)`` settles each episode (``daycare_settle.settle``)
and yields records: a :class:`Finding` as soon as one is known, an :class:`AuditError` for a
bad line, and last the :class:`AuditSummary`. The command ``daycare-settle audit
EPISODES.jsonl --policy P [--out FINDINGS.jsonl] [--html SUMMARY.html] [--profile
background-strategy]`` writes them as JSON lines and an HTML summary. ``docs/audit.md``
describes the kinds, the profile and the output.

Decisions:

- **What is reported.** Per episode, the flags of the in-episode audit kinds the engine
  raised (``engine/audit.py``); across episodes, the kinds of the rule file's
  ``audit_across`` list (re-admissions, institution rates, the same charge in two
  episodes). With a profile, its kinds too, each finding labelled with the profile. Nothing
  here changes a settlement. Only settled episodes enter the checks across episodes (a
  rejected one is paid as no day-care stay).
- **Admission order, with a tolerance.** The checks keep state only while a later episode
  can still match it, which needs the input in order of ``admitted_at``. An episode admitted
  more than ``tolerance`` (default one day) before the newest admission seen so far is an
  error record (``out_of_order``) and enters no check; sort the file first.
- **Memory bounded by the window.** A re-admission rule keeps an episode until ``days``
  (plus the tolerance) after its discharge; a same-charge rule keeps an episode's charges
  until ``days`` (plus the tolerance) after its admission. Older state is dropped as the
  admissions advance, so memory follows the episodes inside the window, not the file.
  Institution rates keep three counters per institution. The summary keeps at most
  :data:`WORST` findings per code.
- **Bad lines** (malformed JSON, an invalid episode, no policy version in force) become
  error records with their physical line number, as in ``batch``; blank lines are skipped.
- Deterministic: the same input and rule files give the same bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import html
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from .batch import BatchItem, is_blank, open_input, open_output
from .codes import FlagCode
from .engine import parse_episode, settle
from .engine.audit import KIND_OF_FLAG, audit_flags, placements_of
from .errors import DaycareSettleError, PolicyLoadError
from .files import UnreadableFile, read_bounded
from .models.common import local_date
from .models.episode import Episode
from .models.settlement import Citation, Disposition, Flag, Settlement, TimeLimitStatus
from .policy import Policy, resolve_policy
from .policy.schema import (
    CrossAuditRule,
    InstitutionRates,
    ProfileFile,
    ReadmissionWithin,
    Rule,
    SameChargeInEpisodes,
)
from .policy.validation import validate_document
from .policy.yaml_source import decode_text, read_yaml

DEFAULT_TOLERANCE = dt.timedelta(days=1)
WORST = 10
"""How many findings of each code the summary keeps as the worst cases."""
PROFILE_LIMIT = 1_000_000
"""The largest profile file read, in bytes."""

_DAY = Decimal(86400)
_CENT = Decimal("0.01")
_RATE = Decimal("0.0001")


class UnknownProfile(DaycareSettleError, LookupError):
    """No audit profile of that name is shipped (and the name is no profile file)."""

    code = "unknown_profile"


class OutOfOrder(DaycareSettleError, ValueError):
    """An episode admitted earlier than the stream's order allows."""

    code = "out_of_order"


# --- the profile -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """An audit profile, loaded strictly like a rule file."""

    rules: ProfileFile
    file: str

    @property
    def id(self) -> str:
        return self.rules.profile.id

    def cite(self, rule: Rule) -> Citation:
        strategy = self.rules.strategies[rule.source]  # checked when the file loaded
        return Citation(document=self.rules.profile.document, clause=strategy.clause)


def profiles_root() -> Path:
    """The shipped profiles folder (``daycare_settle/profiles``, beside this module). Not
    under ``rules/``: a profile is no policy, and the registry and the rule-file checks read
    every YAML file there as one."""
    return Path(__file__).resolve().parent / "profiles"


def available_profiles() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in profiles_root().glob("*.yaml")))


def load_profile(profile: str | os.PathLike[str] | Profile) -> Profile:
    """A shipped profile by name (``background-strategy``) or a profile file's path."""
    if isinstance(profile, Profile):
        return profile
    if not isinstance(profile, str | os.PathLike):
        raise UnknownProfile(
            f"profile= must be a profile name or path, not {type(profile).__name__}"
        )
    name = os.fspath(profile)
    if isinstance(profile, os.PathLike) or name.endswith((".yaml", ".yml")):
        path = Path(name)
    else:
        path = profiles_root() / f"{name}.yaml"
        if name not in available_profiles():
            known = ", ".join(available_profiles()) or "none"
            raise UnknownProfile(f"no audit profile {name!r} (shipped: {known})")
    try:
        raw = read_bounded(path, limit=PROFILE_LIMIT)
    except UnreadableFile as exc:
        raise PolicyLoadError(str(path), None, str(exc)) from None
    text = decode_text(raw, str(path))
    return Profile(validate_document(read_yaml(text, str(path)), ProfileFile), str(path))


# --- records ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One finding: what was found, the rule's clause (or the profile's strategy), the
    episodes involved (with their input lines) and the numbers behind it."""

    kind: str
    code: str
    severity: str
    message: str
    citation: Citation | None
    episode_ids: tuple[str, ...]
    lines: tuple[int, ...]
    values: Mapping[str, str] = field(default_factory=dict)
    charge_ids: tuple[str, ...] = ()
    profile: str | None = None
    """The audit profile the rule comes from; ``None`` for the policy's own rules."""
    score: Decimal = Decimal(0)
    """How bad, for the summary's worst cases (higher is worse); not written."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": "finding",
            "kind": self.kind,
            "code": self.code,
            "severity": self.severity,
            "source": "policy" if self.profile is None else "profile",
            "profile": self.profile,
            "citation": None if self.citation is None else self.citation.model_dump(),
            "episode_ids": list(self.episode_ids),
            "lines": list(self.lines),
            "charge_ids": list(self.charge_ids),
            "values": dict(self.values),
            "message": self.message,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


@dataclass(frozen=True)
class AuditError:
    """A line that could not be audited."""

    line: int
    code: str
    message: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "record": "error",
                "line": self.line,
                "error": {"code": self.code, "message": self.message},
            },
            ensure_ascii=False,
        )


@dataclass
class AuditSummary:
    """Counts over the run, the institutions' rates and the worst cases per code."""

    policy: str
    profile: str | None
    episodes: int = 0
    settled: int = 0
    rejected: int = 0
    errors: int = 0
    errors_by_code: dict[str, int] = field(default_factory=dict)
    findings_by_code: dict[str, int] = field(default_factory=dict)
    findings_from_profile: int = 0
    rates: list[Finding] = field(default_factory=list)
    worst: dict[str, list[tuple[Decimal, int, Finding]]] = field(default_factory=dict)

    def count(self, finding: Finding, order: int) -> None:
        self.findings_by_code[finding.code] = self.findings_by_code.get(finding.code, 0) + 1
        if finding.profile is not None:
            self.findings_from_profile += 1
        # a bounded min-heap on (score, -order): the WORST highest scores, earliest first
        kept = self.worst.setdefault(finding.code, [])
        item = (finding.score, -order, finding)
        if len(kept) < WORST:
            heapq.heappush(kept, item)
        elif item[:2] > kept[0][:2]:
            heapq.heapreplace(kept, item)

    def worst_cases(self) -> dict[str, list[Finding]]:
        return {
            code: [f for _, _, f in sorted(kept, key=lambda i: (-i[0], -i[1]))]
            for code, kept in sorted(self.worst.items())
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": "summary",
            "policy": self.policy,
            "profile": self.profile,
            "episodes": self.episodes,
            "status": {"settled": self.settled, "rejected": self.rejected, "error": self.errors},
            "errors_by_code": dict(sorted(self.errors_by_code.items())),
            "findings_by_code": dict(sorted(self.findings_by_code.items())),
            "findings_from_profile": self.findings_from_profile,
            "institutions": [dict(f.values) for f in self.rates],
            "worst": {
                code: [f.to_dict() for f in found] for code, found in self.worst_cases().items()
            },
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


Record = Finding | AuditError | AuditSummary


# --- the checks across episodes --------------------------------------------------------------


@dataclass(frozen=True)
class _Seen:
    """What a window keeps of one settled episode."""

    episode: Episode
    line: int


@dataclass
class _Origin:
    """Where a rule comes from: its citation and, for a profile rule, the profile."""

    citation: Citation | None
    profile: str | None


class _Window:
    """Entries kept until they expire: ``expire(now)`` drops those whose time is past."""

    def __init__(self) -> None:
        self._heap: list[tuple[dt.datetime, int, Any]] = []
        self._seq = 0

    def keep(self, until: dt.datetime, key: Any) -> int:
        self._seq += 1
        heapq.heappush(self._heap, (until, self._seq, key))
        return self._seq

    def expire(self, now: dt.datetime) -> Iterator[tuple[int, Any]]:
        while self._heap and self._heap[0][0] < now:
            _, seq, key = heapq.heappop(self._heap)
            yield seq, key

    def __len__(self) -> int:
        return len(self._heap)


def _principal(episode: Episode, how: str) -> str:
    if how == "any":
        return ""
    code = episode.diagnoses[0]
    text = code.code.replace(".", "").upper()
    return f"{code.system}:{text[:3] if how == 'category' else text}"


def _days(delta: dt.timedelta) -> Decimal:
    return (Decimal(int(delta.total_seconds())) / _DAY).quantize(_CENT)


class _Readmissions:
    def __init__(self, rule: ReadmissionWithin, origin: _Origin, tolerance: dt.timedelta) -> None:
        self.rule = rule
        self.origin = origin
        self.span = dt.timedelta(days=rule.days)
        self.tolerance = tolerance
        self.held: dict[tuple[str, str, str], dict[int, _Seen]] = {}
        self.window = _Window()

    def _key(self, episode: Episode) -> tuple[str, str, str]:
        place = episode.institution.id if self.rule.same_institution else ""
        return (episode.patient.id, place, _principal(episode, self.rule.diagnosis))

    def expire(self, newest: dt.datetime) -> None:
        for seq, key in self.window.expire(newest - self.tolerance):
            kept = self.held[key]
            del kept[seq]
            if not kept:
                del self.held[key]

    def size(self) -> int:
        return len(self.window)

    def check(self, seen: _Seen) -> list[Finding]:
        episode = seen.episode
        key = self._key(episode)
        found: list[Finding] = []
        earlier = [
            s
            for s in self.held.get(key, {}).values()
            if s.episode.admitted_at <= episode.admitted_at
            and episode.admitted_at - s.episode.discharged_at <= self.span
        ]
        if earlier:
            last = max(earlier, key=lambda s: (s.episode.discharged_at, s.line))
            gap = episode.admitted_at - last.episode.discharged_at
            days = _days(gap)
            where = "the same institution" if self.rule.same_institution else "any institution"
            found.append(
                Finding(
                    kind=self.rule.kind,
                    code=FlagCode.READMISSION_WITHIN_WINDOW,
                    severity="warning",
                    message=(
                        f"patient {episode.patient.id} admitted again at {where} {days} days "
                        f"after the discharge of episode {last.episode.episode_id} "
                        f"(window {self.rule.days} days, diagnosis compared: "
                        f"{self.rule.diagnosis})"
                    ),
                    citation=self.origin.citation,
                    episode_ids=(last.episode.episode_id, episode.episode_id),
                    lines=(last.line, seen.line),
                    values={
                        "gap_days": str(days),
                        "window_days": str(self.rule.days),
                        "institution": episode.institution.id,
                        "principal_diagnosis": episode.diagnoses[0].code,
                    },
                    profile=self.origin.profile,
                    score=-days,
                )
            )
        programmes = self.rule.after_programmes
        if programmes is None or episode.programme in programmes:
            seq = self.window.keep(episode.discharged_at + self.span, key)
            self.held.setdefault(key, {})[seq] = seen
        return found


_ChargeKey = tuple[str, dt.datetime, Decimal, str]


@dataclass(frozen=True)
class _Claimed:
    episode_id: str
    line: int
    charge_id: str
    item_code: str | None
    admitted_at: dt.datetime


class _SameCharges:
    def __init__(
        self, rule: SameChargeInEpisodes, origin: _Origin, tolerance: dt.timedelta
    ) -> None:
        self.rule = rule
        self.origin = origin
        self.span = dt.timedelta(days=rule.days)
        self.tolerance = tolerance
        self.held: dict[str, dict[_ChargeKey, list[tuple[int, _Claimed]]]] = {}
        self.window = _Window()

    def expire(self, newest: dt.datetime) -> None:
        for seq, (patient, key) in self.window.expire(newest - self.tolerance):
            charges = self.held[patient]
            remaining = [item for item in charges[key] if item[0] != seq]
            if remaining:
                charges[key] = remaining
            else:
                del charges[key]
                if not charges:
                    del self.held[patient]

    def size(self) -> int:
        return len(self.window)

    def check(self, seen: _Seen, settlement: Settlement) -> list[Finding]:
        episode = seen.episode
        patient = episode.patient.id
        included = {
            line.charge_id for line in settlement.lines if line.disposition == Disposition.INCLUDED
        }
        charges = self.held.setdefault(patient, {})
        pairs: dict[tuple[str, int], list[tuple[str, str, Decimal]]] = {}
        mine: list[tuple[_ChargeKey, _Claimed]] = []
        for charge in episode.charges:
            if charge.id not in included:
                continue
            institution = charge.institution_id or episode.institution.id
            key: _ChargeKey = (institution, charge.at, charge.amount, charge.category)
            for _, earlier in charges.get(key, ()):
                if earlier.episode_id == episode.episode_id:
                    continue
                if episode.admitted_at - earlier.admitted_at > self.span:
                    continue
                if (
                    earlier.item_code is not None
                    and charge.item_code is not None
                    and earlier.item_code != charge.item_code
                ):
                    continue
                pairs.setdefault((earlier.episode_id, earlier.line), []).append(
                    (earlier.charge_id, charge.id, charge.amount)
                )
            claim = _Claimed(
                episode.episode_id, seen.line, charge.id, charge.item_code, episode.admitted_at
            )
            mine.append((key, claim))
        for key, claim in mine:
            seq = self.window.keep(episode.admitted_at + self.span, (patient, key))
            charges.setdefault(key, []).append((seq, claim))
        if not charges:
            del self.held[patient]
        found = []
        for (other, line), matched in sorted(pairs.items(), key=lambda p: p[0][1]):
            amount = sum((m[2] for m in matched), Decimal("0.00"))
            found.append(
                Finding(
                    kind=self.rule.kind,
                    code=FlagCode.SAME_CHARGE_IN_EPISODES,
                    severity="warning",
                    message=(
                        f"{len(matched)} charge(s) of {amount} included in episode "
                        f"{episode.episode_id} were already included in episode {other} "
                        f"of patient {patient}"
                    ),
                    citation=self.origin.citation,
                    episode_ids=(other, episode.episode_id),
                    lines=(line, seen.line),
                    charge_ids=tuple(c for m in matched for c in m[:2]),
                    values={"charges": str(len(matched)), "amount": str(amount)},
                    profile=self.origin.profile,
                    score=amount,
                )
            )
        return found


def _rate(part: int, whole: int) -> Decimal:
    return (Decimal(part) / Decimal(whole)).quantize(_RATE) if whole else Decimal(0)


class _Rates:
    def __init__(self, rule: InstitutionRates, origin: _Origin) -> None:
        self.rule = rule
        self.origin = origin
        self.counts: dict[str, list[int]] = {}
        self.lines: dict[str, int] = {}

    def count(self, seen: _Seen, settlement: Settlement) -> None:
        counts = self.counts.setdefault(seen.episode.institution.id, [0, 0, 0])
        counts[0] += 1
        counts[1] += settlement.conversion is not None
        counts[2] += settlement.time_limit.status == TimeLimitStatus.EXTENDED

    def findings(self) -> list[Finding]:
        found: list[Finding] = []
        for institution, (settled, converted, extended) in sorted(self.counts.items()):
            conversion, extension = _rate(converted, settled), _rate(extended, settled)
            values = {
                "institution": institution,
                "settled": str(settled),
                "converted": str(converted),
                "conversion_rate": str(conversion),
                "extended": str(extended),
                "extension_rate": str(extension),
            }
            found.append(
                Finding(
                    kind=self.rule.kind,
                    code=FlagCode.INSTITUTION_RATES,
                    severity="info",
                    message=(
                        f"institution {institution}: {converted} of {settled} settled episodes "
                        f"converted ({conversion}), {extended} extended ({extension})"
                    ),
                    citation=self.origin.citation,
                    episode_ids=(),
                    lines=(),
                    values=values,
                    profile=self.origin.profile,
                )
            )
            if settled < self.rule.min_episodes:
                continue
            judged = (
                (FlagCode.CONVERSION_RATE_HIGH, conversion, self.rule.max_conversion_rate),
                (FlagCode.EXTENSION_RATE_HIGH, extension, self.rule.max_extension_rate),
            )
            for code, rate, limit in judged:
                what = "conversion" if code == FlagCode.CONVERSION_RATE_HIGH else "extension"
                if limit is not None and rate > limit:
                    found.append(
                        Finding(
                            kind=self.rule.kind,
                            code=code,
                            severity="warning",
                            message=(
                                f"institution {institution}: {what} rate {rate} is above "
                                f"{limit} ({settled} settled episodes)"
                            ),
                            citation=self.origin.citation,
                            episode_ids=(),
                            lines=(),
                            values={**values, "limit": str(limit)},
                            profile=self.origin.profile,
                            score=rate - limit,
                        )
                    )
        return found


_Check = _Readmissions | _SameCharges | _Rates


class Auditor:
    """The state of one audit run: feed it lines in order, then finish it."""

    def __init__(
        self,
        policy: str | os.PathLike[str] | Policy,
        profile: str | os.PathLike[str] | Profile | None = None,
        *,
        tolerance: dt.timedelta = DEFAULT_TOLERANCE,
    ) -> None:
        if not isinstance(tolerance, dt.timedelta) or tolerance < dt.timedelta(0):
            raise DaycareSettleError("tolerance must be a timedelta of zero or more")
        self.policy = policy
        resolve_policy(policy)  # an unknown policy or a broken file raises here
        self.profile = None if profile is None else load_profile(profile)
        self.tolerance = tolerance
        self.summary = AuditSummary(
            policy=policy.file if isinstance(policy, Policy) else os.fspath(policy),
            profile=None if self.profile is None else self.profile.id,
        )
        self.newest: dt.datetime | None = None
        self._checks: dict[tuple[str, int], _Check] = {}
        self._order = 0
        self._last: tuple[dt.date, Policy] | None = None

    def _in_force(self, day: dt.date) -> Policy:
        # the version in force, remembered for the last day seen (input is in day order)
        if self._last is None or self._last[0] != day:
            self._last = (day, resolve_policy(self.policy, on=day))
        return self._last[1]

    def size(self) -> int:
        """How many episodes and charges the windows hold (what bounds the memory)."""
        return sum(c.size() for c in self._checks.values() if not isinstance(c, _Rates))

    def _check(self, owner: str, index: int, rule: CrossAuditRule, origin: _Origin) -> _Check:
        key = (owner, index)
        found = self._checks.get(key)
        if found is None:
            if isinstance(rule, ReadmissionWithin):
                found = _Readmissions(rule, origin, self.tolerance)
            elif isinstance(rule, SameChargeInEpisodes):
                found = _SameCharges(rule, origin, self.tolerance)
            else:
                found = _Rates(rule, origin)
            self._checks[key] = found
        return found

    def _rules(self, policy: Policy) -> Iterator[_Check]:
        for index, rule in enumerate(policy.rules.audit_across):
            origin = _Origin(policy.citation(rule.source), None)
            yield self._check(policy.file, index, rule, origin)
        if self.profile is not None:
            profile = self.profile
            for index, rule in enumerate(profile.rules.audit_across):
                origin = _Origin(profile.cite(rule), profile.id)
                yield self._check(f"profile:{profile.file}", index, rule, origin)

    def _emit(self, found: Iterable[Finding]) -> list[Record]:
        out: list[Record] = []
        for finding in found:
            self._order += 1
            self.summary.count(finding, self._order)
            out.append(finding)
        return out

    def _error(self, line: int, code: str, message: str) -> list[Record]:
        self.summary.episodes += 1
        self.summary.errors += 1
        self.summary.errors_by_code[code] = self.summary.errors_by_code.get(code, 0) + 1
        return [AuditError(line, code, message)]

    def feed(self, line: int, item: BatchItem) -> list[Record]:
        """The records of one input line (none for a blank line)."""
        if is_blank(item):
            return []
        try:
            episode = parse_episode(item)
            if self.newest is not None and episode.admitted_at < self.newest - self.tolerance:
                raise OutOfOrder(
                    f"episode {episode.episode_id} admitted {episode.admitted_at.isoformat()}, "
                    f"more than {self.tolerance} before an earlier line's admission "
                    f"{self.newest.isoformat()}: sort the input by admitted_at"
                )
            compiled = self._in_force(local_date(episode.admitted_at))
            settlement = settle(episode, compiled)
        except DaycareSettleError as exc:
            return self._error(line, exc.code, exc.message)
        self.summary.episodes += 1
        if self.newest is None or episode.admitted_at > self.newest:
            self.newest = episode.admitted_at
            for check in self._checks.values():
                if not isinstance(check, _Rates):
                    check.expire(self.newest)
        seen = _Seen(episode, line)
        found = self._episode_findings(seen, settlement)
        if settlement.status == "rejected":
            self.summary.rejected += 1
            return self._emit(found)
        self.summary.settled += 1
        for check in self._rules(compiled):
            if isinstance(check, _Readmissions):
                found.extend(check.check(seen))
            elif isinstance(check, _SameCharges):
                found.extend(check.check(seen, settlement))
            else:
                check.count(seen, settlement)
        return self._emit(found)

    def _episode_findings(self, seen: _Seen, settlement: Settlement) -> list[Finding]:
        """The engine's audit flags, then (for a settled episode) the profile's."""
        episode = seen.episode
        flags: list[tuple[Flag, str | None]] = [
            (f, None) for f in settlement.flags if f.code in KIND_OF_FLAG
        ]
        profile = self.profile
        if profile is not None and profile.rules.audit and settlement.status == "settled":
            placements = placements_of(settlement.lines)
            rules = profile.rules.audit
            flags += [
                (f, profile.id) for f in audit_flags(episode, rules, placements, profile.cite)
            ]
        return [
            Finding(
                kind=KIND_OF_FLAG[flag.code],
                code=flag.code,
                severity=flag.severity,
                message=flag.message,
                citation=flag.citation,
                episode_ids=(episode.episode_id,),
                lines=(seen.line,),
                charge_ids=flag.charge_ids,
                profile=source,
            )
            for flag, source in flags
        ]

    def finish(self) -> list[Record]:
        """The institutions' rates (and any judged too high), then the summary."""
        rates: list[Finding] = []
        for check in self._checks.values():
            if isinstance(check, _Rates):
                rates.extend(check.findings())
        self.summary.rates = [f for f in rates if f.code == FlagCode.INSTITUTION_RATES]
        return [*self._emit(rates), self.summary]


def audit_many(
    lines: Iterable[BatchItem],
    policy: str | os.PathLike[str] | Policy,
    profile: str | os.PathLike[str] | Profile | None = None,
    *,
    tolerance: dt.timedelta = DEFAULT_TOLERANCE,
) -> Iterator[Record]:
    """Audit episodes in admission order (JSON lines, mappings or :class:`Episode`), yielding
    findings and error records as they come, then the summary. The policy (and the profile)
    are loaded first, so a bad one raises before any line is read."""
    auditor = Auditor(policy, profile, tolerance=tolerance)
    return _stream(auditor, lines)


def _stream(auditor: Auditor, lines: Iterable[BatchItem]) -> Iterator[Record]:
    for number, item in enumerate(lines, start=1):
        yield from auditor.feed(number, item)
    yield from auditor.finish()


# --- the HTML summary ------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f2f2f2}.num{text-align:right}.profile{color:#8a4b00}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _source(finding: Finding) -> str:
    if finding.profile is not None:
        where = "" if finding.citation is None else f": {finding.citation.clause}"
        return f'<span class="profile">{_e(finding.profile)} profile{_e(where)}</span>'
    if finding.citation is None:
        return ""
    return _e(f"{finding.citation.document} {finding.citation.clause}")


def render_html(summary: AuditSummary) -> str:
    """A self-contained page: no scripts, fonts, images or links out."""
    data = summary.to_dict()
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>daycare-settle audit summary</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Audit summary</h1>",
        f"<p>Policy {_e(summary.policy)}"
        + ("" if summary.profile is None else f"; profile {_e(summary.profile)}")
        + f". {summary.episodes} episodes: {summary.settled} settled, {summary.rejected} "
        f"rejected, {summary.errors} errors.</p>",
        "<h2>Findings by code</h2>",
        "<table><tr><th>Code</th><th class=num>Count</th></tr>",
    ]
    for code, count in data["findings_by_code"].items():
        parts.append(f"<tr><td>{_e(code)}</td><td class=num>{count}</td></tr>")
    parts.append("</table>")
    if data["errors_by_code"]:
        parts.append("<h2>Errors</h2><table><tr><th>Code</th><th class=num>Lines</th></tr>")
        for code, count in data["errors_by_code"].items():
            parts.append(f"<tr><td>{_e(code)}</td><td class=num>{count}</td></tr>")
        parts.append("</table>")
    if summary.rates:
        parts.append(
            "<h2>Rates per institution</h2><table><tr><th>Institution</th>"
            "<th class=num>Settled</th><th class=num>Converted</th><th class=num>Rate</th>"
            "<th class=num>Extended</th><th class=num>Rate</th><th>Rule</th></tr>"
        )
        for finding in summary.rates:
            v = finding.values
            parts.append(
                f"<tr><td>{_e(v['institution'])}</td><td class=num>{_e(v['settled'])}</td>"
                f"<td class=num>{_e(v['converted'])}</td>"
                f"<td class=num>{_e(v['conversion_rate'])}</td>"
                f"<td class=num>{_e(v['extended'])}</td>"
                f"<td class=num>{_e(v['extension_rate'])}</td><td>{_source(finding)}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<h2>Worst cases</h2>")
    for code, found in summary.worst_cases().items():
        if code == FlagCode.INSTITUTION_RATES:
            continue
        parts.append(
            f"<h3>{_e(code)}</h3><table><tr><th>Episodes (lines)</th><th>Finding</th>"
            "<th>Clause</th></tr>"
        )
        for finding in found:
            episodes = ", ".join(
                f"{e} ({n})" for e, n in zip(finding.episode_ids, finding.lines, strict=True)
            )
            parts.append(
                f"<tr><td>{_e(episodes)}</td><td>{_e(finding.message)}</td>"
                f"<td>{_source(finding)}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


# --- the command -----------------------------------------------------------------------------


def add_command(commands: Any) -> None:
    """Add ``audit`` to the command line's subcommands."""
    audit = commands.add_parser(
        "audit", help="audit a JSON-lines file of episodes: findings across episodes"
    )
    audit.add_argument(
        "source", metavar="EPISODES.jsonl", help="episodes in admission order ('-': stdin)"
    )
    audit.add_argument("--policy", required=True, help="bundled policy id or a rule-file path")
    audit.add_argument("--out", default="-", help="findings, JSON lines ('-': stdout, default)")
    audit.add_argument("--html", metavar="SUMMARY.html", help="also write an HTML summary")
    audit.add_argument("--profile", help="an optional audit profile (shipped: background-strategy)")
    audit.add_argument(
        "--tolerance-hours",
        type=int,
        default=24,
        help="how far an admission may go back behind the newest (default 24)",
    )


def command(args: argparse.Namespace) -> int:
    """``daycare-settle audit``: 0 when every line was audited, 1 when some were error
    records; library errors (unknown policy or profile, unreadable file) raise."""
    if args.tolerance_hours < 0:
        raise DaycareSettleError(f"--tolerance-hours must be 0 or more, not {args.tolerance_hours}")
    # the input is opened first: an unreadable input never truncates an existing --out
    handle: IO[bytes] = sys.stdin.buffer if args.source == "-" else open_input(args.source)
    try:
        records = audit_many(
            handle, args.policy, args.profile, tolerance=dt.timedelta(hours=args.tolerance_hours)
        )
        summary = _write(records, args.out)
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()
    if summary is None:  # pragma: no cover - the stream always ends with its summary
        raise RuntimeError("the audit ended without its summary")
    if args.html is not None:
        page = render_html(summary)
        if args.html == "-":
            sys.stdout.write(page)
        else:
            try:
                Path(args.html).write_text(page, encoding="utf-8")
            except OSError as exc:
                raise DaycareSettleError(f"cannot write {args.html}: {exc.strerror}") from None
    print(
        f"daycare-settle audit: {summary.episodes} episodes, "
        f"{sum(summary.findings_by_code.values())} findings, {summary.errors} errors",
        file=sys.stderr,
    )
    return 1 if summary.errors else 0


def _write(records: Iterator[Record], out: str) -> AuditSummary | None:
    """Write the records as JSON lines to ``out`` (``-``: standard output); the summary."""
    sink: IO[str] = sys.stdout if out == "-" else open_output(out)
    summary: AuditSummary | None = None
    try:
        for record in records:
            sink.write(record.to_json())
            sink.write("\n")
            if isinstance(record, AuditSummary):
                summary = record
    finally:
        if sink is sys.stdout:
            sink.flush()
        else:
            sink.close()
    return summary
