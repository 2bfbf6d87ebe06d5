"""Record sets for the platform tests: the bundled Panzhihua day-chemo record set, copied so
that each test changes only what it is about."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_EXAMPLES = ROOT / "examples" / "platform"
BASE = PLATFORM_EXAMPLES / "panzhihua" / "day-chemo-breast-cancer.json"
_BASE: dict[str, Any] = json.loads(BASE.read_text(encoding="utf-8"))


def records() -> dict[str, Any]:
    """A fresh copy of the Panzhihua record set (day chemo, outpatient visit, one refund)."""
    return copy.deepcopy(_BASE)


def row(data: dict[str, Any], sn: str) -> dict[str, Any]:
    """The fee row ``sn`` of ``data``."""
    return next(r for r in data["feedetail"] if r["feedetl_sn"] == sn)


def refund(data: dict[str, Any], of: str, sn: str, cnt: str, amount: str) -> dict[str, Any]:
    """Append a refund row ``sn`` of row ``of`` (negative ``cnt`` and amount); return it."""
    refund_row = dict(row(data, of), feedetl_sn=sn, init_feedetl_sn=of, cnt=cnt)
    refund_row["det_item_fee_sumamt"] = amount
    data["feedetail"].append(refund_row)
    return refund_row
