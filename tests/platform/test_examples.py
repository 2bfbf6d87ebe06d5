"""Every bundled policy has a platform record set (``examples/platform/<policy>/<name>.json``)
that settles to exactly the bytes its native counterpart (``examples/<policy>/<name>.json``)
settles to; the record sets validate against the committed platform schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from daycare_settle import policy_ids, settle
from daycare_settle.platform import settle_records
from daycare_settle.schemas import json_schema
from tests.builders import EXPECTED_SUFFIX
from tests.platform.records_builders import PLATFORM_EXAMPLES, ROOT

RECORD_SETS = sorted(
    path for path in PLATFORM_EXAMPLES.glob("*/*.json") if not path.name.endswith(EXPECTED_SUFFIX)
)


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_every_bundled_policy_has_a_record_set() -> None:
    assert sorted({p.parent.name for p in RECORD_SETS}) == sorted(policy_ids())


@pytest.mark.parametrize("path", RECORD_SETS, ids=_id)
def test_record_set_settles_to_the_native_episode_bytes(path: Path) -> None:
    policy = path.parent.name
    native = ROOT / "examples" / policy / path.name
    from_records = settle_records(path.read_bytes(), policy=policy).to_json()
    from_episode = settle(native.read_bytes(), policy=policy).to_json()
    assert from_records == from_episode


@pytest.mark.parametrize("path", RECORD_SETS, ids=_id)
def test_record_set_has_the_native_expected_result_beside_it(path: Path) -> None:
    expected = path.with_name(path.stem + EXPECTED_SUFFIX)
    native = ROOT / "examples" / path.parent.name / expected.name
    assert expected.read_bytes() == native.read_bytes()
    assert settle_records(path.read_bytes(), policy=path.parent.name).to_json() + "\n" == (
        expected.read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("path", RECORD_SETS, ids=_id)
def test_record_set_validates_against_the_platform_schema(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    errors = list(Draft202012Validator(json_schema("platform")).iter_errors(data))
    assert errors == []


def test_the_sets_include_a_refund_and_outpatient_visits() -> None:
    rows = [
        (path, row)
        for path in RECORD_SETS
        for row in json.loads(path.read_text(encoding="utf-8"))["feedetail"]
    ]
    assert any(row["init_feedetl_sn"] for _, row in rows)
    assert any(
        row["mdtrt_id"] != json.loads(path.read_text(encoding="utf-8"))["dscginfo"]["mdtrt_id"]
        for path, row in rows
    )
