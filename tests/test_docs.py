"""What the docs say twice is checked against the code, as python-holidays checks its README
against its registry: the README's list of bundled policies, ``docs/reason-codes.md`` against
the code enums (``daycare_settle.codes``), ``docs/readings.md`` against the rule files, and
every clause quote of every rule file and frame against the original texts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from daycare_settle.codes import ALL_CODES, FlagCode, LineReason, RejectionCode
from daycare_settle.policy.readings import REGENERATE, render
from daycare_settle.policy.registry import policy_ids, resolve_policy, rules_root

ROOT = Path(__file__).parents[1]
SEEDS = ROOT / ".." / "shared" / "seeds"
"""The originals, beside the repository (``../shared/seeds/``); absent in a bare clone."""
RULE_FILES = sorted(p for p in rules_root().rglob("*.yaml") if "catalogues" not in p.parts)
SEED_NAME = re.compile(r"seed:\s*shared/seeds/(\S+?\.txt)")


def test_readme_lists_every_bundled_policy() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("Bundled policies", 1)[1].split("\n\n", 2)[1]
    listed = re.findall(r"^- `([^`]+)`", section, flags=re.MULTILINE)
    assert listed == policy_ids()


def test_readings_page_is_current() -> None:
    page = (ROOT / "docs" / "readings.md").read_text(encoding="utf-8")
    current = render([resolve_policy(p) for p in policy_ids()])
    assert page == current, f"docs/readings.md drifted from the rule files; run `{REGENERATE}`"


def _squeezed(text: str) -> str:
    """Without any whitespace: the originals break lines (and space digits) mid-sentence."""
    return re.sub(r"\s+", "", text)


def _seed_of(rule_file: Path) -> str:
    """The original a rule file quotes, as its header comment names it."""
    header = " ".join(
        line.lstrip("# ").strip()
        for line in rule_file.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    )
    found = SEED_NAME.search(header.replace("shared/seeds/ ", "shared/seeds/"))
    assert found, f"{rule_file} names no original (a 'seed: shared/seeds/<file>' comment)"
    return found.group(1)


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda p: str(p.relative_to(rules_root())))
def test_clauses_quote_the_originals_verbatim(rule_file: Path) -> None:
    """Each quote (its parts around an elision ……) is in the original the file names; a
    clause of another document (``document:``) is in one of the originals. Whitespace is
    ignored; the TCM frame quotes the garbled published wording, not its reading."""
    clauses = yaml.safe_load(rule_file.read_text(encoding="utf-8")).get("clauses", {})
    if not clauses:
        assert "extends" in yaml.safe_load(rule_file.read_text(encoding="utf-8")), rule_file
        return
    if not SEEDS.is_dir():
        pytest.skip(f"the original texts are not here: {SEEDS.resolve()} does not exist")
    own = _squeezed((SEEDS / _seed_of(rule_file)).read_text(encoding="utf-8"))
    every = [_squeezed(p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))]
    for key, clause in clauses.items():
        texts = every if clause.get("document") else [own]
        for part in clause["quote"].split("……"):
            piece = _squeezed(part)
            assert any(piece in text for text in texts), f"{rule_file.name}: {key}: {part!r}"


REASON_CODES_SECTIONS = {
    "Rejections": RejectionCode,
    "Line reasons": LineReason,
    "Flags": FlagCode,
}


def _documented_codes(section: str) -> list[str]:
    """The codes in the first column of one table of ``docs/reason-codes.md``."""
    text = (ROOT / "docs" / "reason-codes.md").read_text(encoding="utf-8")
    body = text.split(f"\n## {section} ", 1)[1].split("\n## ", 1)[0]
    codes: list[str] = []
    for row in body.splitlines():
        if row.startswith("| `"):
            codes += re.findall(r"`([A-Z][A-Z_]+)`", row.split("|")[1])
    return codes


@pytest.mark.parametrize("section", sorted(REASON_CODES_SECTIONS))
def test_reason_codes_page_lists_exactly_the_enum(section: str) -> None:
    """Each table of ``docs/reason-codes.md`` lists every member of its enum once, and no
    code the engine cannot emit (python-holidays checks its README against its registry)."""
    enum = REASON_CODES_SECTIONS[section]
    documented = _documented_codes(section)
    assert len(documented) == len(set(documented)), f"{section}: a code is listed twice"
    members = {m.value for m in enum}
    assert set(documented) - members == set(), f"{section}: documented but not in {enum.__name__}"
    assert members - set(documented) == set(), f"{section}: in {enum.__name__} but not documented"


def test_reason_codes_are_their_names() -> None:
    """The JSON value of a code is its member name, and no code is in two enums."""
    seen: set[str] = set()
    for enum in ALL_CODES:
        for member in enum:
            assert member.value == member.name
            assert member.value not in seen, member
            seen.add(member.value)


@pytest.mark.parametrize("policy", policy_ids())
def test_every_policy_has_a_page(policy: str) -> None:
    """CONTRIBUTING.md's step 4: each bundled policy has ``docs/policies/<id>.md``."""
    page = ROOT / "docs" / "policies" / f"{policy}.md"
    assert page.is_file(), f"{policy} has no page {page.relative_to(ROOT)}"
