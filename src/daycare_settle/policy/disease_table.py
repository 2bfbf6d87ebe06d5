"""Disease payment tables (按病种付费病种目录) and the TCD↔ICD-10 mapping (中西医编码映射).

TCM pilot 2025, 二、（五）: "树立同一的西医TCD编码和中医ICD编码之间的映射规定" (read: a
unified mapping between TCD codes and ICD codes). A principal diagnosis given in either
system finds its disease row through that mapping; a code the table does not map, or maps
to more than one disease the episode's other diagnoses cannot tell apart, is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import PolicyLoadError
from ..models.common import CodeSystem
from ..models.episode import Code
from .schema import DiseaseRow, DiseaseTableHeader, PerDisease
from .yaml_source import YamlDocument

MAPPED_SYSTEMS = (CodeSystem.TCD, CodeSystem.ICD_10)


@dataclass(frozen=True)
class DiseaseMatch:
    """The row a principal diagnosis maps to, or why none does (``code`` is a reason code).
    ``unlisted``: the code is of a mapped system but no disease of the table has it — the
    disease lies outside the catalogue (病种目录), not a fault of the mapping."""

    row: DiseaseRow | None
    code: str | None
    message: str
    unlisted: bool = False


@dataclass(frozen=True)
class DiseaseTable:
    """A compiled disease table."""

    key: str
    header: DiseaseTableHeader
    file: str
    sha256: str
    rows: tuple[DiseaseRow, ...]
    lines: tuple[int | None, ...] = ()
    """The line of each row in ``file``, where known (for load errors)."""

    def lookup(self, diagnoses: Sequence[Code]) -> DiseaseMatch:
        """The row of the principal diagnosis (``diagnoses[0]``), matched by the longest
        code prefix in its own system; ties are settled by the episode's other diagnoses
        in the other system, else refused as ambiguous."""
        principal = diagnoses[0]
        if principal.system not in MAPPED_SYSTEMS:
            return DiseaseMatch(
                None,
                "DISEASE_NOT_MAPPED",
                f"principal diagnosis {principal.code} is coded in {principal.system.value}; "
                f"table {self.header.id} maps TCD and ICD-10 codes only",
            )
        candidates = _longest(self.rows, principal)
        if not candidates:
            return DiseaseMatch(
                None,
                "DISEASE_NOT_MAPPED",
                f"principal diagnosis {principal.code} ({principal.system.value}) is not a "
                f"disease of table {self.header.id} ({self.header.title}, {self.header.status})",
                unlisted=True,
            )
        if len(candidates) > 1:
            other = CodeSystem.ICD_10 if principal.system is CodeSystem.TCD else CodeSystem.TCD
            hints = [d for d in diagnoses[1:] if d.system is other]
            narrowed = [r for r in candidates if any(_matches(r, h) for h in hints)]
            if len(narrowed) != 1:
                names = ", ".join(f"{r.name} ({r.tcd} / {r.icd10})" for r in candidates)
                return DiseaseMatch(
                    None,
                    "DISEASE_MAPPING_AMBIGUOUS",
                    f"principal diagnosis {principal.code} ({principal.system.value}) maps to "
                    f"{len(candidates)} diseases of table {self.header.id} ({names}) and the "
                    f"episode's {other.value} diagnoses do not single one out",
                )
            candidates = narrowed
        row = candidates[0]
        return DiseaseMatch(
            row,
            None,
            f"principal diagnosis {principal.code} ({principal.system.value}) maps to "
            f"{row.name} (TCD {row.tcd} ↔ ICD-10 {row.icd10})",
        )


def _code_of(row: DiseaseRow, system: CodeSystem) -> str:
    return row.tcd if system is CodeSystem.TCD else row.icd10


def _norm(text: str) -> str:
    return text.strip().upper()


def _matches(row: DiseaseRow, code: Code) -> bool:
    return _norm(code.code).startswith(_norm(_code_of(row, code.system)))


def _longest(rows: Sequence[DiseaseRow], code: Code) -> list[DiseaseRow]:
    hits = [row for row in rows if _matches(row, code)]
    if not hits:
        return []
    best = max(len(_norm(_code_of(row, code.system))) for row in hits)
    return [row for row in hits if len(_norm(_code_of(row, code.system))) == best]


def row_lines(document: YamlDocument) -> tuple[int | None, ...]:
    """The line of each row of a disease-table file (``diseases[i]``)."""
    rows = document.data.get("diseases") if isinstance(document.data, dict) else None
    count = len(rows) if isinstance(rows, list) else 0
    return tuple(document.line_of(("diseases", index)) for index in range(count))


def check_floor(table: DiseaseTable, rule: PerDisease) -> None:
    """TCM pilot 二、（二）: "原则上，试点后中医优势病种支付标准不低于试点前支付标准" — a
    principle for setting the table. Under ``floor: check_table`` a row whose standard lies
    below its pre-pilot standard is a load error naming the row, unless the row states
    ``below_floor_reason`` (原则上: the region's stated exception)."""
    if rule.floor != "check_table":
        return
    for index, row in enumerate(table.rows):
        if row.standard < row.pre_pilot_standard and row.below_floor_reason is None:
            line = table.lines[index] if index < len(table.lines) else None
            raise PolicyLoadError(
                table.file,
                line,
                f"disease {row.name!r} ({row.tcd} / {row.icd10}): standard {row.standard} is "
                f"below its pre-pilot standard {row.pre_pilot_standard}; the rule's floor "
                "(check_table) admits this only with a 'below_floor_reason'",
            )
