"""The same answer in every process: a policy's identity covers every file it reads, the
cache notices a change to any of them, and the result records each file and the library
version, in machine-independent form."""

from __future__ import annotations

import hashlib
import os
import shutil
import tomllib
from pathlib import Path

import pytest

from daycare_settle import __version__, load_policy, settle
from daycare_settle.policy.registry import rules_root
from tests import builders

ROOT = rules_root()
PZH = "panzhihua/panyibaogui-2024-2.yaml"
PROCEDURES = "panzhihua/catalogues/day-surgery-procedures.yaml"
CHOLECYSTECTOMY = '  - {code: "51.23", name: "腹腔镜下胆囊切除术 laparoscopic cholecystectomy"}\n'


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT, tmp_path / "rules")
    return tmp_path / "rules"


def rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    stat = path.stat()
    path.write_text(text.replace(old, new), encoding="utf-8")
    # the same modification time as before: only the size and change time tell
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_the_policy_block_lists_every_file_read() -> None:
    ref = load_policy("panzhihua").ref
    expected = {
        "panyibaogui-2024-2.yaml": digest(ROOT / PZH),
        "catalogues/day-chemo-diseases.yaml": digest(
            ROOT / "panzhihua/catalogues/day-chemo-diseases.yaml"
        ),
        "catalogues/day-surgery-procedures.yaml": digest(ROOT / PROCEDURES),
        "catalogues/tcm-day-care-diseases.yaml": digest(
            ROOT / "panzhihua/catalogues/tcm-day-care-diseases.yaml"
        ),
    }
    assert {f.path: f.sha256 for f in ref.files} == expected
    assert [f.path for f in ref.files] == sorted(expected)
    manifest = "".join(f"{h}  {p}\n" for p, h in sorted(expected.items()))
    assert ref.sha256 == hashlib.sha256(manifest.encode("utf-8")).hexdigest()


def test_the_policy_block_is_the_same_for_a_copy_elsewhere(tree: Path) -> None:
    for policy, rule_file in [
        ("panzhihua", PZH),
        ("tcm-pilot-2025", "tcm-pilot-2025/illustrative-region.yaml"),
    ]:
        bundled = load_policy(policy).ref
        copied = load_policy(tree / rule_file).ref
        assert copied == bundled
        assert str(tree) not in copied.model_dump_json()
        assert str(ROOT) not in bundled.model_dump_json()


def test_a_changed_catalogue_changes_the_policy_in_a_running_process(tree: Path) -> None:
    episode = builders.episode()
    before = settle(episode, tree / PZH)
    assert before.status == "settled"
    rewrite(tree / PROCEDURES, CHOLECYSTECTOMY, "")
    after = settle(episode, tree / PZH)
    assert after.status == "rejected"  # the procedure is no longer in the catalogue
    assert after.policy.sha256 != before.policy.sha256
    changed = {f.path for f in after.policy.files} - {f.path for f in before.policy.files}
    assert not changed
    files_before = {f.path: f.sha256 for f in before.policy.files}
    files_after = {f.path: f.sha256 for f in after.policy.files}
    assert [p for p in files_before if files_before[p] != files_after[p]] == [
        "catalogues/day-surgery-procedures.yaml"
    ]


def test_a_changed_frame_changes_the_policy(tree: Path) -> None:
    region = tree / "tcm-pilot-2025/illustrative-region.yaml"
    before = load_policy(region)
    rewrite(tree / "national/tcm-pilot-2025.yaml", "version: ", "version:  ")
    after = load_policy(region)
    assert after is not before
    assert after.sha256 != before.sha256
    assert after.frames[0].sha256 != before.frames[0].sha256
    assert load_policy(region) is after  # and cached again while nothing changes


def test_an_unchanged_policy_is_compiled_once(tree: Path) -> None:
    assert load_policy(tree / PZH) is load_policy(str(tree / PZH))


def test_the_result_records_the_library_version() -> None:
    result = settle(builders.episode(), "panzhihua")
    repository = Path(__file__).resolve().parents[2]
    pyproject = tomllib.loads((repository / "pyproject.toml").read_text(encoding="utf-8"))
    assert __version__ == pyproject["project"]["version"]
    assert result.library_version == __version__
    assert result.model_dump(mode="json")["library_version"] == __version__
