"""The background-strategy audit profile: off by default, on when asked, every finding labelled
with the profile, never a change to a settlement."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from daycare_settle import settle
from daycare_settle.audit import (
    UnknownProfile,
    audit_many,
    available_profiles,
    load_profile,
    profiles_root,
)
from daycare_settle.codes import FlagCode
from daycare_settle.errors import PolicyLoadError, UnknownPolicy
from tests.audit.helpers import findings, lines, stay, summary
from tests.builders import charge

PROFILE = "background-strategy"


def material_heavy(eid: str, day: float, material: str = "500.00") -> dict[str, object]:
    episode = stay(eid, day)
    base_at = episode["admitted_at"]
    assert isinstance(base_at, str)
    episode["charges"] = [
        charge(f"{eid}-s", base_at, category="surgery", amount="500.00"),
        charge(f"{eid}-m", base_at, category="medical_material", amount=material),
    ]
    return episode


def test_profile_loads_strictly_and_labels_every_rule() -> None:
    profile = load_profile(PROFILE)
    assert profile.id == PROFILE
    rules = (*profile.rules.audit, *profile.rules.audit_across)
    assert rules
    assert all(r.provenance == "background-strategy" for r in rules)
    assert all(profile.rules.strategies[r.source].quote for r in rules)


def test_unknown_profile_is_a_library_error() -> None:
    with pytest.raises(UnknownProfile, match="background-strategy"):
        audit_many([], "panzhihua", "no-such-profile")


def test_profile_rule_without_the_profile_provenance_is_refused(tmp_path: Path) -> None:
    shipped = load_profile(PROFILE).file
    text = Path(shipped).read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    changed = text.replace(
        "    provenance: background-strategy\n", "    provenance: local-parameter\n", 1
    )
    bad.write_text(changed, encoding="utf-8")
    with pytest.raises(PolicyLoadError, match="provenance 'background-strategy'"):
        load_profile(bad)


def test_consumables_over_40_percent_fires_only_with_the_profile() -> None:
    episodes = lines(material_heavy("A", 0, material="500.00"))
    assert not findings(list(audit_many(episodes, "panzhihua")), FlagCode.CONSUMABLES_SHARE_HIGH)
    records = list(audit_many(episodes, "panzhihua", PROFILE))
    (found,) = findings(records, FlagCode.CONSUMABLES_SHARE_HIGH)
    assert found.profile == PROFILE
    assert found.to_dict()["source"] == "profile"
    assert found.citation is not None
    assert "background essay" in found.citation.document
    assert found.charge_ids == ("A-m",)
    assert summary(records).findings_from_profile == 1


def test_consumables_at_or_below_40_percent_silent() -> None:
    # 300 of 800 = 37.5 %
    records = list(audit_many(lines(material_heavy("A", 0, "300.00")), "panzhihua", PROFILE))
    assert not findings(records, FlagCode.CONSUMABLES_SHARE_HIGH)


def test_readmission_within_30_days_after_day_surgery_any_institution_and_diagnosis() -> None:
    first = stay("A", 0)
    later = stay("B", 25, hospital="H-PZH-OTHER", diagnosis="J18.0")
    plain = list(audit_many(lines(first, later), "panzhihua"))
    assert not findings(plain, FlagCode.READMISSION_WITHIN_WINDOW)
    records = list(audit_many(lines(first, later), "panzhihua", PROFILE))
    (found,) = findings(records, FlagCode.READMISSION_WITHIN_WINDOW)
    assert found.profile == PROFILE
    assert found.episode_ids == ("A", "B")
    assert found.values["window_days"] == "30"


def test_readmission_profile_silent_after_31_days_or_after_no_day_surgery() -> None:
    too_late = list(audit_many(lines(stay("A", 0), stay("B", 32)), "panzhihua", PROFILE))
    assert not findings(too_late, FlagCode.READMISSION_WITHIN_WINDOW)
    chemo = stay("A", 0, programme="day_chemo")
    after_chemo = list(
        audit_many(lines(chemo, stay("B", 20, hospital="H-PZH-OTHER")), "panzhihua", PROFILE)
    )
    assert not findings(after_chemo, FlagCode.READMISSION_WITHIN_WINDOW)


def test_profile_never_changes_a_settlement() -> None:
    episode = material_heavy("A", 0)
    before = settle(episode, "panzhihua").to_json()
    list(audit_many(lines(episode), "panzhihua", PROFILE))
    assert settle(episode, "panzhihua").to_json() == before
    assert not any(
        f.code == FlagCode.CONSUMABLES_SHARE_HIGH for f in settle(episode, "panzhihua").flags
    )


def test_profile_is_shipped_with_the_package_and_is_not_a_policy() -> None:
    assert (profiles_root() / f"{PROFILE}.yaml").is_file()
    assert available_profiles() == (PROFILE,)
    with pytest.raises(UnknownPolicy):
        settle(stay("A", 0), PROFILE)


SEEDS = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds"


def test_strategies_quote_the_background_article_verbatim() -> None:
    seed = SEEDS / "day-surgery-fund-efficiency-strategy.txt"
    if not seed.is_file():
        pytest.skip(f"the original texts are not here: {SEEDS.resolve()}")
    text = re.sub(r"\s+", "", seed.read_text(encoding="utf-8"))
    for key, strategy in load_profile(PROFILE).rules.strategies.items():
        assert re.sub(r"\s+", "", strategy.quote) in text, key
