"""Composing a region rule file onto a frame (``extends:``): the region adds, never silently
overrides; conflicts and schema breaks are load errors with file:line naming both sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from daycare_settle import PolicyLoadError
from daycare_settle.policy import load_policy_file, rules_root

FRAME_FILE = rules_root() / "national" / "tcm-pilot-2025.yaml"
TABLE_FILE = rules_root() / "tcm-pilot-2025" / "catalogues" / "illustrative-diseases.yaml"

REGION = f"""\
extends: {FRAME_FILE}
policy:
  id: test-region
  document: test region plan
  title: test region
  version: "1"
  region: test
  effective_from: 2025-10-01
  confirmed_until: 2026-11-23
  scope: tcm_2_5b
catalogues:
  tcm_diseases:
    file: {TABLE_FILE}
    source: tcm_2_1
programmes:
  tcm_day_care:
    merge:
      pre_admission: {{kind: none, source: tcm_1, provenance: local-parameter, note: none merge}}
      post_discharge: {{kind: none, source: tcm_1, provenance: local-parameter, note: none}}
      during_stay: {{kind: none, source: tcm_1, provenance: local-parameter, note: none}}
    conversion: {{kind: not_provided, source: tcm_1, provenance: local-parameter, note: refused}}
    payment:
      patient:
        kind: single_inpatient_stay
        counts_toward_annual_inpatient_cap: true
        source: tcm_1
        provenance: local-parameter
        note: one stay
      agency:
        bed_days: {{kind: bed_days, count: session_days, source: tcm_2_5b}}
"""


def write(tmp_path: Path, text: str, name: str = "region.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, text in enumerate(lines, start=1) if needle in text)


def load_error(path: Path) -> PolicyLoadError:
    with pytest.raises(PolicyLoadError) as caught:
        load_policy_file(path)
    return caught.value


def test_region_composes_with_frame(tmp_path: Path) -> None:
    policy = load_policy_file(write(tmp_path, REGION))
    assert policy.id == "test-region"
    assert [f.id for f in policy.frames] == ["tcm-pilot-2025-frame"]
    assert policy.ref.frames == policy.frames
    rules = next(iter(policy.rules.programmes.values()))
    assert rules.time_limit.kind == "none"  # from the frame
    assert rules.payment.agency.kind == "per_disease"  # frame, with the region's bed_days
    assert rules.payment.agency.bed_days is not None
    assert policy.clause("tcm_2_2") is not None
    citation = policy.citation("tcm_2_2")
    assert citation is not None
    assert citation.document.startswith("国家医保局办公室")


def test_region_list_items_are_appended(tmp_path: Path) -> None:
    text = REGION.replace(
        "  tcm_day_care:\n",
        "  tcm_day_care:\n    eligibility:\n"
        "      - {kind: min_tier, min_tier: 2, source: tcm_1, provenance: local-parameter, "
        "note: tier 2}\n",
    )
    rules = next(iter(load_policy_file(write(tmp_path, text)).rules.programmes.values()))
    assert [rule.kind for rule in rules.eligibility] == ["disease_mapped", "min_tier"]


def test_unknown_key_in_region_names_region_line_and_frame(tmp_path: Path) -> None:
    text = REGION.replace("count: session_days,", "count: session_days, colour: red,")
    path = write(tmp_path, text)
    error = load_error(path)
    assert error.file == str(path)
    assert error.line == line_of(path, "colour: red")
    assert "unknown key" in error.message
    assert str(FRAME_FILE) in error.message
    assert "tcm-pilot-2025-frame" in error.message


def test_conflicting_value_is_load_error_naming_both(tmp_path: Path) -> None:
    text = REGION.replace(
        "    payment:\n",
        "    time_limit: {kind: stay_hours, limit_hours: 24, provenance: local-parameter, "
        "note: x}\n    payment:\n",
        1,
    )
    path = write(tmp_path, text)
    error = load_error(path)
    assert error.file == str(path)
    assert error.line == line_of(path, "time_limit:")
    frame_line = line_of(FRAME_FILE, "    time_limit:") + 1  # the frame's `kind: none`
    assert f"{FRAME_FILE}:{frame_line}" in error.message
    assert "programmes.tcm_day_care.time_limit.kind conflicts with the frame" in error.message
    assert "overrides" in error.message


def test_conflicting_scalar_inside_frame_rule(tmp_path: Path) -> None:
    text = REGION.replace("      agency:\n", "      agency:\n        floor: null\n")
    error = load_error(write(tmp_path, text))
    assert "programmes.tcm_day_care.payment.agency.floor conflicts" in error.message


def test_explicit_override_is_allowed(tmp_path: Path) -> None:
    text = REGION.replace(
        "    payment:\n",
        "    time_limit: {kind: stay_hours, limit_hours: 72, source: tcm_1, "
        "provenance: local-parameter, "
        "note: x}\n    payment:\n",
        1,
    )
    text += "overrides:\n  programmes.tcm_day_care.time_limit: our day ward caps a course at 72 h\n"
    policy = load_policy_file(write(tmp_path, text))
    rules = next(iter(policy.rules.programmes.values()))
    assert rules.time_limit.kind == "stay_hours"
    assert policy.overrides == (
        ("programmes.tcm_day_care.time_limit", "our day ward caps a course at 72 h"),
    )


def test_override_of_nothing_is_an_error(tmp_path: Path) -> None:
    text = REGION + "overrides:\n  programmes.tcm_day_care.time_limit: no reason to\n"
    path = write(tmp_path, text)
    error = load_error(path)
    assert error.line == line_of(path, "programmes.tcm_day_care.time_limit: no reason")
    assert "overrides nothing" in error.message


def test_conflicting_clause_key(tmp_path: Path) -> None:
    text = REGION + "clauses:\n  tcm_2_2: {clause: x, quote: a different text}\n"
    error = load_error(write(tmp_path, text))
    assert "clauses.tcm_2_2.clause conflicts with the frame" in error.message


def test_region_may_add_its_own_clauses(tmp_path: Path) -> None:
    text = REGION + "clauses:\n  local_1: {clause: 第一条, quote: 本地方案原文}\n"
    policy = load_policy_file(write(tmp_path, text))
    citation = policy.citation("local_1")
    assert citation is not None
    assert citation.document == "test region plan"


def test_region_before_frame_in_force_is_error(tmp_path: Path) -> None:
    path = write(tmp_path, REGION.replace("2025-10-01", "2025-09-01"))
    error = load_error(path)
    assert error.line == line_of(path, "effective_from")
    assert "before the frame" in error.message


def test_missing_table_names_frame_rule_line(tmp_path: Path) -> None:
    text = REGION.replace("catalogues:\n  tcm_diseases:", "catalogues:\n  other_name:")
    error = load_error(write(tmp_path, text))
    assert error.file == str(FRAME_FILE)
    assert "disease table 'tcm_diseases' is not declared" in error.message
    assert "region.yaml" in error.message


def test_reference_basis_not_allowed_for_category(tmp_path: Path) -> None:
    table = TABLE_FILE.read_text(encoding="utf-8").replace(
        "basis: western_conservative_drg_dip", "basis: western_drg_dip"
    )
    write(tmp_path, table, "table.yaml")
    text = REGION.replace(f"file: {TABLE_FILE}", "file: table.yaml")
    error = load_error(write(tmp_path, text))
    assert "a surgical disease may reference only" in error.message


def test_per_bed_day_row_needs_bed_day_count(tmp_path: Path) -> None:
    text = REGION.replace(
        "      agency:\n        bed_days: {kind: bed_days, count: session_days, "
        "source: tcm_2_5b}\n",
        "",
    )
    error = load_error(write(tmp_path, text))
    assert "per bed-day, but the rule gives no 'bed_days'" in error.message


def test_missing_frame_file(tmp_path: Path) -> None:
    path = write(tmp_path, REGION.replace(str(FRAME_FILE), "nowhere/frame.yaml"))
    error = load_error(path)
    assert error.line == 1
    assert "cannot read the frame" in error.message


def test_broken_frame_file_names_frame_line(tmp_path: Path) -> None:
    frame = FRAME_FILE.read_text(encoding="utf-8").replace(
        "  effective_from: 2025-09-24", "  effective_from: 2025-09-24\n  colour: red"
    )
    frame_path = write(tmp_path, frame, "frame.yaml")
    error = load_error(write(tmp_path, REGION.replace(str(FRAME_FILE), str(frame_path))))
    assert error.file == str(frame_path)
    assert error.line == line_of(frame_path, "colour: red")


def test_overrides_without_extends_is_unknown_key(tmp_path: Path) -> None:
    plain = (rules_root() / "qingyuan" / "qingyibaodai-2020-49.yaml").read_text(encoding="utf-8")
    plain = plain.replace("file: catalogues/", f"file: {rules_root()}/qingyuan/catalogues/")
    path = write(tmp_path, plain + "overrides:\n  policy.version: x\n")
    error = load_error(path)
    assert error.line == line_of(path, "overrides:")
    assert "unknown key" in error.message
