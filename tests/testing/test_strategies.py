"""The kit's strategies: valid episodes parse, bad inputs fail where they say, an unknown
rule kind fails loudly, and the invariants catch a broken settlement."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, find, given, settings

from daycare_settle import InvalidEpisode, Settlement, load_policy, parse_episode, settle
from daycare_settle.models.common import local_date
from daycare_settle.models.settlement import Disposition
from daycare_settle.policy.schema import Rule
from daycare_settle.testing import (
    BadInput,
    UnsupportedRule,
    amounts,
    check_conservation,
    check_conversion_dominance,
    check_time_limit_boundaries,
    episodes,
    invalid_episodes,
    invariants,
)
from tests import builders


@given(amounts())
def test_amounts_have_at_most_two_decimals(text: str) -> None:
    exponent = Decimal(text).as_tuple().exponent
    assert isinstance(exponent, int)
    assert exponent >= -2


@given(episodes("panzhihua", "tcm_day_care", stay="any", conversion=None, eligible=False))
def test_drawn_episodes_are_valid_input(episode: dict[str, Any]) -> None:
    parsed = parse_episode(episode)
    assert parsed.admitted_at <= parsed.discharged_at


class _Invented(Rule):
    kind: str = "invented_rule"


def test_unknown_rule_kind_fails_loudly() -> None:
    policy = load_policy("panzhihua")
    surgery = policy.rules.programmes["day_surgery"]  # type: ignore[index]
    odd = surgery.model_copy(update={"eligibility": (_Invented(source="art4"),)})
    rules = policy.rules.model_copy(update={"programmes": {"day_surgery": odd}})
    broken = dataclasses.replace(policy, rules=rules)
    with pytest.raises(UnsupportedRule, match="invented_rule"):
        episodes(broken, "day_surgery")


def test_conservation_catches_a_lost_fen() -> None:
    episode = builders.episode()
    result = settle(episode, "panzhihua")
    line = result.lines[0]
    tampered = result.model_copy(
        update={"lines": (line.model_copy(update={"allowed_amount": line.amount + 1}),)}
    )
    with pytest.raises(AssertionError):
        check_conservation(tampered, episode)


EXAMPLES = Path(__file__).parents[2] / "examples"


@given(episodes("jining", "oncology_day_ward", stay="any"))
def test_jining_cycles_have_one_same_day_session_per_day(episode: dict[str, Any]) -> None:
    parsed = parse_episode(episode)
    days = [local_date(s.start) for s in parsed.sessions]
    assert days, "sessions_required: every eligible cycle has sessions"
    assert len(set(days)) == len(days)
    assert all(local_date(s.start) == local_date(s.end) for s in parsed.sessions)
    assert {s.kind.value for s in parsed.sessions} <= {"chemotherapy", "radiotherapy"}


@given(episodes("jining", "oncology_day_ward"))
def test_jining_quota_choice_only_for_listed_diseases(episode: dict[str, Any]) -> None:
    result = settle(episode, "jining")
    assert result.status == "settled", result.rejection_reasons
    if episode.get("agency_method_choice") == "quota_minus_fees":
        assert result.payment is not None
        assert result.payment.agency == "quota_minus_fees"


@given(episodes("tcm-pilot-2025", "tcm_day_care"))
def test_tcm_principal_diagnosis_maps_to_one_disease(episode: dict[str, Any]) -> None:
    parsed = parse_episode(episode)
    table = load_policy("tcm-pilot-2025").disease_tables["tcm_diseases"]
    assert table.lookup(parsed.diagnoses).row is not None


@pytest.mark.parametrize(
    ("policy", "programme"),
    [
        ("panzhihua", "day_chemo"),
        ("jining", "oncology_day_ward"),
        ("qingyuan", "day_surgery"),
        ("tcm-pilot-2025", "tcm_day_care"),
    ],
)
def test_invalid_episodes_fail_at_their_path(policy: str, programme: str) -> None:
    @given(invalid_episodes(policy, programme))
    def check(bad: BadInput) -> None:
        with pytest.raises(InvalidEpisode) as caught:
            settle(bad.data, policy)
        assert any(p.path.startswith(bad.path) for p in caught.value.problems), bad.defect

    check()


def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


def _broken_settle(change: Callable[[Settlement], Settlement]) -> Callable[..., Settlement]:
    def broken(episode: Any, policy: Any) -> Settlement:
        return change(settle(episode, policy))

    return broken


def test_cycle_boundary_catches_a_missing_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    def drop_cycle_flags(result: Settlement) -> Settlement:
        kept = tuple(f for f in result.flags if f.code != "CYCLE_LONGER_THAN_USUAL")
        return result.model_copy(update={"flags": kept})

    monkeypatch.setattr(invariants, "settle", _broken_settle(drop_cycle_flags))
    episode = _example("jining/chemo-lung-tier3-capped-fees.json")
    with pytest.raises(AssertionError, match="is not flagged"):
        check_time_limit_boundaries(load_policy("jining"), episode)


def test_conversion_dominance_catches_a_dropped_day_care_charge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def drop_drug(result: Settlement) -> Settlement:
        if result.conversion is None:  # the day-ward part settled on its own
            return result
        lines = tuple(
            line.model_copy(
                update={"disposition": Disposition.DISALLOWED, "reason": "BROKEN", "citation": None}
            )
            if line.charge_id == "K1-DRUG"
            else line
            for line in result.lines
        )
        return result.model_copy(update={"lines": lines})

    monkeypatch.setattr(invariants, "settle", _broken_settle(drop_drug))
    episode = _example("jining/converted-to-ordinary-inpatient.json")
    with pytest.raises(AssertionError, match="K1-DRUG"):
        check_conversion_dominance(load_policy("jining"), episode)


def test_booking_invariant_catches_an_outpatient_escape(monkeypatch: pytest.MonkeyPatch) -> None:
    real = invariants.settle

    def broken(episode: Any, policy: Any) -> Settlement:
        """An engine that lets an outpatient-booked charge out of the between-sessions rule."""
        result = real(episode, policy)
        booked = {c["id"]: c["setting"] for c in episode["charges"]}
        lines = tuple(
            line.model_copy(
                update={
                    "disposition": Disposition.NOT_MERGED,
                    "allowed_amount": Decimal("0.00"),
                    "reason": "OUTPATIENT_CHARGE_DURING_STAY",
                }
            )
            if booked[line.charge_id] == "outpatient"
            and line.reason == "BETWEEN_SESSIONS_NOT_ALLOWED"
            else line
            for line in result.lines
        )
        return result.model_copy(update={"lines": lines})

    monkeypatch.setattr(invariants, "settle", broken)
    episode = _example("jining/between-sessions-infusion-violation.json")
    with pytest.raises(AssertionError, match="BT-TRT: booked as outpatient"):
        invariants.check_booking_does_not_escape(load_policy("jining"), episode)


@settings(max_examples=40)
@given(episodes("panzhihua", "day_chemo"))
def test_pzh_3_2_eligible_chemo_draws_are_mainly_intravenous(episode: dict[str, Any]) -> None:
    routes = [s["route"] for s in episode["sessions"] if s["kind"] == "chemotherapy"]
    assert routes
    assert 2 * routes.count("intravenous") >= len(routes)
    result = settle(episode, "panzhihua")
    assert result.status == "settled", result.rejection_reasons


@settings(max_examples=40)
@given(episodes("panzhihua", "tcm_day_care"))
def test_pzh_4_3_eligible_tcm_draws_have_one_of_the_wards(episode: dict[str, Any]) -> None:
    wards = {"tcm_ward", "acupuncture_ward", "tcm_rehabilitation_ward"}
    assert wards & set(episode["institution"]["departments"])
    assert 2 * sum(s["kind"] == "tcm" for s in episode["sessions"]) >= len(episode["sessions"])
    assert settle(episode, "panzhihua").status == "settled"


def test_pzh_ineligible_draws_reach_the_new_rejections() -> None:
    # the kit draws route mixes below the share, other session kinds and unfiled diseases
    quick = settings(max_examples=300, phases=[Phase.generate], database=None)
    for programme, code in [
        ("day_chemo", "SESSIONS_NOT_MAINLY_ROUTE"),
        ("tcm_day_care", "SESSIONS_NOT_MAINLY_KIND"),
        ("day_surgery", "DISEASE_NOT_FILED"),
    ]:
        find(
            episodes(
                "panzhihua", programme, eligible=False, outpatient=False, post_discharge=False
            ),
            lambda e, code=code: code in {r.code for r in settle(e, "panzhihua").rejection_reasons},
            settings=quick,
        )
