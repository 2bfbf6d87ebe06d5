"""``docs/integration.md`` holds the platform mapping: its med_type table is the rule files'
``platform:`` sections, and its field table names every field the record models read."""

from __future__ import annotations

import re

from daycare_settle.platform.records import (
    ChargeSupplement,
    Diseinfo,
    Dscginfo,
    Feedetail,
    Mdtrtinfo,
    Supplement,
)
from daycare_settle.policy import policy_ids, resolve_policy
from tests.platform.records_builders import ROOT

PAGE = (ROOT / "docs" / "integration.md").read_text(encoding="utf-8")


def test_med_type_table_is_the_rule_files() -> None:
    block = PAGE.split("<!-- med-types:start -->", 1)[1].split("<!-- med-types:end -->", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| `([^`]+)` \| `([^`]+)` \|$", block, re.MULTILINE)
    expected = []
    for policy_id in policy_ids():
        section = resolve_policy(policy_id).rules.platform
        assert section is not None, f"{policy_id} has no platform: section"
        expected += [(policy_id, code, p.value) for code, p in section.med_types.items()]
    assert rows == sorted(expected)


def test_every_field_read_is_in_the_mapping_table() -> None:
    table = PAGE.split("### Field mapping", 1)[1].split("**Numbers**", 1)[0]
    for model, prefix in (
        (Mdtrtinfo, "mdtrtinfo"),
        (Dscginfo, "dscginfo"),
        (Diseinfo, "diseinfo"),
        (Feedetail, "feedetail"),
        (Supplement, "supplement"),
    ):
        for name in model.model_fields:
            if model is Diseinfo and name != "diag_name":
                continue  # the diagnosis fields are described together under diseinfo[]
            assert name in table, f"{prefix}.{name} is missing from docs/integration.md"
    for name in ChargeSupplement.model_fields:
        assert name in table
