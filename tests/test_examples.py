"""Every bundled example settles to exactly its expected result, byte for byte.

``examples/<policy-id>/<name>.json`` is settled under the policy its folder names and
compared with ``<name>.expected.json`` beside it: the canonical JSON (``to_json()`` and a
final newline, what ``daycare-settle settle`` prints). A dropped citation, a changed trace
step or a moved fen fails here with a diff. After a deliberate change, regenerate with
``daycare-settle examples examples --update`` and review the diff.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from daycare_settle import settle
from tests.builders import EXAMPLES, EXPECTED_SUFFIX, example_episodes

EPISODES = example_episodes()


def expected_of(episode: Path) -> Path:
    return episode.with_name(episode.name.removesuffix(".json") + EXPECTED_SUFFIX)


def test_every_policy_folder_has_examples() -> None:
    assert {path.parent.name for path in EPISODES} >= {
        "jining",
        "panzhihua",
        "qingyuan",
        "tcm-pilot-2025",
    }


@pytest.mark.parametrize("episode", EPISODES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_example_settles_to_its_expected_result(episode: Path) -> None:
    expected = expected_of(episode)
    assert expected.is_file(), (
        f"{expected.relative_to(EXAMPLES.parent)} is missing: "
        "run `daycare-settle examples examples --update`"
    )
    result = settle(episode.read_text(encoding="utf-8"), policy=episode.parent.name)
    actual = result.to_json() + "\n"
    wanted = expected.read_text(encoding="utf-8")
    if actual != wanted:
        diff = difflib.unified_diff(
            wanted.splitlines(),
            actual.splitlines(),
            fromfile=str(expected.relative_to(EXAMPLES.parent)),
            tofile="settled now",
            n=2,
            lineterm="",
        )
        pytest.fail("the result differs from its expected file:\n" + "\n".join(diff), False)


def test_no_expected_result_without_its_episode() -> None:
    orphans = [
        path.relative_to(EXAMPLES)
        for path in EXAMPLES.glob(f"*/*{EXPECTED_SUFFIX}")
        if not path.with_name(path.name.removesuffix(EXPECTED_SUFFIX) + ".json").exists()
    ]
    assert orphans == []
