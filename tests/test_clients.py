"""The Java and C# clients under ``docs/clients/``: generated from the client profile of the
committed schemas and kept in step with them.

Regenerating needs Node (quicktype), which CI does not have; so these tests read the
committed files as text: the profile is the transform of the committed schemas, every
property of the schemas is named in the generated sources (a schema change without
regeneration fails), and no generated type holds money as a floating-point number.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "docs" / "schemas"
CLIENTS = ROOT / "docs" / "clients"
PROFILE = CLIENTS / "schemas"
NAMES = ("episode", "settlement")
JAVA = CLIENTS / "java" / "src" / "main" / "java" / "daycare" / "settle" / "client"
CSHARP = CLIENTS / "csharp"


def client_schemas() -> ModuleType:
    spec = importlib.util.spec_from_file_location("client_schemas", CLIENTS / "client_schemas.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def committed(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def property_names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            yield from properties
        for value in node.values():
            yield from property_names(value)
    elif isinstance(node, list):
        for item in node:
            yield from property_names(item)


def java_sources(name: str) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((JAVA / name).glob("*.java")))


def csharp_source(name: str) -> str:
    return (CSHARP / f"{name.capitalize()}.cs").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", NAMES)
def test_the_committed_profile_is_the_transform_of_the_committed_schema(name: str) -> None:
    module = client_schemas()
    expected = module.render(module.profile(committed(name), name))
    assert (PROFILE / f"{name}.schema.json").read_text(encoding="utf-8") == expected


def test_the_profile_offers_amounts_and_quantities_as_strings_only() -> None:
    profile = json.loads((PROFILE / "episode.schema.json").read_text(encoding="utf-8"))
    charge = profile["$defs"]["Charge"]["properties"]
    assert charge["amount"]["type"] == "string"
    assert "anyOf" not in charge["amount"]
    assert (
        charge["amount"]["pattern"]
        == committed("episode")["$defs"]["Charge"]["properties"]["amount"]["anyOf"][0]["pattern"]
    )
    assert [b.get("type") for b in charge["quantity"]["anyOf"]] == ["string", "null"]


def test_the_transform_keeps_a_number_that_has_no_string_alternative() -> None:
    module = client_schemas()
    node = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert module.strings_only(node) == node
    assert module.strings_only({"anyOf": [{"type": "string"}, {"type": "number"}]}) == {
        "type": "string"
    }


@pytest.mark.parametrize("name", NAMES)
def test_every_schema_property_is_named_in_the_generated_java(name: str) -> None:
    source = java_sources(name)
    names = set(property_names(committed(name)))
    assert names
    missing = sorted(n for n in names if f'@JsonProperty("{n}")' not in source)
    assert missing == [], "regenerate with docs/clients/regenerate.sh"


@pytest.mark.parametrize("name", NAMES)
def test_every_schema_property_is_named_in_the_generated_csharp(name: str) -> None:
    source = csharp_source(name)
    names = set(property_names(committed(name)))
    assert names
    missing = sorted(n for n in names if f'[JsonPropertyName("{n}")]' not in source)
    assert missing == [], "regenerate with docs/clients/regenerate.sh"


@pytest.mark.parametrize("name", NAMES)
def test_no_generated_type_is_floating_point(name: str) -> None:
    float_type = re.compile(r"\b(?:double|Double|float|Float)\b")
    assert float_type.findall(java_sources(name)) == []
    assert float_type.findall(csharp_source(name)) == []


@pytest.mark.parametrize(
    ("path", "declaration"),
    [
        ("Charge.java", "private String amount;"),
        ("Charge.java", "private String quantity;"),
    ],
)
def test_the_generated_java_charge_keeps_money_as_text(path: str, declaration: str) -> None:
    assert declaration in (JAVA / "episode" / path).read_text(encoding="utf-8")


def test_the_generated_java_totals_keep_money_as_text() -> None:
    source = (JAVA / "settlement" / "Totals.java").read_text(encoding="utf-8")
    assert "private String included;" in source
    assert "private String input;" in source


def test_the_generated_csharp_keeps_money_as_text() -> None:
    assert "public string Amount { get; set; }" in csharp_source("episode")
    assert "public string Included { get; set; }" in csharp_source("settlement")


def test_every_generated_file_says_how_it_was_generated() -> None:
    files = [*JAVA.glob("episode/*.java"), *JAVA.glob("settlement/*.java")]
    files += [CSHARP / "Episode.cs", CSHARP / "Settlement.cs"]
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("// generated by quicktype 26.0.0 from docs/clients/schemas/"), path
