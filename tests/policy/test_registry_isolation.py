"""One broken city breaks no other: the registry indexes rule files by their header and
compiles each on first use; there is no default city."""

from __future__ import annotations

import datetime as dt
import inspect
import shutil
from pathlib import Path

import pytest

from daycare_settle import PolicyLoadError, PolicyNotInForce, UnknownPolicy, settle
from daycare_settle.policy import policy_ids, resolve_policy, versions
from daycare_settle.policy.registry import rules_root
from daycare_settle.testing import episodes, invalid_episodes
from tests import builders

JINING = "jining/jiyibaozi-2021-44.yaml"
ON = dt.date(2025, 3, 10)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(rules_root(), tmp_path / "rules")
    return tmp_path / "rules"


def spoil(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_broken_rule_file_breaks_only_its_city(tree: Path) -> None:
    spoil(tree / JINING, "programmes:\n", "programmes:\n  no_such_programme: {}\n")
    assert policy_ids(tree) == policy_ids()  # the header still reads
    with pytest.raises(PolicyLoadError) as caught:
        resolve_policy("jining", root=tree)
    assert caught.value.file.endswith(JINING)
    panzhihua = resolve_policy("panzhihua", on=ON, root=tree)
    assert settle(builders.episode(), panzhihua).status == "settled"
    assert versions("qingyuan", tree)
    assert versions("tcm-pilot-2025", tree)


def test_a_broken_catalogue_breaks_only_its_city(tree: Path) -> None:
    spoil(tree / "jining/catalogues/malignant-tumours.yaml", "entries:", "entries: [")
    with pytest.raises(PolicyLoadError, match=r"malignant-tumours\.yaml"):
        versions("jining", tree)
    assert resolve_policy("panzhihua", on=ON, root=tree).id == "panzhihua"


def test_an_unreadable_header_is_named_when_its_id_is_asked_for(tree: Path) -> None:
    spoil(tree / JINING, "  effective_from: ", "  effective_from: [")
    assert "jining" not in policy_ids(tree)
    assert "panzhihua" in policy_ids(tree)
    assert resolve_policy("qingyuan", root=tree).id == "qingyuan"
    with pytest.raises(UnknownPolicy) as caught:
        resolve_policy("jining", root=tree)
    assert JINING.rsplit("/", maxsplit=1)[-1] in caught.value.message


def test_a_header_that_does_not_validate_fails_its_id_not_silently(tree: Path) -> None:
    # A second Panzhihua version whose header is broken (its id still reads) must fail
    # Panzhihua with that file's error, not leave the other version settling alone.
    text = (tree / "panzhihua/panyibaogui-2024-2.yaml").read_text(encoding="utf-8")
    broken = text.replace("  effective_from: 2024-11-12\n", "  effective_from: 2030-01-01\n")
    broken = broken.replace('  version: "2024.1"\n', "  version: [a, b]\n", 1)
    (tree / "panzhihua" / "later.yaml").write_text(broken, encoding="utf-8")
    assert "panzhihua" in policy_ids(tree)
    with pytest.raises(PolicyLoadError) as caught:
        resolve_policy("panzhihua", on=ON, root=tree)
    assert caught.value.file.endswith("later.yaml")
    assert resolve_policy("qingyuan", root=tree).id == "qingyuan"


def test_overlapping_versions_fail_only_their_id(tree: Path) -> None:
    text = (tree / JINING).read_text(encoding="utf-8")
    (tree / "jining" / "second.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PolicyLoadError, match="overlaps"):
        resolve_policy("jining", root=tree)
    assert resolve_policy("panzhihua", on=ON, root=tree).id == "panzhihua"


def test_a_changed_header_is_noticed(tree: Path) -> None:
    rule_file = tree / "panzhihua/panyibaogui-2024-2.yaml"
    assert resolve_policy("panzhihua", on=ON, root=tree).id == "panzhihua"
    spoil(rule_file, "effective_from: 2024-11-12", "effective_from: 2025-06-01")
    with pytest.raises(PolicyNotInForce, match=r"2025-06-01 \.\. open"):
        resolve_policy("panzhihua", on=ON, root=tree)
    assert resolve_policy("panzhihua", on=dt.date(2025, 7, 1), root=tree).id == "panzhihua"


def test_a_repeated_lookup_returns_the_compiled_policy() -> None:
    first = resolve_policy("panzhihua", on=ON)
    assert resolve_policy("panzhihua", on=ON) is first


def test_there_is_no_default_city() -> None:
    for function in (settle, episodes, invalid_episodes):
        parameter = inspect.signature(function).parameters["policy"]
        assert parameter.default is inspect.Parameter.empty, function.__name__
    with pytest.raises(TypeError):
        settle(builders.episode())  # type: ignore[call-arg]
