"""The JSON Schemas: committed and current, valid draft 2020-12, true to the models (the
examples and their results validate; what the validators accept or refuse, the schema does
too), and the ``schema`` command that prints and writes them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from daycare_settle import InvalidEpisode, parse_episode
from daycare_settle.cli import main
from daycare_settle.models import Episode, Settlement
from daycare_settle.policy.registry import rules_root
from daycare_settle.schemas import DIALECT, NAMES, REGENERATE, file_name, json_schema, schema_text
from tests.builders import episode

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "schemas"
EXAMPLES = ROOT / "examples"
EPISODES = sorted(p for p in EXAMPLES.glob("*/*.json") if not p.name.endswith(".expected.json"))
RESULTS = sorted(EXAMPLES.glob("*/*.expected.json"))
RULE_FILES = sorted(
    p
    for p in rules_root().rglob("*.yaml")
    if "catalogues" not in p.parts
    and not {"extends", "frame"} & set(yaml.safe_load(p.read_text(encoding="utf-8")))
)
"""Complete rule files: not catalogues, national frames (``frame:``) or the overlays that
extend them (``extends:``), which the loader merges before the schema applies."""


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json_schema(name))


def problems(name: str, data: object) -> list[str]:
    found = validator(name).iter_errors(data)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in found]


# --- committed and current ------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_committed_schema_matches_the_models(name: str) -> None:
    path = COMMITTED / file_name(name)
    assert path.is_file(), f"{path} is missing; run `{REGENERATE}`"
    assert path.read_text(encoding="utf-8") == schema_text(name), (
        f"{path} drifted from the models; run `{REGENERATE}` and commit the result"
    )


def test_no_stray_schema_is_committed() -> None:
    assert sorted(p.name for p in COMMITTED.glob("*.json")) == sorted(map(file_name, NAMES))


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_draft_2020_12_with_a_stable_id(name: str) -> None:
    schema = json_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DIALECT
    assert list(schema)[:2] == ["$schema", "$id"]
    assert schema["$id"].endswith(f"/{name}.schema.json")
    assert json_schema(name) == schema


def test_schema_text_is_canonical() -> None:
    text = schema_text("episode")
    assert text.endswith("}\n")
    assert not text.endswith("\n\n")
    assert "费用明细" in text  # the Chinese terms stay readable, not \\u-escaped


def test_properties_keep_the_model_field_order_and_keywords_are_sorted() -> None:
    schema = json_schema("episode")
    assert list(schema["properties"]) == list(Episode.model_fields)
    charge = schema["$defs"]["Charge"]
    assert list(charge) == sorted(charge)


# --- the examples validate ------------------------------------------------------------------


@pytest.mark.parametrize("path", EPISODES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_example_episode_validates_against_the_episode_schema(path: Path) -> None:
    assert problems("episode", json.loads(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_expected_result_validates_against_the_settlement_schema(path: Path) -> None:
    assert problems("settlement", json.loads(path.read_text(encoding="utf-8"))) == []


def _as_json(value: Any) -> Any:
    """YAML data as its JSON equivalent: dates become ISO text."""
    if isinstance(value, dict):
        return {str(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: str(p.relative_to(rules_root())))
def test_bundled_rule_file_validates_against_the_policy_schema(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert problems("policy", _as_json(data)) == []


def test_schema_refuses_what_the_settlement_never_holds() -> None:
    result = json.loads((RESULTS[0]).read_text(encoding="utf-8"))
    result["totals"]["input"] = 12.5  # amounts are strings in the result
    result["surprise"] = True
    found = problems("settlement", result)
    assert any(p.startswith("totals/input") for p in found)
    assert any("surprise" in p for p in found)


# --- the schema tells the truth about what the validators accept ----------------------------


def _model_accepts(**charge: object) -> bool:
    """Whether ``settle`` reads the episode JSON text (numbers as exact decimals)."""
    data = episode()
    data["charges"][0].update(charge)
    try:
        parse_episode(json.dumps(data))
    except InvalidEpisode:
        return False
    return True


def _schema_accepts(**charge: object) -> bool:
    data = episode()
    data["charges"][0].update(charge)
    return not problems("episode", data)


@pytest.mark.parametrize(
    "amount",
    [
        "1234.50",
        "1234.5",
        "1234",
        "0",
        "1.500",
        "007.10",
        "999999999999.99",
        12,
        0,
        12.5,
        0.07,
        999999999999.99,
        1e3,
        "1.234",
        "-1",
        "-0",
        "1e3",
        " 1",
        "1.",
        ".5",
        "+1",
        "１２",
        "1_000",
        "1000000000000",
        "NaN",
        -3,
        True,
        None,
    ],
)
def test_amount_schema_agrees_with_the_validator(amount: object) -> None:
    # Not listed: a JSON number with a third non-zero decimal (1.234), which the schema
    # accepts and the validator refuses; "multipleOf": 0.01 would say it, but validators
    # that divide in binary floating point then refuse amounts like 0.07 as well.
    assert _schema_accepts(amount=amount) == _model_accepts(amount=amount)


@pytest.mark.parametrize(
    "quantity", ["2", "2.5", "0.000001", "0.0000001", "2.5000000", "-2", "2e1", 3, None]
)
def test_quantity_schema_agrees_with_the_validator(quantity: object) -> None:
    assert _schema_accepts(quantity=quantity) == _model_accepts(quantity=quantity)


@pytest.mark.parametrize(
    "at",
    [
        "2025-03-01T08:00",
        "2025-03-01T08:00:00",
        "2025-03-01T08:00:00.5",
        "2025-03-01T08:00:00Z",
        "2025-03-01T08:00:00+08:00",
        "2025-03-01",
        "2025-03-01 08:00:00",
        "2025-03-01T08:00:00 ",
        "20250301T0800",
        17,
    ],
)
def test_time_schema_agrees_with_the_validator(at: object) -> None:
    assert _schema_accepts(at=at) == _model_accepts(at=at)


@pytest.mark.parametrize("category", ["surgery", "06", "14", "6", "15", "Surgery", "手术费"])
def test_category_schema_agrees_with_the_validator(category: str) -> None:
    assert _schema_accepts(category=category) == _model_accepts(category=category)


@pytest.mark.parametrize("charge_id", ["c-1", "费用 1", "", " c", "c ", "a\nb", "x" * 201])
def test_identifier_schema_refuses_what_the_validator_refuses(charge_id: str) -> None:
    # The schema cannot name every invisible character; it refuses every id shown here
    # that the validator refuses, and accepts every one it accepts.
    assert _schema_accepts(id=charge_id) == _model_accepts(id=charge_id)


def test_settlement_schema_is_the_serialised_shape() -> None:
    amount = json_schema("settlement")["$defs"]["Totals"]["properties"]["input"]
    assert amount["type"] == "string"
    assert "number" not in json.dumps(amount)
    schema = json_schema("settlement")
    assert list(schema["properties"]) == list(Settlement.model_fields)
    # the output always carries every field, defaulted or not
    assert schema["required"] == list(Settlement.model_fields)
    assert "library_version" not in json_schema("episode").get("required", [])


# --- the command ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_schema_command_prints_the_schema(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", name]) == 0
    assert capsys.readouterr().out == schema_text(name)


def test_schema_write_writes_every_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out"
    assert main(["schema", "--write", str(target)]) == 0
    assert sorted(p.name for p in target.iterdir()) == sorted(map(file_name, NAMES))
    for name in NAMES:
        assert (target / file_name(name)).read_text(encoding="utf-8") == schema_text(name)
    assert capsys.readouterr().out.count("wrote ") == len(NAMES)


def test_schema_write_one(tmp_path: Path) -> None:
    assert main(["schema", "policy", "--write", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["policy.schema.json"]


def test_schema_without_a_name_or_write_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["schema"]) == 2
    assert "name a schema or give --write DIR" in capsys.readouterr().err


def test_unknown_schema_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "hl7"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_unwritable_target_is_an_output_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    assert main(["schema", "--write", str(blocker / "sub")]) == 74
    err = capsys.readouterr().err
    assert "cannot write the output" in err
    assert "Traceback" not in err


# --- only JSON Schema's own words -----------------------------------------------------------

_IN_PLACE = {"additionalProperties", "contains", "else", "if", "items", "not", "propertyNames"}
_IN_PLACE |= {"then", "unevaluatedItems", "unevaluatedProperties", "contentSchema"}
"""Draft 2020-12 keywords whose value is one schema."""
_IN_ARRAY = {"allOf", "anyOf", "oneOf", "prefixItems"}
"""... whose value is an array of schemas."""
_IN_MAP = {"$defs", "dependentSchemas", "patternProperties", "properties"}
"""... whose value maps names (property names, patterns, definitions) to schemas."""
_DATA = {"const", "default", "dependentRequired", "enum", "examples", "required"}
"""... whose value is data or names, not schemas."""
_OTHER = {"$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary"}
_OTHER |= {"$comment", "type", "multipleOf", "maximum", "exclusiveMaximum", "minimum"}
_OTHER |= {"exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems"}
_OTHER |= {"uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties"}
_OTHER |= {"format", "contentEncoding", "contentMediaType", "title", "description"}
_OTHER |= {"deprecated", "readOnly", "writeOnly"}
KEYWORDS_2020_12 = _IN_PLACE | _IN_ARRAY | _IN_MAP | _DATA | _OTHER
"""Every keyword of the draft 2020-12 vocabularies (core, applicator, unevaluated,
validation, format annotation, content, meta-data)."""


def unknown_keywords(schema: object, where: str = "#") -> list[str]:
    """Where a schema object holds a key that is not a draft 2020-12 keyword (``ge``, a
    pydantic constraint leaked into the schema, bounds nothing)."""
    if isinstance(schema, bool):
        return []
    assert isinstance(schema, dict), f"{where}: a schema is an object or a boolean"
    found = [f"{where}/{key}" for key in schema if key not in KEYWORDS_2020_12]
    for key, value in schema.items():
        if key in _IN_PLACE:
            found += unknown_keywords(value, f"{where}/{key}")
        elif key in _IN_ARRAY:
            found += [
                x for i, s in enumerate(value) for x in unknown_keywords(s, f"{where}/{key}/{i}")
            ]
        elif key in _IN_MAP:
            found += [
                x for n, s in value.items() for x in unknown_keywords(s, f"{where}/{key}/{n}")
            ]
    return found


COMMITTED_FILES = sorted(COMMITTED.glob("*.schema.json")) + sorted(
    (ROOT / "docs" / "clients" / "schemas").glob("*.schema.json")
)


@pytest.mark.parametrize("path", COMMITTED_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_schema_uses_only_json_schema_keywords(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert unknown_keywords(schema) == []


def test_the_keyword_scan_finds_a_leaked_constraint() -> None:
    leaked = {"properties": {"n": {"anyOf": [{"type": "integer", "ge": 0}]}}, "$defs": {}}
    assert unknown_keywords(leaked) == ["#/properties/n/anyOf/0/ge"]
    assert unknown_keywords({"additionalProperties": {"le": 9}, "enum": [{"ge": 1}]}) == [
        "#/additionalProperties/le"
    ]
