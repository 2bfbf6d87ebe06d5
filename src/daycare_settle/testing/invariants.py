"""Invariants every policy must keep, checked on any episode and any rule file.

Each ``check_*`` function takes an episode (a JSON-like dict, as :func:`~.episodes` draws
them) and a compiled policy, settles it and raises :class:`AssertionError` naming the
charge and the rule when the invariant fails. :func:`check_policy_invariants` runs them all
with Hypothesis over every programme of a rule file; :func:`check_round_trip` checks that
the rule file, dumped and loaded again, is the same policy.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import tempfile
from collections.abc import Iterable
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from ..engine import settle
from ..models.common import SHANGHAI, LocalDateTime, Programme, local_date
from ..models.settlement import Citation, Disposition, Line, Settlement, TimeLimitStatus
from ..policy.loader import Policy, load_policy_file
from ..policy.registry import resolve_policy
from ..policy.schema import (
    CatalogueFile,
    ConvertToOrdinaryInpatient,
    DailyFeeSchedule,
    DiseaseTableFile,
    MergeWindow,
    NoTimeLimit,
    ProgrammeRules,
    Rule,
    SessionsSameDay,
    StayHours,
)
from .strategies import HOSPITAL, OTHER_HOSPITAL, episodes

ZERO = Decimal("0.00")


def _decision(line: Line) -> tuple[Any, ...]:
    return (line.disposition, line.allowed_amount, line.reason, line.citation)


def check_conservation(result: Settlement, episode: dict[str, Any]) -> None:
    """Every charge has exactly one line, in input order, with its own amount; allowed is
    at most the amount (and zero unless included); the totals add up to the input."""
    charges = episode["charges"]
    ids = [line.charge_id for line in result.lines]
    assert ids == [c["id"] for c in charges], "lines must follow the input charges one to one"
    total = ZERO
    for charge, line in zip(charges, result.lines, strict=True):
        amount = Decimal(str(charge["amount"])).quantize(ZERO)
        total += amount
        assert line.amount == amount, f"{line.charge_id}: line amount {line.amount} != {amount}"
        assert ZERO <= line.allowed_amount <= line.amount, f"{line.charge_id}: allowed > amount"
        if line.disposition is not Disposition.INCLUDED:
            assert line.allowed_amount == ZERO, f"{line.charge_id}: excluded but allowed"
    totals = result.totals
    assert totals.input == total, f"totals.input {totals.input} != sum of charges {total}"
    assert totals.included + totals.not_merged + totals.disallowed == totals.input, (
        f"included {totals.included} + not merged {totals.not_merged} + disallowed "
        f"{totals.disallowed} != input {totals.input}"
    )
    assert totals.included == sum((line.allowed_amount for line in result.lines), ZERO)
    if result.status == "rejected":
        assert all(line.disposition is Disposition.DISALLOWED for line in result.lines)


def check_determinism(policy: Policy, episode: dict[str, Any], order: list[int]) -> None:
    """The same input gives byte-identical JSON (dict or JSON text) and is left as it was;
    reordering the charges (to ``order``) changes no charge's decision, and the lines
    follow the new order."""
    snapshot = copy.deepcopy(episode)
    first = settle(episode, policy)
    assert episode == snapshot, "settling changed the caller's episode"
    assert settle(copy.deepcopy(episode), policy).to_json() == first.to_json()
    assert settle(json.dumps(episode), policy).to_json() == first.to_json()
    shuffled = {**episode, "charges": [episode["charges"][i] for i in order]}
    again = settle(shuffled, policy)
    assert [line.charge_id for line in again.lines] == [c["id"] for c in shuffled["charges"]]
    before = {line.charge_id: _decision(line) for line in first.lines}
    for line in again.lines:
        assert _decision(line) == before[line.charge_id], (
            f"{line.charge_id}: decision changed when the charges were reordered"
        )
    assert again.totals == first.totals
    assert again.status == first.status


def extra_charges(episode: dict[str, Any]) -> list[dict[str, Any]]:
    """Charges that must not change anything else: an unrelated outpatient examination
    before admission at this hospital, and a related one at another hospital."""
    admitted = _moment(episode["admitted_at"])
    before = (admitted - dt.timedelta(hours=2)).isoformat()
    base = {"at": before, "setting": "outpatient", "category": "examination", "amount": "88.00"}
    return [
        {**base, "id": "kit-extra-unrelated", "related": False, "institution_id": HOSPITAL},
        {**base, "id": "kit-extra-elsewhere", "related": True, "institution_id": OTHER_HOSPITAL},
    ]


def check_monotone_merge(policy: Policy, episode: dict[str, Any], extra: dict[str, Any]) -> None:
    """Adding ``extra`` (an unrelated charge, or one at another hospital) changes nothing
    that was decided for the other charges, nor the status."""
    first = settle(episode, policy)
    grown = settle({**episode, "charges": [*episode["charges"], extra]}, policy)
    assert grown.status == first.status, f"adding {extra['id']} changed the status"
    for old, new in zip(first.lines, grown.lines, strict=False):
        assert _decision(old) == _decision(new), (
            f"{old.charge_id}: decision changed when {extra['id']} was added"
        )
    added = grown.lines[-1]
    if grown.status == "settled" and _merge_refuses(policy, episode, extra):
        assert added.disposition is not Disposition.INCLUDED, f"{extra['id']} was included"


def _merge_refuses(policy: Policy, episode: dict[str, Any], extra: dict[str, Any]) -> bool:
    """Whether the pre-admission window refuses ``extra`` for being unrelated or elsewhere."""
    rules = policy.programme(Programme(episode["programme"]))
    rule = None if rules is None else rules.merge.pre_admission
    if not isinstance(rule, MergeWindow):
        return True
    elsewhere = (
        extra.get("institution_id", episode["institution"]["id"]) != episode["institution"]["id"]
    )
    return (rule.requires_related and not extra["related"]) or (rule.same_institution and elsewhere)


def _moment(text: str) -> dt.datetime:
    """A time as the library reads it (naive text is Asia/Shanghai)."""
    return _MOMENT.validate_python(text)


_MOMENT: TypeAdapter[dt.datetime] = TypeAdapter(LocalDateTime)


def check_time_limit_boundaries(policy: Policy, episode: dict[str, Any]) -> None:
    """The outcome depends on the stay's length only through the policy's thresholds.

    For a stay-hours limit: exactly at the limit it is within, a microsecond more is
    extended (with a reason, up to the ceiling) or exceeded; lengths in the same band
    settle alike. Without a stay limit (``none``, ``sessions_same_day``): no length is
    judged or rejected, and a cycle is flagged exactly when it passes ``max_cycle`` days.
    Each length is tried by moving the discharge (never before the last day-care charge or
    session); converted episodes are skipped."""
    rules = policy.programme(Programme(episode["programme"]))
    if rules is None or "conversion" in episode:
        return
    if isinstance(rules.time_limit, StayHours):
        _stay_hours_boundaries(policy, episode, rules.time_limit)
    else:
        _no_limit_boundaries(policy, episode, rules.time_limit)


TICK = dt.timedelta(microseconds=1)


def _latest(episode: dict[str, Any]) -> dt.datetime:
    """The last day-care charge or session end (the earliest discharge keeping them in)."""
    return max(
        [_moment(episode["admitted_at"])]
        + [_moment(c["at"]) for c in episode["charges"] if c["setting"] == "day_care"]
        + [_moment(s["end"]) for s in episode.get("sessions", [])]
    )


def _discharged_at(policy: Policy, episode: dict[str, Any], moment: dt.datetime) -> Settlement:
    """The episode settled as if discharged at ``moment`` (without post-discharge care)."""
    moved = {**episode, "discharged_at": moment.isoformat()}
    moved.pop("clinical_pathway", None)
    moved["charges"] = [c for c in episode["charges"] if c["setting"] != "post_discharge"]
    return settle(moved, policy)


def _no_limit_boundaries(
    policy: Policy, episode: dict[str, Any], rule: NoTimeLimit | SessionsSameDay
) -> None:
    latest = _latest(episode)
    first_day = local_date(_moment(episode["admitted_at"]))
    ends = [latest, latest + dt.timedelta(days=3)]
    usual = rule.max_cycle.days if isinstance(rule, SessionsSameDay) and rule.max_cycle else None
    if usual is not None:
        next_day = first_day + dt.timedelta(days=usual)
        last = dt.datetime.combine(next_day, dt.time(), tzinfo=SHANGHAI) - TICK
        ends += [last, last + TICK]
    for end in (e for e in ends if e >= latest):
        result = _discharged_at(policy, episode, end)
        assert result.time_limit.status is TimeLimitStatus.NOT_APPLICABLE, (
            f"a stay to {end} is judged {result.time_limit.status.value} without a limit"
        )
        codes = [r.code for r in result.rejection_reasons]
        assert "TIME_LIMIT_EXCEEDED" not in codes, f"a stay to {end} is rejected: {codes}"
        if usual is not None:
            days = (local_date(end) - first_day).days + 1
            flagged = "CYCLE_LONGER_THAN_USUAL" in [f.code for f in result.flags]
            assert flagged == (days > usual), (
                f"a cycle of {days} calendar day(s) {'is' if flagged else 'is not'} flagged "
                f"(usual {usual})"
            )


def _stay_hours_boundaries(policy: Policy, episode: dict[str, Any], rule: StayHours) -> None:
    admitted = _moment(episode["admitted_at"])
    latest = _latest(episode)
    limit = dt.timedelta(hours=rule.limit_hours)
    ceiling = None
    if rule.extended_limit_hours is not None:
        ceiling = dt.timedelta(hours=rule.extended_limit_hours)
    reason = episode.get("extension_reason")
    floor = max(latest - admitted, TICK)
    points = {floor, limit, limit + TICK, limit + dt.timedelta(seconds=1)}
    if ceiling is not None:
        points |= {ceiling, ceiling + TICK}

    def band(span: dt.timedelta) -> TimeLimitStatus:
        if span <= limit:
            return TimeLimitStatus.WITHIN
        if ceiling is not None and reason is not None and span <= ceiling:
            return TimeLimitStatus.EXTENDED
        return TimeLimitStatus.EXCEEDED

    seen: dict[TimeLimitStatus, tuple[str, tuple[str, ...]]] = {}
    for span in sorted(p for p in points if p >= floor):
        result = _discharged_at(policy, episode, admitted + span)
        expected = band(span)
        assert result.time_limit.status is expected, (
            f"a stay of {span} is {result.time_limit.status.value}, expected "
            f"{expected.value} (limit {rule.limit_hours} h, ceiling {rule.extended_limit_hours})"
        )
        outcome = (result.status, tuple(r.code for r in result.rejection_reasons))
        if expected in seen:
            assert seen[expected] == outcome, f"two stays in band {expected.value} settle apart"
        seen[expected] = outcome
        exceeded = "TIME_LIMIT_EXCEEDED" in outcome[1]
        assert exceeded == (expected is TimeLimitStatus.EXCEEDED), (
            f"a stay of {span} ({expected.value}) gives rejections {outcome[1]}"
        )


def check_merge_sides(result: Settlement, episode: dict[str, Any]) -> None:
    """An outside-booked charge merges by its time, not its booking: an outpatient-booked
    charge dated before admission only as pre-admission, inside the stay (admission to
    discharge, both included) only as a cost of the stay, after discharge only as
    post-discharge; a ``post_discharge``-booked charge only at or after discharge."""
    admitted, discharged = _moment(episode["admitted_at"]), _moment(episode["discharged_at"])
    for charge, line in zip(episode["charges"], result.lines, strict=True):
        if line.disposition is not Disposition.INCLUDED:
            continue
        at = _moment(charge["at"])
        if charge["setting"] == "outpatient":
            if at < admitted:
                expected = "MERGED_PRE_ADMISSION"
            elif at > discharged:
                expected = "MERGED_POST_DISCHARGE"
            else:
                assert line.reason not in ("MERGED_PRE_ADMISSION", "MERGED_POST_DISCHARGE"), (
                    f"{line.charge_id}: outpatient charge in the stay merged as {line.reason}"
                )
                continue
            assert line.reason == expected, (
                f"{line.charge_id}: outpatient charge at {at} merged as {line.reason}"
            )
        elif charge["setting"] == "post_discharge":
            assert at >= discharged, (
                f"{line.charge_id}: post-discharge charge before discharge merged"
            )
            assert line.reason == "MERGED_POST_DISCHARGE", f"{line.charge_id}: {line.reason}"


def check_booking_does_not_escape(policy: Policy, episode: dict[str, Any]) -> None:
    """Booking a charge as an outpatient visit never takes it out of a day-ward charge
    rule: a day-care charge disallowed between sessions, rebooked ``outpatient`` at the same
    time, is still disallowed between sessions."""
    result = settle(episode, policy)
    caught = {
        line.charge_id
        for charge, line in zip(episode["charges"], result.lines, strict=True)
        if charge["setting"] == "day_care" and line.reason == "BETWEEN_SESSIONS_NOT_ALLOWED"
    }
    if not caught:
        return
    rebooked = {
        **episode,
        "charges": [
            {**c, "setting": "outpatient"} if c["id"] in caught else c for c in episode["charges"]
        ],
    }
    again = settle(rebooked, policy)
    for line in again.lines:
        if line.charge_id in caught:
            assert line.reason == "BETWEEN_SESSIONS_NOT_ALLOWED", (
                f"{line.charge_id}: booked as outpatient it escapes the between-sessions rule "
                f"({line.disposition.value}, {line.reason})"
            )


def check_conversion_dominance(policy: Policy, episode: dict[str, Any]) -> None:
    """Converting never excludes a day-care charge that day care would have settled.

    In a converted episode that settles, every day-care charge inside the stay is included,
    unless a day-ward charge rule (between sessions, daily fees) disallows it, citing that
    rule, or (``separate`` mode) it lies in the ward part, which settles separately; and
    every day-care charge the day-ward part includes when settled on its own (the charges
    and sessions before the conversion, discharged at it) is included after converting. In
    ``separate`` mode every charge of the ward part inside the stay (from the conversion
    instant), whatever its booking, is ``not_merged`` as a separate settlement, and the
    result says the conversion is separate. The conversion instant belongs to the ward, as
    in the engine."""
    rules = policy.programme(Programme(episode["programme"]))
    if rules is None or "conversion" not in episode:
        return
    result = settle(episode, policy)
    if result.status != "settled" or not isinstance(rules.conversion, ConvertToOrdinaryInpatient):
        return
    day_ward_rules = _day_ward_citations(policy, rules)
    admitted, discharged = _moment(episode["admitted_at"]), _moment(episode["discharged_at"])
    separate = rules.conversion.mode == "separate"
    moment = _moment(episode["conversion"]["at"])
    assert result.conversion is not None
    assert result.conversion.mode == rules.conversion.mode
    assert result.settled_as == ("day_care" if separate else "ordinary_inpatient")
    for charge, line in zip(episode["charges"], result.lines, strict=True):
        at = _moment(charge["at"])
        inside = admitted <= at <= discharged
        if separate and inside and at >= moment and charge["setting"] != "post_discharge":
            assert line.reason == "WARD_STAY_SETTLED_SEPARATELY", (
                f"{line.charge_id}: a charge of the separately settled ward part is "
                f"{line.disposition.value} ({line.reason})"
            )
            continue
        if charge["setting"] != "day_care" or not inside:
            continue
        assert line.disposition is Disposition.INCLUDED or line.citation in day_ward_rules, (
            f"{line.charge_id}: a day-care charge in the stay is {line.disposition.value} "
            f"({line.reason}) after the conversion"
        )
    moved = episode["conversion"]["at"]
    alone = {k: v for k, v in episode.items() if k not in ("conversion", "clinical_pathway")}
    alone["discharged_at"] = moved
    alone["charges"] = [
        c for c in episode["charges"] if c["setting"] == "day_care" and _before(c["at"], moved)
    ]
    alone["sessions"] = [s for s in episode.get("sessions", []) if _before(s["start"], moved)]
    if not alone["charges"]:
        return
    day_ward = settle(alone, policy)
    if day_ward.status != "settled":
        return
    converted = {line.charge_id: line for line in result.lines}
    for line in day_ward.lines:
        if line.disposition is Disposition.INCLUDED:
            assert converted[line.charge_id].disposition is Disposition.INCLUDED, (
                f"{line.charge_id}: included by day care alone, "
                f"{converted[line.charge_id].disposition.value} after the conversion"
            )


def _before(text: str, moment: str) -> bool:
    return _moment(text) < _moment(moment)


def _day_ward_citations(policy: Policy, rules: ProgrammeRules) -> list[Citation]:
    """The clauses a day-ward charge rule cites when it disallows a charge (an uncited
    disallowance is never excused)."""
    found: list[Rule | None] = [rules.between_sessions, rules.fee_schedule]
    if isinstance(rules.fee_schedule, DailyFeeSchedule):
        found.extend(rules.fee_schedule.days)
    cited = (policy.citation(rule.source) for rule in found if rule is not None)
    return [citation for citation in cited if citation is not None]


def _dump(data: Any, path: Path) -> None:
    text = yaml.safe_dump(_yaml_ready(data), allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")


def _yaml_ready(value: Any) -> Any:
    """A python-mode model dump as YAML a rule file holds: dates stay dates (written
    plainly), amounts become text (written quoted), enums their values."""
    if isinstance(value, dict):
        return {_yaml_ready(k): _yaml_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_yaml_ready(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def check_round_trip(policy: str | Path | Policy) -> None:
    """The rule file, dumped from its compiled form and loaded again, is the same policy
    (same rules, same catalogue headers and entries, same disease tables). A region
    composed onto a frame is dumped composed, as one file."""
    compiled = resolve_policy(policy)
    with tempfile.TemporaryDirectory(prefix="daycare-kit-") as folder:
        root = Path(folder)
        data = compiled.rules.model_dump()
        for key, catalogue in compiled.catalogues.items():
            name = f"catalogue-{key}.yaml"
            content = CatalogueFile(catalogue=catalogue.header, entries=catalogue.entries)
            _dump(content.model_dump(), root / name)
            data["catalogues"][key]["file"] = name
        for key, table in compiled.disease_tables.items():
            name = f"disease-table-{key}.yaml"
            rows = DiseaseTableFile(disease_table=table.header, diseases=table.rows)
            _dump(rows.model_dump(), root / name)
            data["catalogues"][key]["file"] = name
        _dump(data, root / "rules.yaml")
        again = load_policy_file(root / "rules.yaml")
    keep: dict[str, Any] = {"catalogues": {}}
    assert again.rules.model_copy(update=keep) == compiled.rules.model_copy(update=keep), (
        "the dumped rule file loads as a different policy"
    )
    assert sorted(again.catalogues) == sorted(compiled.catalogues)
    assert sorted(again.disease_tables) == sorted(compiled.disease_tables)
    for key, table in compiled.disease_tables.items():
        assert again.disease_tables[key].header == table.header
        assert again.disease_tables[key].rows == table.rows
    for key, catalogue in compiled.catalogues.items():
        assert again.catalogues[key].header == catalogue.header
        assert again.catalogues[key].entries == catalogue.entries
        assert again.rules.catalogues[key].source == compiled.rules.catalogues[key].source


def check_episode(policy: Policy, episode: dict[str, Any], order: list[int]) -> Settlement:
    """Every per-episode invariant on one episode; returns its settlement."""
    result = settle(episode, policy)
    check_conservation(result, episode)
    check_merge_sides(result, episode)
    check_booking_does_not_escape(policy, episode)
    check_determinism(policy, episode, order)
    for extra in extra_charges(episode):
        check_monotone_merge(policy, episode, extra)
    check_time_limit_boundaries(policy, episode)
    check_conversion_dominance(policy, episode)
    return result


def check_policy_invariants(
    policy: str | Path | Policy,
    *,
    programmes: Iterable[str | Programme] | None = None,
    max_examples: int | None = None,
) -> None:
    """Check every invariant of this module on a rule file (or bundled id): the load
    round-trip once, then per programme episodes drawn by :func:`~.episodes` (stays
    around the limits, outside charges, conversions; eligible or not).

    Runs under the active Hypothesis settings profile; ``max_examples`` overrides it.
    Raises :class:`AssertionError` (with Hypothesis's falsifying example) on a violation.
    """
    compiled = resolve_policy(policy)
    check_round_trip(compiled)
    chosen = [Programme(p) for p in (programmes or compiled.rules.programmes)]
    for programme in chosen:
        drawn = st.one_of(
            episodes(compiled, programme),
            episodes(compiled, programme, stay="any", conversion=None),
            episodes(compiled, programme, stay="any", conversion=None, eligible=False),
        )
        _run(compiled, drawn, max_examples)


def _run(
    policy: Policy, drawn: st.SearchStrategy[dict[str, Any]], max_examples: int | None
) -> None:
    overrides: dict[str, Any] = {"deadline": None}
    if max_examples is not None:
        overrides["max_examples"] = max_examples

    @settings(**overrides)
    @given(data=st.data())
    def holds(data: st.DataObject) -> None:
        episode = data.draw(drawn, label="episode")
        order = data.draw(st.permutations(range(len(episode["charges"]))), label="order")
        check_episode(policy, episode, list(order))

    holds()
