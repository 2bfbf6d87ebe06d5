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
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from daycare_settle import DaycareSettleError, InvalidEpisode, load_policy, parse_episode, settle
from daycare_settle.policy.registry import policy_ids, rules_root
from daycare_settle.policy.yaml_source import resolve_plain
from daycare_settle.testing import episodes, malformed_json
from tests.builders import at, charge, episode

POLICIES = {p: [x.value for x in load_policy(p).rules.programmes] for p in policy_ids()}
"""Every bundled policy and the programmes it covers."""

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
def mutated_episodes(draw: st.DrawFn) -> tuple[str, Any]:
    """A valid episode of any bundled policy with one to three of its values replaced,
    removed or duplicated, with the policy to settle it under."""
    policy = draw(st.sampled_from(sorted(POLICIES)))
    programme = draw(st.sampled_from(POLICIES[policy]))
    eligible = draw(st.booleans())
    valid = episodes(policy, programme, stay="any", conversion=None, eligible=eligible)
    data = copy.deepcopy(draw(valid))
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
    return policy, data


def _settles_or_refuses(data: Any, policy: str = "panzhihua") -> None:
    with contextlib.suppress(DaycareSettleError):
        settle(data, policy)


@given(malformed_json())
def test_fuzz_settle_on_arbitrary_text(text: str | bytes) -> None:
    _settles_or_refuses(text)


@given(mutated_episodes())
def test_fuzz_settle_on_mutated_episodes(mutated: tuple[str, Any]) -> None:
    policy, data = mutated
    _settles_or_refuses(data, policy)
    _settles_or_refuses(json.dumps(data, default=str), policy)


# --- the rule-file loader --------------------------------------------------------------------

ROOT = rules_root()
# Every bundled file, and the rule file whose loading reads it.
OWNERS = {
    "panzhihua/panyibaogui-2024-2.yaml": "panzhihua/panyibaogui-2024-2.yaml",
    "panzhihua/catalogues/day-surgery-procedures.yaml": "panzhihua/panyibaogui-2024-2.yaml",
    "panzhihua/catalogues/day-chemo-diseases.yaml": "panzhihua/panyibaogui-2024-2.yaml",
    "panzhihua/catalogues/tcm-day-care-diseases.yaml": "panzhihua/panyibaogui-2024-2.yaml",
    "jining/jiyibaozi-2021-44.yaml": "jining/jiyibaozi-2021-44.yaml",
    "jining/catalogues/malignant-tumours.yaml": "jining/jiyibaozi-2021-44.yaml",
    "qingyuan/qingyibaodai-2020-49.yaml": "qingyuan/qingyibaodai-2020-49.yaml",
    "qingyuan/catalogues/day-surgery-diseases.yaml": "qingyuan/qingyibaodai-2020-49.yaml",
    "national/tcm-pilot-2025.yaml": "tcm-pilot-2025/illustrative-region.yaml",
    "tcm-pilot-2025/illustrative-region.yaml": "tcm-pilot-2025/illustrative-region.yaml",
    "tcm-pilot-2025/catalogues/illustrative-diseases.yaml": (
        "tcm-pilot-2025/illustrative-region.yaml"
    ),
}
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
        "extends: ",
        "null",
        "1e400",
        "'",
        '"',
        "<<: *pzh_merge",
        "2024-13-45",
        "9" * 5000,
        "[" * 2000,
        # what YAML 1.1 reads as another value: refused, never loaded silently
        "yes ",
        "24:00 ",
        "0x18 ",
        "010 ",
        "1_000 ",
        "1.5 ",
        ".inf ",
        "2024-1-5 ",
        "2024-11-12T08:00:00 ",
        "&b [*b] ",
        "!!int ",
        "!!float ",
    ]
)


@st.composite
def mutated_lines(draw: st.DrawFn, text: str) -> str:
    """``text`` with one to four lines deleted, duplicated, swapped, truncated or spliced
    with noise."""
    lines = text.splitlines(keepends=True)
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
        if not lines:
            break
    return "".join(lines)


@st.composite
def mutated_rule_trees(draw: st.DrawFn) -> tuple[str, str, str]:
    """(file mutated, its new text, rule file to load): one bundled rule file, frame,
    catalogue or disease table with a few lines broken."""
    target = draw(st.sampled_from(sorted(OWNERS)))
    text = (ROOT / target).read_text(encoding="utf-8")
    return target, draw(mutated_lines(text)), OWNERS[target]


def test_every_bundled_file_is_fuzzed() -> None:
    bundled = {str(p.relative_to(ROOT)) for p in ROOT.rglob("*.yaml")}
    missing = bundled - set(OWNERS)
    assert not missing, f"add these rule files to OWNERS: {sorted(missing)}"


_names = itertools.count()


def test_fuzz_loader_on_mutated_rule_files(tmp_path: Path) -> None:
    @given(mutated_rule_trees())
    def check(mutation: tuple[str, str, str]) -> None:
        target, text, owner = mutation
        # A fresh tree each time (the loader's cache also notices a change by its stamps).
        tree = tmp_path / f"rules-{next(_names)}"
        shutil.copytree(ROOT, tree)
        (tree / target).write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_policy(tree / owner)
        except DaycareSettleError:
            pass
        finally:
            shutil.rmtree(tree)

    check()


# --- strict plain scalars ------------------------------------------------------------------

SCALAR_TEXT = st.text("0123456789+-.:_eExXoObB~nulltrufasyeonTFNIi ", min_size=1, max_size=12).map(
    str.strip
)


@given(SCALAR_TEXT)
def test_fuzz_plain_scalars_agree_with_yaml_1_1_or_are_refused(text: str) -> None:
    """A plain scalar the strict resolver accepts means what YAML 1.1 says it means (so no
    file changes meaning between parsers); every other reading is refused."""
    try:
        value = resolve_plain(text)
    except ValueError:
        return
    try:
        loaded = yaml.safe_load(f"a: {text}\n")
    except yaml.YAMLError:
        return  # not a plain scalar in this position at all
    if not isinstance(loaded, dict) or set(loaded) != {"a"}:
        return
    assert loaded["a"] == value
    assert type(loaded["a"]) is type(value)


# --- identifiers -----------------------------------------------------------------------------

INVISIBLE = st.characters(categories=["Cc", "Cf", "Cs", "Zl", "Zp"]) | st.characters(
    categories=["Zs"], exclude_characters=" "
)
"""Control, format (bidi, zero-width), surrogate, line-break and non-ASCII space characters."""
VISIBLE_TEXT = st.text(st.characters(categories=["L", "M", "N", "P", "S"]), min_size=1, max_size=8)
ID_FIELDS = {
    "episode_id": lambda e, v: e.update(episode_id=v),
    "patient.id": lambda e, v: e.update(patient={"id": v}),
    "institution.id": lambda e, v: e["institution"].update(id=v),
    "charges[0].id": lambda e, v: e["charges"][0].update(id=v),
    "conversion.ward": lambda e, v: e.update(conversion={"at": at(2), "ward": v}),
}


@given(
    st.sampled_from(sorted(ID_FIELDS)),
    VISIBLE_TEXT,
    st.lists(INVISIBLE, min_size=1, max_size=3),
    st.randoms(use_true_random=False),
)
def test_fuzz_identifiers_with_invisible_characters_are_refused(
    field: str, text: str, hidden: list[str], random: Any
) -> None:
    value = list(text)
    for char in hidden:
        value.insert(random.randint(0, len(value)), char)
    data = episode()
    ID_FIELDS[field](data, "".join(value))
    with pytest.raises(InvalidEpisode) as caught:
        settle(data, "panzhihua")
    assert [p.path for p in caught.value.problems] == [field]


@given(VISIBLE_TEXT, VISIBLE_TEXT | VISIBLE_TEXT.map(lambda t: unicodedata.normalize("NFKC", t)))
def test_fuzz_charge_ids_that_normalise_alike_never_coexist(first: str, second: str) -> None:
    """Two charge ids are accepted together only when they differ after NFKC and each is a
    valid identifier on its own."""
    data = episode(charges=[charge(first, at(1)), charge(second, at(2))])

    def valid(value: str) -> bool:
        return value.isprintable() and value.strip(" ") == value and len(value) <= 200

    same = unicodedata.normalize("NFKC", first) == unicodedata.normalize("NFKC", second)
    if valid(first) and valid(second) and not same:
        assert [c.id for c in parse_episode(data).charges] == [first, second]
        return
    with pytest.raises(InvalidEpisode) as caught:
        parse_episode(data)
    paths = {p.path for p in caught.value.problems}
    assert paths <= {"charges[0].id", "charges[1].id"}
    assert paths
