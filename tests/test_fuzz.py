"""Fuzz the two entry points that read outside input: ``settle(text)`` and
``load_policy(path)``. Whatever the input, the only exceptions allowed out are the
library's own :class:`DaycareSettleError` subclasses.

Bounded by the Hypothesis profile (``ci`` by default); run it harder with
``python3 -m pytest tests/test_fuzz.py --hypothesis-profile=thorough``.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daycare_settle import DaycareSettleError, load_policy, settle
from daycare_settle.policy.registry import rules_root
from daycare_settle.testing import episodes, malformed_json

PANZHIHUA = rules_root() / "panzhihua" / "panyibaogui-2024-2.yaml"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "",
            "-0",
            "1e309",
            "NaN",
            "01",
            "2025-03-10",
            "2025-03-10T08:00:00Z",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
        ]
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*path, index))
    return found


@st.composite
def mutated_episodes(draw: st.DrawFn) -> Any:
    """A valid episode with one to three of its values replaced, removed or duplicated."""
    data = copy.deepcopy(
        draw(
            episodes(
                "panzhihua",
                draw(st.sampled_from(["day_surgery", "day_chemo", "tcm_day_care"])),
                stay="any",
                conversion=None,
            )
        )
    )
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(data)))
        if not path:
            continue
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "remove", "duplicate"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "remove":
            del parent[path[-1]]
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
    return data


def _settles_or_refuses(data: Any) -> None:
    with contextlib.suppress(DaycareSettleError):
        settle(data)


@given(malformed_json())
def test_fuzz_settle_on_arbitrary_text(text: str | bytes) -> None:
    _settles_or_refuses(text)


@given(mutated_episodes())
def test_fuzz_settle_on_mutated_episodes(data: Any) -> None:
    _settles_or_refuses(data)
    _settles_or_refuses(json.dumps(data, default=str))


# --- the rule-file loader --------------------------------------------------------------------

LINES = PANZHIHUA.read_text(encoding="utf-8").splitlines(keepends=True)
NOISE = st.sampled_from(
    [
        "",
        " ",
        ":",
        "- ",
        "{",
        "}",
        "[",
        "&a ",
        "*a",
        "!!python/object:os.system ",
        "\t",
        "#",
        "kind: ",
        "source: ",
        "null",
        "1e400",
        "'",
        '"',
        "<<: *pzh_merge",
        "2024-13-45",
        "9" * 5000,
        "[" * 2000,
    ]
)


@st.composite
def mutated_rule_files(draw: st.DrawFn) -> str:
    """The Panzhihua rule file with one to four lines deleted, duplicated, swapped,
    truncated or spliced with noise."""
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate", "splice"]))
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        elif action == "truncate":
            line = lines[index]
            lines[index] = line[: draw(st.integers(0, len(line)))] + "\n"
        else:
            line = lines[index]
            at = draw(st.integers(0, len(line)))
            lines[index] = line[:at] + draw(NOISE | st.text(max_size=5)) + line[at:]
    return "".join(lines)


@pytest.fixture(scope="module")
def rule_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz-rules")
    shutil.copytree(PANZHIHUA.parent / "catalogues", folder / "catalogues")
    return folder


_names = itertools.count()


def test_fuzz_loader_on_mutated_rule_files(rule_folder: Path) -> None:
    @given(mutated_rule_files())
    def check(text: str) -> None:
        # A fresh name each time: the loader caches by path, size and modification time.
        path = rule_folder / f"rules-{next(_names)}.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_policy(path)
        except DaycareSettleError:
            pass
        finally:
            path.unlink()

    check()
