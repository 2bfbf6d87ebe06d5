"""The client profile of the committed JSON Schemas, which the Java and C# classes come from.

``docs/schemas/episode.schema.json`` accepts an amount (and a quantity) either as a decimal
string or as a JSON number, so that a caller without a decimal type can still send one. A
code generator turns that ``anyOf`` into a union holding a ``double`` (quicktype: an
``Amount`` with ``doubleValue`` / ``double? Double``), and a double cannot hold a fen
exactly. The client profile keeps the string branch only: generated clients send and read
amounts as decimal strings (``"1234.50"``), which the service always accepts and always
answers. Nothing else changes: every property, pattern, enum and description is kept.

Regenerate (pure Python, no network; ``docs/clients/regenerate.sh`` runs it first)::

    python3 docs/clients/client_schemas.py docs/schemas docs/clients/schemas

``tests/test_clients.py`` checks that the committed profile equals this transform of the
committed schemas.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SCHEMAS = ("episode", "settlement")


def _is_number(branch: Any) -> bool:
    return isinstance(branch, dict) and branch.get("type") in {"number", "integer"}


def _is_string(branch: Any) -> bool:
    return isinstance(branch, dict) and branch.get("type") == "string"


def strings_only(node: Any) -> Any:
    """``node`` with every number alternative of an ``anyOf`` that also offers a string removed."""
    if isinstance(node, list):
        return [strings_only(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: strings_only(value) for key, value in node.items()}
    branches = out.get("anyOf")
    if isinstance(branches, list) and any(map(_is_string, branches)):
        kept = [branch for branch in branches if not _is_number(branch)]
        if len(kept) == 1:
            # a single alternative left: fold it into the node (its own keys win)
            del out["anyOf"]
            out = {**out, **kept[0]}
        else:
            out["anyOf"] = kept
    return out


def profile(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """The client profile of one committed schema."""
    out = strings_only(schema)
    out["$id"] = f"https://daycare-settle.example/schemas/clients/{name}.schema.json"
    return out  # type: ignore[no-any-return]


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: client_schemas.py SCHEMA_DIR OUT_DIR", file=sys.stderr)
        return 2
    source, target = Path(argv[0]), Path(argv[1])
    target.mkdir(parents=True, exist_ok=True)
    for name in SCHEMAS:
        schema = json.loads((source / f"{name}.schema.json").read_text(encoding="utf-8"))
        text = render(profile(schema, name))
        (target / f"{name}.schema.json").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
