"""Loading is bounded: aliases, values built through them, nesting, file size, and only
regular files are read — for rule files, frames, catalogues and disease tables alike. Both
parsers (libyaml's and PyYAML's own) give the same data and the same errors."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from daycare_settle import PolicyLoadError, load_policy
from daycare_settle.files import RULE_FILE_LIMIT
from daycare_settle.policy.registry import rules_root
from daycare_settle.policy.yaml_source import MAX_ALIAS_NODES, MAX_ALIASES, read_yaml

LOADERS = [yaml.SafeLoader, *([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])]
by_loader = pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.__name__)
PANZHIHUA = rules_root() / "panzhihua" / "panyibaogui-2024-2.yaml"


def laughs(levels: int, width: int) -> str:
    """The "billion laughs": each level an anchored list of ``width`` aliases of the last."""
    lines = ['l0: &l0 ["lol"]']
    for level in range(1, levels + 1):
        items = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} [{items}]")
    return "\n".join(lines) + "\n"


@by_loader
def test_billion_laughs_is_refused_before_it_expands(loader: Any) -> None:
    text = laughs(9, 9)  # 81 aliases, 9**9 values once expanded
    with pytest.raises(PolicyLoadError, match=f"more than {MAX_ALIAS_NODES} values"):
        read_yaml(text, "f.yaml", loader=loader)


@by_loader
def test_too_many_aliases_are_refused(loader: Any) -> None:
    text = "a: &a x\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(PolicyLoadError) as caught:
        read_yaml(text, "f.yaml", loader=loader)
    assert caught.value.line == 2
    assert f"more than {MAX_ALIASES} aliases" in caught.value.message


@by_loader
def test_a_few_aliases_load(loader: Any) -> None:
    text = "a: &a {k: 1}\nb: [" + ", ".join(["*a"] * MAX_ALIASES) + "]\n"
    assert read_yaml(text, "f.yaml", loader=loader).data["b"] == [{"k": 1}] * MAX_ALIASES


@by_loader
def test_a_recursive_alias_is_refused(loader: Any) -> None:
    with pytest.raises(PolicyLoadError, match="refers to a node that contains it"):
        read_yaml("a: &a [1, *a]\n", "f.yaml", loader=loader)


@pytest.mark.parametrize(
    ("loader", "depth"),
    [(loader, 201) for loader in LOADERS] + [(LOADERS[-1], 200_000)],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_deep_nesting_is_refused_without_crashing(loader: Any, depth: int) -> None:
    # libyaml's own composer recurses in C: 200 000 brackets crash the process
    with pytest.raises(PolicyLoadError, match="nested more than 200 deep"):
        read_yaml("[" * depth + "]" * depth, "f.yaml", loader=loader)


@by_loader
@pytest.mark.parametrize(
    "text",
    ["a: 1\n---\nb: 2\n", "a: [1, 2\n", "a: *nowhere\n", "a: 1\na: 2\n", "<<: {a: 1}\n"],
)
def test_both_parsers_refuse_alike(loader: Any, text: str) -> None:
    errors = []
    for each in LOADERS:
        with pytest.raises(PolicyLoadError) as caught:
            read_yaml(text, "f.yaml", loader=each)
        errors.append((caught.value.line, caught.value.message.split(":")[0]))
    with pytest.raises(PolicyLoadError):
        read_yaml(text, "f.yaml", loader=loader)
    assert len(set(errors)) == 1, errors


@pytest.mark.parametrize("path", sorted(str(p) for p in rules_root().rglob("*.yaml")))
def test_both_parsers_read_every_bundled_file_alike(path: str) -> None:
    text = Path(path).read_text(encoding="utf-8")
    documents = [read_yaml(text, path, loader=loader) for loader in LOADERS]
    assert all(d.data == documents[0].data for d in documents)
    assert all(d.lines == documents[0].lines for d in documents)
    assert documents[0].data == yaml.safe_load(text)  # strictness changes no bundled value


# --- only regular files, within a size ------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(rules_root(), tmp_path / "rules")
    return tmp_path / "rules"


def _fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


def _zero(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.symlink_to("/dev/zero")


def _directory(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.mkdir()


def _huge(path: Path) -> None:
    with path.open("ab") as handle:
        handle.truncate(64 * 1024 * 1024 + 1)


SPOILERS = {"fifo": _fifo, "dev-zero": _zero, "directory": _directory, "too large": _huge}
REASONS = {
    "fifo": "not a regular file (a FIFO)",
    "dev-zero": "not a regular file (a character device)",
    "directory": "not a regular file (a directory)",
    "too large": "larger than the limit",
}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("spoiler", sorted(SPOILERS))
@pytest.mark.parametrize(
    ("target", "owner"),
    [
        ("panzhihua/panyibaogui-2024-2.yaml", "panzhihua/panyibaogui-2024-2.yaml"),
        ("panzhihua/catalogues/day-chemo-diseases.yaml", "panzhihua/panyibaogui-2024-2.yaml"),
        ("national/tcm-pilot-2025.yaml", "tcm-pilot-2025/illustrative-region.yaml"),
        (
            "tcm-pilot-2025/catalogues/illustrative-diseases.yaml",
            "tcm-pilot-2025/illustrative-region.yaml",
        ),
    ],
    ids=["rule file", "catalogue", "frame", "disease table"],
)
def test_only_regular_files_within_the_limit_are_read(
    tree: Path, spoiler: str, target: str, owner: str
) -> None:
    SPOILERS[spoiler](tree / target)
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(tree / owner)
    assert REASONS[spoiler] in caught.value.message
    assert target.rsplit("/", 1)[-1] in str(caught.value)


def test_a_rule_file_over_its_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(PANZHIHUA.read_text("utf-8") + "#" * RULE_FILE_LIMIT, encoding="utf-8")
    with pytest.raises(PolicyLoadError, match="larger than the limit"):
        load_policy(path)
