"""Catalogue downloads of the medical-insurance platform (医保信息平台目录下载), read as catalogues.

A deployment drops in the file its platform gave it and declares it under ``catalogues:``
with ``format: platform-1311`` (or 1310, 1314, 1315), the ``column`` whose codes are matched
and the code ``system`` of that column. The lists and their columns (as public HIS code
spells them; see docs/platform-catalogues.md for what was verified and what was not):

- 1310 按病种付费病种目录 (pay-by-disease list): ``BYDISE_SETL_LIST_CODE``, the qualifying
  or limiting operation (``QUA_OPRN_OPRT_CODE``, ``LIMIT_OPRN_OPRT_CODE``);
- 1311 日间手术治疗病种目录 (day-surgery disease list): ``DAYSRG_DISE_LIST_CODE``, the
  qualifying operation ``QUA_OPRN_OPRT_CODE`` (an ICD-9-CM-3 procedure code);
- 1314 中医疾病目录 (TCM diseases): ``DISE_TYPE_CODE`` (the TCD disease code) and its
  classes;
- 1315 中医证候目录 (TCM syndromes): ``SDS_TYPE_CODE`` (the TCD syndrome code) and its
  classes;

each with ``VALI_FLAG`` (有效标志, ``1`` valid, ``0`` not), ``VER`` (版本号) and the
platform's bookkeeping columns (``RID``, ``CRTE_TIME``, ``UPDT_TIME``, ``VER_NAME`` …).

Two file forms, told apart by the file's suffix: ``.json`` — a JSON array of objects keyed
by column name; ``.txt`` / ``.tsv`` — UTF-8 text, one record per line, fields separated by
tabs, the first line naming the columns. Column names are matched without regard to case
(the interface documents write them in lower case, HIS databases in upper case).

Reading is strict: an unknown column, a missing required column, a ``VALI_FLAG`` other
than ``0``/``1``, an empty code, name or ``VER`` on a valid row, two valid rows giving the
same code different names, or two rows with the same ``RID`` and different content, is a
:class:`PolicyLoadError` naming the file, the line (or JSON row) and the column. Only rows
with ``VALI_FLAG`` = ``1`` become entries; their codes match by prefix, as every
catalogue's do. The catalogue's version is the highest ``VER`` among its valid rows
(compared digit run by digit run). Rows carry no validity dates in the lists found; a file
with date columns (``BEGNDATE``, ``ENDDATE``) is refused as having unknown columns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..errors import PolicyLoadError
from ..exact_json import DECODER, OUT_OF_RANGE
from .schema import CatalogueEntry, CatalogueFormat, CatalogueHeader, CodeSystemName
from .yaml_source import decode_text


@dataclass(frozen=True)
class PlatformList:
    """One platform catalogue download: its interface number, title and columns."""

    number: str
    title: str
    codes: dict[str, tuple[str, ...]]
    """Each column that may be matched, with the column(s) naming its codes (the first
    present in the file is used)."""
    extra: frozenset[str]
    """Further columns the list carries (kept out of the catalogue)."""


_COMMON = frozenset(
    {
        "ID",
        "VALI_FLAG",
        "VER",
        "VER_NAME",
        "RID",
        "CRTE_TIME",
        "UPDT_TIME",
        "CRTER_ID",
        "CRTER_NAME",
        "UPDT_ID",
        "UPDT_NAME",
        "MEMO",
        "DISEASES_CONNOTATION",
        "DIAGNOSE_GUIDE_PAGE_NUM",
        "DIAGONSE_GUIDE_DOC",
    }
)

LISTS: dict[str, PlatformList] = {
    "platform-1310": PlatformList(
        "1310",
        "按病种付费病种目录",
        {
            "BYDISE_SETL_LIST_CODE": ("BYDISE_SETL_DISE_NAME", "BYDISE_SETL_NAME"),
            "QUA_OPRN_OPRT_CODE": ("QUA_OPRN_OPRT_NAME",),
            "LIMIT_OPRN_OPRT_CODE": ("LIMIT_OPRN_OPRT_NAME",),
        },
        frozenset({"DISE_SETL_LIST_ID"}),
    ),
    "platform-1311": PlatformList(
        "1311",
        "日间手术治疗病种目录",
        {
            "DAYSRG_DISE_LIST_CODE": ("DAYSRG_DISE_NAME",),
            "QUA_OPRN_OPRT_CODE": ("QUA_OPRN_OPRT_NAME",),
            "OPERATION_CODE": ("OPERATION_NAME",),
        },
        frozenset({"DAYSRG_TRT_LIST_ID"}),
    ),
    "platform-1314": PlatformList(
        "1314",
        "中医疾病目录",
        {
            "DISE_TYPE_CODE": ("DISE_TYPE_NAME",),
            "SPCY_SYS_TAXA_CODE": ("SPCY_SYS_TAXA_NAME",),
            "CATY_CGY_CODE": ("CATY_CGY_NAME",),
        },
        frozenset({"TCM_DIAG_ID"}),
    ),
    "platform-1315": PlatformList(
        "1315",
        "中医证候目录",
        {
            "SDS_TYPE_CODE": ("SDS_TYPE_NAME",),
            "SDS_ATTR_CODE": ("SDS_ATTR",),
            "SDS_CGY_CODE": ("SDS_CGY_NAME",),
        },
        frozenset({"TCMSYMP_ID"}),
    ),
}
"""The platform lists by their ``format`` value."""

JSON_SUFFIXES = (".json",)
TEXT_SUFFIXES = (".txt", ".tsv")


@dataclass(frozen=True)
class PlatformCatalogue:
    """A platform download read: the header made for it and its valid rows as entries."""

    header: CatalogueHeader
    entries: tuple[CatalogueEntry, ...]
    rows: int
    """Rows in the file (valid or not)."""


def code_columns(format: CatalogueFormat) -> tuple[str, ...]:
    """The columns of a platform list that ``column:`` may name."""
    return tuple(LISTS[format].codes)


def read_platform_catalogue(
    key: str,
    file: Path,
    raw: bytes,
    format: CatalogueFormat,
    column: str,
    system: CodeSystemName,
) -> PlatformCatalogue:
    """Read a platform download (``raw``, the bytes of ``file``) as catalogue ``key``,
    matching ``column`` (one of :func:`code_columns`) as codes of ``system``."""
    spec = LISTS[format]
    name = str(file)
    column = column.upper()
    if column not in spec.codes:
        raise PolicyLoadError(name, None, f"list {spec.number} has no code column {column!r}")
    text = _text(raw, name)
    suffix = file.suffix.lower()
    if suffix in JSON_SUFFIXES:
        header, records, header_line = _json_records(text, name)
    elif suffix in TEXT_SUFFIXES:
        header, records, header_line = _text_records(text, name)
    else:
        raise PolicyLoadError(
            name,
            None,
            f"a platform catalogue is a .json array or tab-separated .txt/.tsv text; "
            f"cannot tell the form of a {suffix or 'suffix-less'!s} file",
        )
    name_column = _check_columns(header, spec, column, name, header_line)
    entries, version, count = _entries(records, name, column, name_column)
    return PlatformCatalogue(
        header=CatalogueHeader(
            id=key,
            title=f"{spec.title} ({spec.number})",
            version=version,
            status="official",
            origin=f"medical-insurance platform download {spec.number}, column {column}",
            system=system,
        ),
        entries=entries,
        rows=count,
    )


Record = tuple[int | None, str, dict[str, str]]
"""(line, where text for errors, values by upper-case column)."""


def _text(raw: bytes, name: str) -> str:
    return decode_text(raw, name).removeprefix("\ufeff")


def _header(names: list[str], name: str, line: int | None) -> tuple[str, ...]:
    upper = tuple(column.strip().upper() for column in names)
    seen: set[str] = set()
    for column in upper:
        if not column:
            raise PolicyLoadError(name, line, "a column has no name")
        if column in seen:
            raise PolicyLoadError(name, line, f"column {column} is given twice")
        seen.add(column)
    return upper


def _text_records(text: str, name: str) -> tuple[tuple[str, ...], list[Record], int]:
    """The columns, the rows, and the header's line (the first line that is not blank)."""
    lines = text.split("\n")
    numbered = [
        (number, line.removesuffix("\r"))
        for number, line in enumerate(lines, start=1)
        if line.strip()
    ]
    if not numbered:
        raise PolicyLoadError(name, None, "the file is empty: give a header line and rows")
    first, head = numbered[0]
    header = _header(head.split("\t"), name, first)
    records: list[Record] = []
    for number, line in numbered[1:]:
        fields = line.split("\t")
        if len(fields) != len(header):
            raise PolicyLoadError(
                name,
                number,
                f"{len(fields)} tab-separated fields, but the header names {len(header)}",
            )
        values = {column: value.strip() for column, value in zip(header, fields, strict=True)}
        records.append((number, f"line {number}", values))
    return header, records, first


def _json_records(text: str, name: str) -> tuple[tuple[str, ...], list[Record], int | None]:
    """The columns, the rows, and the line of the first row (which names the columns)."""
    rows = list(_json_rows(DECODER, text, name))
    if not rows:
        raise PolicyLoadError(name, None, "the array holds no rows")
    header: tuple[str, ...] | None = None
    records: list[Record] = []
    for index, (line, row) in enumerate(rows, start=1):
        where = f"row {index}"
        if not isinstance(row, dict):
            raise PolicyLoadError(name, line, f"{where} is not an object of column: value")
        columns = _header(list(row), name, line)
        if header is None:
            header = columns
        elif set(columns) != set(header):
            missing = sorted(set(header) - set(columns))
            extra = sorted(set(columns) - set(header))
            raise PolicyLoadError(
                name,
                line,
                f"{where} has other columns than row 1"
                + (f"; lacks {', '.join(missing)}" if missing else "")
                + (f"; adds {', '.join(extra)}" if extra else ""),
            )
        values: dict[str, str] = {}
        for (key, value), column in zip(row.items(), columns, strict=True):
            values[column] = _json_value(value, name, line, f"{where}, column {key}")
        records.append((line, where, values))
    assert header is not None  # rows is not empty
    return header, records, records[0][0]


def _json_rows(decoder: json.JSONDecoder, text: str, name: str) -> Iterator[tuple[int, Any]]:
    """Each element of the top-level array with the line it starts on."""
    space = re.compile(r"[ \t\n\r]*")

    def skip(at: int) -> int:
        found = space.match(text, at)
        assert found is not None  # the pattern matches the empty string
        return found.end()

    def line_of(at: int) -> int:
        return text.count("\n", 0, at) + 1

    at = skip(0)
    if not text.startswith("[", at):
        raise PolicyLoadError(name, line_of(at), "a platform catalogue in JSON is an array")
    at = skip(at + 1)
    if text.startswith("]", at):
        at += 1
    else:
        while True:
            try:
                value, end = decoder.raw_decode(text, at)
            except json.JSONDecodeError as exc:
                raise PolicyLoadError(name, exc.lineno, exc.msg) from None
            except ValueError as exc:
                raise PolicyLoadError(name, line_of(at), str(exc)) from None
            except InvalidOperation:  # a number no exact decimal holds (1e9999999999999999999)
                raise PolicyLoadError(name, line_of(at), OUT_OF_RANGE) from None
            yield line_of(at), value
            at = skip(end)
            if text.startswith(",", at):
                at = skip(at + 1)
                continue
            if text.startswith("]", at):
                at += 1
                break
            raise PolicyLoadError(name, line_of(at), "expected ',' or ']' after a row")
    if skip(at) != len(text):
        raise PolicyLoadError(name, line_of(skip(at)), "text after the array")


def _json_value(value: Any, name: str, line: int, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, Decimal):
        raise PolicyLoadError(
            name, line, f"{where}: {value} is a number with a fraction; give codes as text"
        )
    raise PolicyLoadError(name, line, f"{where}: {type(value).__name__} is not a column value")


def _check_columns(
    header: tuple[str, ...], spec: PlatformList, column: str, name: str, line: int | None
) -> str:
    """Every column is one the list has; the required ones are there (``line``: where the
    columns are named, the header line or the first JSON row). The name column."""
    known = _COMMON | spec.extra | set(spec.codes) | {n for ns in spec.codes.values() for n in ns}
    unknown = [c for c in header if c not in known]
    if unknown:
        raise PolicyLoadError(
            name,
            line,
            f"column {unknown[0]} is not a column of platform list {spec.number} "
            f"(its columns: {', '.join(sorted(known))})",
        )
    for required in ("VALI_FLAG", "VER", column):
        if required not in header:
            raise PolicyLoadError(
                name, line, f"column {required} is missing (list {spec.number} needs it)"
            )
    for candidate in spec.codes[column]:
        if candidate in header:
            return candidate
    raise PolicyLoadError(
        name, line, f"column {' or '.join(spec.codes[column])} (naming {column}) is missing"
    )


def _version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """Digit runs compare as numbers, other runs as text: ``V10`` is above ``V9``."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.findall(r"\d+|\D+", version)
    )


def _entries(
    records: list[Record], name: str, column: str, name_column: str
) -> tuple[tuple[CatalogueEntry, ...], str, int]:
    entries: list[CatalogueEntry] = []
    first: dict[str, tuple[str, str]] = {}  # normalised code -> (name, where)
    by_rid: dict[str, tuple[dict[str, str], str]] = {}
    version: str | None = None
    for line, where, values in records:
        flag = values["VALI_FLAG"]
        if flag not in ("0", "1"):
            raise PolicyLoadError(
                name, line, f"{where}, column VALI_FLAG: {flag!r} is neither 1 (valid) nor 0"
            )
        rid = values.get("RID", "")
        if rid:
            seen = by_rid.get(rid)
            if seen is not None and seen[0] != values:
                raise PolicyLoadError(
                    name, line, f"{where}: RID {rid} is also on {seen[1]}, with other content"
                )
            by_rid.setdefault(rid, (values, where))
        if flag == "0":
            continue
        for required in (column, name_column, "VER"):
            if not values[required]:
                raise PolicyLoadError(
                    name, line, f"{where}, column {required}: empty on a valid row"
                )
        code, label, ver = values[column], values[name_column], values["VER"]
        if version is None or _version_key(ver) > _version_key(version):
            version = ver
        key = code.upper()
        known = first.get(key)
        if known is not None:
            if known[0] != label:
                raise PolicyLoadError(
                    name,
                    line,
                    f"{where}, column {name_column}: code {code} is named {label!r} here "
                    f"and {known[0]!r} on {known[1]}",
                )
            continue
        first[key] = (label, where)
        entries.append(CatalogueEntry(code=code, name=label))
    if version is None:
        raise PolicyLoadError(name, None, "no row has VALI_FLAG 1: the catalogue would be empty")
    return tuple(entries), version, len(records)
