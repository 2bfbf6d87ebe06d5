"""Rule files that must not load: each is a :class:`PolicyLoadError` naming file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from daycare_settle import PolicyLoadError, load_policy
from daycare_settle.policy import policy_ids, versions
from daycare_settle.policy.registry import rules_root

PANZHIHUA = rules_root() / "panzhihua" / "panyibaogui-2024-2.yaml"
TEXT = PANZHIHUA.read_text(encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(PANZHIHUA.parent / "catalogues", tmp_path / "catalogues")
    return tmp_path


def edited(old: str, new: str) -> str:
    assert TEXT.count(old) == 1, old
    return TEXT.replace(old, new)


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def refused(folder: Path, text: str, name: str = "rules.yaml") -> PolicyLoadError:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(path)
    error = caught.value
    assert error.code == "policy_load_error"
    assert error.file == str(path.resolve())
    where = error.file if error.line is None else f"{error.file}:{error.line}"
    assert str(error).startswith(f"[policy_load_error] {where}: ")
    return error


def test_the_bundled_file_loads(folder: Path) -> None:
    (folder / "rules.yaml").write_text(TEXT, encoding="utf-8")
    assert load_policy(folder / "rules.yaml").id == "panzhihua"


@pytest.mark.parametrize(
    "tag",
    ["!!python/object:os.system", "!!python/object/apply:os.system", "!!python/name:os.system"],
)
def test_python_tags_are_refused(folder: Path, tag: str) -> None:
    text = edited('version: "2024.1"', f'version: {tag} "2024.1"')
    error = refused(folder, text)
    assert error.line == line_of(text, "version:")
    assert "not allowed (safe YAML only)" in error.message


def test_other_non_standard_tags_are_refused(folder: Path) -> None:
    text = edited('version: "2024.1"', "version: !!binary MjAyNA==")
    assert refused(folder, text).line == line_of(text, "version:")


def test_unknown_key(folder: Path) -> None:
    text = edited(
        "      - {kind: min_tier, min_tier: 3, source: art4_2}",
        "      - {kind: min_tier, min_tier: 3, source: art4_2, tier_bonus: 1}",
    )
    error = refused(folder, text)
    assert error.line == line_of(text, "tier_bonus")
    assert "tier_bonus: unknown key" in error.message


def test_duplicate_key(folder: Path) -> None:
    text = edited("  region: 四川省攀枝花市\n", "  region: 四川省攀枝花市\n  region: 攀枝花\n")
    error = refused(folder, text)
    assert error.line == line_of(text, "  region: 攀枝花\n")
    assert f"duplicate key 'region' (first given on line {error.line - 1})" in error.message


@pytest.mark.parametrize(
    ("old", "new", "needle", "reason"),
    [
        (
            "limit_hours: 24, extended_limit_hours: 48, source: art3}\n    merge: &",
            "limit_hours: soon, extended_limit_hours: 48, source: art3}\n    merge: &",
            "limit_hours: soon",
            "integer",
        ),
        ("effective_from: 2024-11-12", "effective_from: [2024]", "effective_from", "date"),
        (
            "same_institution: true\n        requires_related: true\n        categories: [exam",
            "same_institution: 3\n        requires_related: true\n        categories: [exam",
            "same_institution: 3",
            "boolean",
        ),
    ],
    ids=["int", "date", "bool"],
)
def test_wrong_types(folder: Path, old: str, new: str, needle: str, reason: str) -> None:
    text = edited(old, new)
    error = refused(folder, text)
    assert error.line == line_of(text, needle)
    assert reason in error.message


def test_source_naming_no_clause(folder: Path) -> None:
    text = edited(
        "agency: {kind: value_based, source: art7_2}", "agency: {kind: value_based, source: art99}"
    )
    error = refused(folder, text)
    assert error.line == line_of(text, "source: art99")
    assert "source 'art99' names no clause" in error.message


def test_deeply_nested_yaml(folder: Path) -> None:
    error = refused(folder, "[" * 5000)
    assert "nested more than 200 deep" in error.message


def test_overlapping_versions_of_one_id(folder: Path) -> None:
    root = folder / "registry"
    (root / "city").mkdir(parents=True)
    shutil.copytree(folder / "catalogues", root / "city" / "catalogues")
    (root / "city" / "a-2024.yaml").write_text(TEXT, encoding="utf-8")
    later = edited("effective_from: 2024-11-12", "effective_from: 2025-06-01")
    (root / "city" / "b-2025.yaml").write_text(later, encoding="utf-8")
    assert policy_ids(root) == ["panzhihua"]  # the index reads headers only
    with pytest.raises(PolicyLoadError) as caught:
        versions("panzhihua", root)
    error = caught.value
    assert error.file.endswith("b-2025.yaml")
    assert error.line == line_of(later, "effective_from")
    assert "overlaps 2024-11-12 .. open" in error.message


def test_consecutive_versions_load(folder: Path) -> None:
    root = folder / "registry"
    (root / "city").mkdir(parents=True)
    shutil.copytree(folder / "catalogues", root / "city" / "catalogues")
    earlier = edited(
        "effective_from: 2024-11-12",
        "effective_from: 2024-11-12\n  effective_until: 2025-05-31\n  source: art13",
    )
    (root / "city" / "a-2024.yaml").write_text(earlier, encoding="utf-8")
    later = edited("effective_from: 2024-11-12", "effective_from: 2025-06-01")
    (root / "city" / "b-2025.yaml").write_text(later, encoding="utf-8")
    assert [v.rules.policy.effective_from.isoformat() for v in versions("panzhihua", root)] == [
        "2024-11-12",
        "2025-06-01",
    ]


def test_merge_without_during_stay_is_a_load_error(folder: Path) -> None:
    """A missing ``during_stay`` rule is a visible error, never the silent "not merged"."""
    start = TEXT.index("      during_stay:\n")
    end = TEXT.index("    conversion: &pzh_conversion")
    text = TEXT[:start] + TEXT[end:]
    error = refused(folder, text)
    assert "during_stay" in error.message
    assert "required" in error.message
    assert error.line == line_of(text, "    merge: &pzh_merge")


JINING = rules_root() / "jining" / "jiyibaozi-2021-44.yaml"


def test_effective_until_without_source_is_a_load_error(tmp_path: Path) -> None:
    """The SESSIONS_AFTER_POLICY_END flag cites the header's ``source``: a policy with a
    last day and no clause stating it must not load (the flag would have no citation)."""
    shutil.copytree(JINING.parent / "catalogues", tmp_path / "catalogues")
    original = JINING.read_text(encoding="utf-8")
    header, clauses, rest = original.partition("\nclauses:")  # the header's source only
    lines = [ln for ln in header.splitlines(keepends=True) if not ln.startswith("  source: ")]
    assert len(lines) == len(header.splitlines(keepends=True)) - 1
    text = "".join(lines) + clauses + rest
    error = refused(tmp_path, text)
    assert "effective_until needs 'source'" in error.message
    assert error.line == line_of(text, "policy:")


@pytest.mark.parametrize("damaged", ["rules.yaml", "catalogues/day-surgery-procedures.yaml"])
def test_a_file_that_is_not_utf8_is_refused_naming_it(folder: Path, damaged: str) -> None:
    (folder / "rules.yaml").write_text(TEXT, encoding="utf-8")
    path = folder / damaged
    path.write_bytes(path.read_bytes().replace("攀".encode(), b"\xff", 1) + b"\n# \xff\n")
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(folder / "rules.yaml")
    assert caught.value.file == str(path.resolve())
    assert caught.value.line is None
    assert "not UTF-8 text (invalid start byte)" in caught.value.message
