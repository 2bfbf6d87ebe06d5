"""The registry: ids to rule files, the version in force by date, rule files by path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from daycare_settle import PolicyNotInForce, UnknownPolicy, load_policy, policy_ids
from daycare_settle.policy import rules_root

PZH = rules_root() / "panzhihua" / "panyibaogui-2024-2.yaml"


def test_bundled_rules_are_found() -> None:
    assert "panzhihua" in policy_ids()
    assert PZH.is_file()


def test_version_in_force_by_date() -> None:
    policy = load_policy("panzhihua", on=dt.date(2025, 1, 1))
    assert policy.rules.policy.effective_from == dt.date(2024, 11, 12)
    with pytest.raises(PolicyNotInForce) as error:
        load_policy("panzhihua", on=dt.date(2024, 11, 11))
    assert error.value.code == "policy_not_in_force"
    assert "2024-11-12 .. open" in str(error.value)


def test_unknown_policy_names_the_known_ones() -> None:
    with pytest.raises(UnknownPolicy, match="panzhihua") as error:
        load_policy("atlantis")
    assert error.value.code == "unknown_policy"


def test_rule_file_by_path_is_the_same_policy() -> None:
    by_path = load_policy(str(PZH))
    assert by_path.sha256 == load_policy("panzhihua").sha256
    assert load_policy(Path(PZH)) is by_path  # compiled once, cached


def test_catalogues_are_compiled_with_their_status() -> None:
    policy = load_policy("panzhihua")
    assert {c.header.status for c in policy.catalogues.values()} == {"starter"}
