"""The rule file's ``platform:`` section (``policy/schema.py`` ``PlatformCodes``): a code
names a programme the file has, codes are text, and the section is a cited rule."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from daycare_settle import PolicyLoadError, load_policy
from daycare_settle.policy import policy_ids, resolve_policy
from daycare_settle.policy.readings import readings
from daycare_settle.policy.registry import rules_root

JINING = rules_root() / "jining" / "jiyibaozi-2021-44.yaml"


def _load(tmp_path: Path, old: str, new: str) -> PolicyLoadError:
    shutil.copytree(JINING.parent / "catalogues", tmp_path / "catalogues")
    text = JINING.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "rules.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(path)
    return caught.value


def test_a_code_for_a_programme_the_file_lacks_is_a_load_error(tmp_path: Path) -> None:
    error = _load(tmp_path, '"2803": oncology_day_ward', '"28": day_surgery')
    assert "day_surgery" in error.message
    assert "no programme" in error.message


def test_an_unquoted_code_is_a_load_error(tmp_path: Path) -> None:
    error = _load(tmp_path, '"2803": oncology_day_ward', "2803: oncology_day_ward")
    assert "platform" in error.message


def test_the_section_cites_a_clause(tmp_path: Path) -> None:
    error = _load(tmp_path, "platform:\n  source: jn_2\n", "platform:\n")
    assert "source" in error.message


@pytest.mark.parametrize("policy_id", policy_ids())
def test_each_bundled_policy_labels_its_codes_as_a_reading(policy_id: str) -> None:
    policy = resolve_policy(policy_id)
    assert policy.rules.platform is not None
    assert policy.rules.platform.provenance == "illustrative"
    assert any(entry.path == "platform" for entry in readings(policy))
