"""Platform catalogue downloads (1310/1311/1314/1315) read as catalogues (issue #11).

The samples under ``data/platform/`` are invented, shaped as public HIS code spells the
platform's columns (docs/platform-catalogues.md); each has rows with ``VALI_FLAG`` 0.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from daycare_settle import PolicyLoadError, load_policy, settle
from daycare_settle.models.common import CodeSystem
from daycare_settle.models.episode import Code
from daycare_settle.policy.loader import Catalogue, _CatalogueIndex
from daycare_settle.policy.platform_catalogues import (
    PlatformCatalogue,
    read_platform_catalogue,
)
from daycare_settle.policy.registry import rules_root
from daycare_settle.policy.schema import CatalogueFormat, CodeSystemName
from daycare_settle.verify import verify
from tests.builders import EXAMPLES

DATA = Path(__file__).parent / "data" / "platform"
PANZHIHUA = rules_root() / "panzhihua"
RULE_FILE = "panyibaogui-2024-2.yaml"
YAML_REF = """  day_surgery_procedures:
    file: catalogues/day-surgery-procedures.yaml
    source: art6_1
"""
PLATFORM_REF = """  day_surgery_procedures:
    file: catalogues/{name}
    format: platform-1311
    column: {column}
    system: ICD-9-CM-3
    source: art6_1
"""
DAY_SURGERY = sorted(
    path
    for path in (EXAMPLES / "panzhihua").glob("day-surgery-*.json")
    if not path.name.endswith(".expected.json")
)


def read(
    name: str, form: CatalogueFormat, column: str, system: CodeSystemName = "ICD-9-CM-3"
) -> Catalogue:
    path = DATA / name
    read_ = read_platform_catalogue("sample", path, path.read_bytes(), form, column, system)
    return Catalogue("sample", read_.header, str(path), "0" * 64, read_.entries, form)


def read_1311(path: Path) -> PlatformCatalogue:
    return read_platform_catalogue(
        "x", path, path.read_bytes(), "platform-1311", "QUA_OPRN_OPRT_CODE", "ICD-9-CM-3"
    )


def code(text: str, system: CodeSystem = CodeSystem.ICD_9_CM_3) -> Code:
    return Code(system=system, code=text)


# --- each sample loads; invalid rows are left out ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "form", "column", "system", "entries", "version"),
    [
        (
            "1311-day-surgery.json",
            "platform-1311",
            "QUA_OPRN_OPRT_CODE",
            "ICD-9-CM-3",
            11,
            "20240315",
        ),
        (
            "1311-day-surgery.txt",
            "platform-1311",
            "QUA_OPRN_OPRT_CODE",
            "ICD-9-CM-3",
            11,
            "20240315",
        ),
        (
            "1311-day-surgery.json",
            "platform-1311",
            "DAYSRG_DISE_LIST_CODE",
            "ICD-10",
            10,
            "20240315",
        ),
        ("1310-by-disease.txt", "platform-1310", "BYDISE_SETL_LIST_CODE", "ICD-10", 3, "2023002"),
        ("1314-tcm-diseases.json", "platform-1314", "DISE_TYPE_CODE", "TCD", 3, "V2.0"),
        ("1315-tcm-syndromes.txt", "platform-1315", "SDS_TYPE_CODE", "TCD", 2, "V1.10"),
    ],
)
def test_each_sample_loads_its_valid_rows_with_the_highest_version(
    name: str,
    form: CatalogueFormat,
    column: str,
    system: CodeSystemName,
    entries: int,
    version: str,
) -> None:
    catalogue = read(name, form, column, system)
    assert len(catalogue.entries) == entries
    assert catalogue.header.version == version
    assert catalogue.header.system == system
    assert catalogue.header.status == "official"


def test_the_json_and_text_forms_of_one_download_give_the_same_entries() -> None:
    as_json = read("1311-day-surgery.json", "platform-1311", "QUA_OPRN_OPRT_CODE")
    as_text = read("1311-day-surgery.txt", "platform-1311", "QUA_OPRN_OPRT_CODE")
    assert as_json.entries == as_text.entries


def test_a_code_only_on_a_row_with_vali_flag_0_does_not_match() -> None:
    catalogue = read("1311-day-surgery.json", "platform-1311", "QUA_OPRN_OPRT_CODE")
    assert catalogue.match(code("51.22")) is None  # 开腹胆囊切除: VALI_FLAG 0
    assert catalogue.match(code("86.3")) is None  # only on a VALI_FLAG 0 row
    found = catalogue.match(code("51.2300x001"))  # matched by prefix, as every catalogue
    assert found is not None
    assert found.name == "腹腔镜下胆囊切除术"


def test_tcm_codes_match_in_their_own_system_only() -> None:
    diseases = read("1314-tcm-diseases.json", "platform-1314", "DISE_TYPE_CODE", "TCD")
    assert diseases.match(code("ILL.TCD.02", CodeSystem.TCD)) is not None
    assert diseases.match(code("ILL.TCD.09", CodeSystem.TCD)) is None  # VALI_FLAG 0
    assert diseases.match(code("ILL.TCD.02", CodeSystem.ICD_10)) is None
    syndromes = read("1315-tcm-syndromes.txt", "platform-1315", "SDS_TYPE_CODE", "TCD")
    assert syndromes.match(code("ILL.SDS.01", CodeSystem.TCD)) is not None
    assert syndromes.match(code("ILL.SDS.08", CodeSystem.TCD)) is None


# --- a policy using a platform-1311 catalogue ---------------------------------------------------


def rule_tree(tmp_path: Path, ref: str | None) -> Path:
    """Panzhihua's rule tree copied, its day-surgery catalogue declared as ``ref``."""
    shutil.copytree(PANZHIHUA, tmp_path / "panzhihua")
    folder = tmp_path / "panzhihua"
    for sample in DATA.iterdir():
        shutil.copy(sample, folder / "catalogues" / sample.name)
    rule_file = folder / RULE_FILE
    text = rule_file.read_text(encoding="utf-8")
    assert text.count(YAML_REF) == 1
    if ref is not None:
        rule_file.write_text(text.replace(YAML_REF, ref), encoding="utf-8")
    return rule_file


def platform_tree(tmp_path: Path, name: str = "1311-day-surgery.json") -> Path:
    return rule_tree(tmp_path, PLATFORM_REF.format(name=name, column="QUA_OPRN_OPRT_CODE"))


def decisions(result: Any) -> dict[str, Any]:
    data = json.loads(result.to_json())
    return {
        key: data[key]
        for key in ("status", "settled_as", "time_limit", "payment", "lines", "totals")
    } | {"rejections": [reason["code"] for reason in data["rejection_reasons"]]}


def cholecystectomy_with(procedure: str) -> dict[str, Any]:
    path = EXAMPLES / "panzhihua" / "day-surgery-cholecystectomy-preop-exams.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["procedures"] = [{**data["procedures"][0], "code": procedure}]
    return data


@pytest.mark.parametrize("episode", DAY_SURGERY, ids=lambda p: p.stem)
def test_pzh_6_1_a_1311_catalogue_settles_as_the_equivalent_yaml_catalogue(
    tmp_path: Path, episode: Path
) -> None:
    yaml_policy = rule_tree(tmp_path / "yaml", None)
    platform_policy = platform_tree(tmp_path / "platform")
    text = episode.read_text(encoding="utf-8")
    assert decisions(settle(text, platform_policy)) == decisions(settle(text, yaml_policy))


@pytest.mark.parametrize("procedure", ["51.22", "86.3", "51.23"])
def test_pzh_6_1_a_procedure_on_an_invalid_row_is_not_in_the_catalogue(
    tmp_path: Path, procedure: str
) -> None:
    yaml_policy = rule_tree(tmp_path / "yaml", None)
    platform_policy = platform_tree(tmp_path / "platform")
    episode = cholecystectomy_with(procedure)
    under_platform = settle(episode, platform_policy)
    assert decisions(under_platform) == decisions(settle(episode, yaml_policy))
    rejected = "NOT_IN_CATALOGUE" in decisions(under_platform)["rejections"]
    assert rejected == (procedure != "51.23")


def test_the_catalogue_version_lands_in_the_result(tmp_path: Path) -> None:
    episode = DAY_SURGERY[0].read_text(encoding="utf-8")
    result = settle(episode, platform_tree(tmp_path))
    versions = {c.key: c for c in result.policy.catalogues}
    assert [c.key for c in result.policy.catalogues] == sorted(versions)
    platform = versions["day_surgery_procedures"]
    assert (platform.id, platform.version, platform.format, platform.file) == (
        "day_surgery_procedures",
        "20240315",
        "platform-1311",
        "catalogues/1311-day-surgery.json",
    )
    assert versions["chemo_diseases"].format == "yaml"
    assert versions["chemo_diseases"].version == "starter-2026.1"
    paths = {f.path for f in result.policy.files}
    assert "catalogues/1311-day-surgery.json" in paths
    assert "catalogues/day-surgery-procedures.yaml" not in paths


def test_verify_names_a_catalogue_whose_version_changed(tmp_path: Path) -> None:
    rule_file = platform_tree(tmp_path)
    episode = DAY_SURGERY[0].read_text(encoding="utf-8")
    stored = settle(episode, rule_file).to_json()
    sample = rule_file.parent / "catalogues" / "1311-day-surgery.json"
    sample.write_text(
        sample.read_text(encoding="utf-8").replace('"20240315"', '"20240401"'),
        encoding="utf-8",
    )
    outcome = verify(stored, episode, policy=rule_file)
    assert outcome.rules_changed
    assert outcome.catalogues_changed == (
        "day_surgery_procedures: version stored 20240315 (platform-1311), "
        "now 20240401 (platform-1311)",
    )
    assert "  catalogue day_surgery_procedures: version stored 20240315" in outcome.text()


# --- the rule file's declaration -------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (
            PLATFORM_REF.format(name="1311-day-surgery.json", column="BYDISE_SETL_LIST_CODE"),
            "'BYDISE_SETL_LIST_CODE' is not a code column of platform-1311",
        ),
        (
            "  day_surgery_procedures:\n    file: catalogues/1311-day-surgery.json\n"
            "    format: platform-1311\n    source: art6_1\n",
            "needs 'column'",
        ),
        (
            "  day_surgery_procedures:\n    file: catalogues/day-surgery-procedures.yaml\n"
            "    column: QUA_OPRN_OPRT_CODE\n    source: art6_1\n",
            "describe a platform catalogue",
        ),
        (
            "  day_surgery_procedures:\n    file: catalogues/1311-day-surgery.json\n"
            "    format: platform-9999\n    column: X\n    system: TCD\n    source: art6_1\n",
            "format",
        ),
    ],
)
def test_a_wrong_declaration_is_a_load_error_in_the_rule_file(
    tmp_path: Path, ref: str, message: str
) -> None:
    rule_file = rule_tree(tmp_path, ref)
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(rule_file)
    assert caught.value.file == str(rule_file)
    assert caught.value.line is not None
    assert message in str(caught.value)


# --- bad files: file, line and column named --------------------------------------------------

TEXT_SAMPLE = (DATA / "1311-day-surgery.txt").read_text(encoding="utf-8")
JSON_SAMPLE = (DATA / "1311-day-surgery.json").read_text(encoding="utf-8")
ROW_4 = TEXT_SAMPLE.splitlines()[3]  # line 4: RJ0002, 53.0, valid


def text_with_line_4(new: str) -> str:
    lines = TEXT_SAMPLE.splitlines()
    lines[3] = new
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (text_with_line_4(ROW_4.replace("\t1\t", "\t2\t")), 4, "column VALI_FLAG: '2'"),
        (text_with_line_4(ROW_4.replace("\t1\t", "\tY\t")), 4, "column VALI_FLAG: 'Y'"),
        (
            text_with_line_4(ROW_4.replace("\t53.0\t", "\t\t")),
            4,
            "column QUA_OPRN_OPRT_CODE: empty",
        ),
        (text_with_line_4(ROW_4.replace("\t20240101\t", "\t\t")), 4, "column VER: empty"),
        (
            text_with_line_4(ROW_4 + "\textra"),
            4,
            "12 tab-separated fields, but the header names 11",
        ),
        (
            text_with_line_4(ROW_4.replace("\t53.0\t", "\t51.23\t")),
            4,
            "column QUA_OPRN_OPRT_NAME: code 51.23 is named '单侧腹股沟疝修补术' here and "
            "'腹腔镜下胆囊切除术' on line 2",
        ),
        (
            text_with_line_4(ROW_4.replace("R131100003", "R131100001")),
            4,
            "RID R131100001 is also on line 2, with other content",
        ),
        (TEXT_SAMPLE.replace("ver_name", "begndate", 1), 1, "column BEGNDATE is not a column"),
        (TEXT_SAMPLE.replace("\tver\t", "\tver_x\t", 1), 1, "column VER_X is not a column"),
        (TEXT_SAMPLE.replace("rid\t", "ver\t", 1), 1, "column VER is given twice"),
        (TEXT_SAMPLE.replace("\t1\t", "\t0\t"), None, "no row has VALI_FLAG 1"),
        ("", None, "the file is empty"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 90 else "",
)
def test_a_bad_text_file_is_refused_naming_line_and_column(
    tmp_path: Path, text: str, line: int | None, message: str
) -> None:
    path = tmp_path / "1311.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyLoadError) as caught:
        read_1311(path)
    assert caught.value.file == str(path)
    assert caught.value.line == line
    assert message in str(caught.value)


def test_a_missing_required_column_is_refused(tmp_path: Path) -> None:
    rows = json.loads(JSON_SAMPLE)
    for row in rows:
        del row["VALI_FLAG"]
    path = tmp_path / "1311.json"
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    with pytest.raises(PolicyLoadError, match="column VALI_FLAG is missing") as caught:
        read_1311(path)
    assert caught.value.line == 2  # the first row, where the columns are named


def json_row_2(change: str, to: str) -> str:
    """The JSON sample with the first ``change`` in row 2 (from line 15) replaced."""
    start = JSON_SAMPLE.index("{", JSON_SAMPLE.index("}"))
    at = JSON_SAMPLE.index(change, start)
    return JSON_SAMPLE[:at] + to + JSON_SAMPLE[at + len(change) :]


ROW_2_LINE = JSON_SAMPLE[: JSON_SAMPLE.index("{", JSON_SAMPLE.index("}"))].count("\n") + 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (json_row_2('"VALI_FLAG": "0"', '"VALI_FLAG": true'), "row 2, column VALI_FLAG: bool"),
        (json_row_2('"VALI_FLAG": "0"', '"VALI_FLAG": "x"'), "row 2, column VALI_FLAG: 'x'"),
        (
            json_row_2('"QUA_OPRN_OPRT_CODE": "51.22"', '"QUA_OPRN_OPRT_CODE": 51.22'),
            "a number with a fraction",
        ),
        (json_row_2('"RID": "R131100002",', ""), "row 2 has other columns than row 1; lacks RID"),
        (json_row_2('"RID": "R131100002"', '"RID": "R1", "RID": "R2"'), "'RID' is given twice"),
        (
            json_row_2('"VALI_FLAG": "0"', '"VALI_FLAG": 1e9999999999999999999'),
            "exponent is out of range for an exact decimal",
        ),
    ],
)
def test_a_bad_json_file_is_refused_naming_row_line_and_column(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "1311.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyLoadError) as caught:
        read_1311(path)
    assert caught.value.line == ROW_2_LINE
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("1311.json", '{"rows": []}', "in JSON is an array"),
        ("1311.json", "[]", "the array holds no rows"),
        ("1311.json", "[1]", "row 1 is not an object"),
        ("1311.json", '[{"VER": "1"}] x', "text after the array"),
        ("1311.json", '[{"VER": "1"} {"VER": "1"}]', "expected ',' or ']'"),
        ("1311.json", '[{"VER": "1",]', "Expecting property name"),
        ("1311.csv", "a,b\n", "cannot tell the form"),
    ],
)
def test_a_malformed_file_is_refused(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyLoadError, match=message.replace("[", r"\[").replace("(", r"\(")):
        read_1311(path)


def test_a_bad_file_named_in_a_rule_file_is_a_load_error_naming_the_catalogue(
    tmp_path: Path,
) -> None:
    rule_file = platform_tree(tmp_path, "1311-day-surgery.txt")
    sample = rule_file.parent / "catalogues" / "1311-day-surgery.txt"
    lines = sample.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace("\t1\t", "\t9\t")
    sample.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(rule_file)
    assert caught.value.file == str(sample)
    assert caught.value.line == 5


# --- a large download matches through the index -----------------------------------------------


def test_a_20000_row_download_is_indexed_by_prefix(tmp_path: Path) -> None:
    columns = ["QUA_OPRN_OPRT_CODE", "QUA_OPRN_OPRT_NAME", "VALI_FLAG", "VER"]
    rows = ["\t".join(columns)]
    rows += [f"{n // 100:03d}.{n % 100:02d}x{n:05d}\top {n}\t{n % 2}\t1" for n in range(20_000)]
    path = tmp_path / "1311.txt"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    read_ = read_1311(path)
    catalogue = Catalogue("x", read_.header, str(path), "0" * 64, read_.entries)
    assert read_.rows == 20_000
    assert len(catalogue.entries) == 10_000  # the odd rows (VALI_FLAG 1)
    assert catalogue.match(code("199.99x19999-extra")) is not None
    assert catalogue.match(code("199.99x19998")) is None  # VALI_FLAG 0
    index = catalogue.__dict__["_index"]
    assert isinstance(index, _CatalogueIndex)
    # one dict probe per character of the code, at most: no scan of the entries
    assert len(index._prefixes) == 10_000
    assert index._longest == len("199.99x19999")
    assert index._ranges == ()
