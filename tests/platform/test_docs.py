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


def _subclasses(kind: type) -> list[type]:
    found = []
    for sub in kind.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_every_error_code_is_on_the_reason_codes_page() -> None:
    """Each library error's stable ``code`` (platform records, the review, the audit and the
    report included) is a row of the errors table."""
    import daycare_settle  # noqa: PLC0415 - imports the modules that define an error
    import daycare_settle.cli  # noqa: PLC0415 - and the report's, through the CLI

    page = (ROOT / "docs" / "reason-codes.md").read_text(encoding="utf-8")
    table = page.split("\n## Errors (exceptions)", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.MULTILINE))
    codes = {kind.code for kind in _subclasses(daycare_settle.DaycareSettleError)}
    assert codes - listed == set()
    assert {"invalid_feedetail", "out_of_order", "unknown_profile", "report_error"} <= codes
