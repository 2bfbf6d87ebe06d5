"""Rule values are read strictly: what YAML 1.1 would silently turn into another value is
a load error at file:line; values a rule kind cannot take are load errors too."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from daycare_settle import PolicyLoadError, load_policy
from daycare_settle.policy.registry import rules_root
from daycare_settle.policy.yaml_source import read_yaml, resolve_plain

PANZHIHUA = rules_root() / "panzhihua" / "panyibaogui-2024-2.yaml"
TEXT = PANZHIHUA.read_text(encoding="utf-8")
LIMIT = "time_limit: {kind: stay_hours, limit_hours: 24, extended_limit_hours: 48, source: art3}"
LOADERS = [yaml.SafeLoader, *([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(PANZHIHUA.parent / "catalogues", tmp_path / "catalogues")
    return tmp_path


def refused(folder: Path, text: str) -> PolicyLoadError:
    path = folder / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(path)
    assert caught.value.file == str(path.resolve())
    return caught.value


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def with_limit(value: str) -> str:
    """The Panzhihua file with the first day-surgery ``limit_hours`` set to ``value``."""
    assert TEXT.count(LIMIT) == 2
    return TEXT.replace(LIMIT, LIMIT.replace("limit_hours: 24,", f"limit_hours: {value},"), 1)


# --- the YAML layer ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("false", False),
        ("null", None),
        ("~", None),
        ("", None),
        ("24", 24),
        ("0", 0),
        ("-7", -7),
        ("+5", 5),
        ("2024-11-12", dt.date(2024, 11, 12)),
        ("C34", "C34"),
        ("day_surgery", "day_surgery"),
        ("=", "="),
    ],
)
def test_plain_scalars_that_are_accepted(text: str, value: Any) -> None:
    resolved = resolve_plain(text)
    assert resolved == value
    assert type(resolved) is type(value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("yes", "not a boolean"),
        ("no", "not a boolean"),
        ("on", "not a boolean"),
        ("Off", "not a boolean"),
        ("True", "not a boolean"),
        ("FALSE", "not a boolean"),
        ("Null", "not null"),
        ("NULL", "not null"),
        ("24:00", "not a plain decimal integer"),
        ("1:30:00", "not a plain decimal integer"),
        ("0x18", "not a plain decimal integer"),
        ("0o30", "not a plain decimal integer"),
        ("0b11000", "not a plain decimal integer"),
        ("030", "not a plain decimal integer"),
        ("1_000", "not a plain decimal integer"),
        ("24.0", "floating-point"),
        ("1e3", "floating-point"),
        ("1.5e3", "floating-point"),
        (".inf", "floating-point"),
        ("-.inf", "floating-point"),
        (".nan", "floating-point"),
        ("2024-1-5", "ISO form"),
        ("2024-11-12 08:00:00", "ISO form"),
        ("2024-11-12T08:00:00Z", "ISO form"),
        ("2024-13-45", "not a valid date"),
        ("9" * 5000, "too large"),
        ("<<", "merge key"),
    ],
)
def test_plain_scalars_that_are_refused(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        resolve_plain(text)


@pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.__name__)
@pytest.mark.parametrize(
    ("text", "data"),
    [
        ('a: "yes"\nb: \'24:00\'\nc: "1.5"\n', {"a": "yes", "b": "24:00", "c": "1.5"}),
        ("a: !!str yes\nb: ! 24\n", {"a": "yes", "b": "24"}),
        ("a: |\n  true\n", {"a": "true\n"}),
        ("x: &v [1, 2]\ny: *v\n", {"x": [1, 2], "y": [1, 2]}),
    ],
)
def test_quoted_and_str_tagged_scalars_are_text(loader: Any, text: str, data: Any) -> None:
    assert read_yaml(text, "f.yaml", loader=loader).data == data


@pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.__name__)
@pytest.mark.parametrize(
    "text",
    ['a: !!int "24"\n', "a: !!bool yes\n", "a: !!float 1\n", "a: !!timestamp 2024-01-01\n"],
)
def test_explicit_scalar_tags_are_refused(loader: Any, text: str) -> None:
    with pytest.raises(PolicyLoadError, match="is not allowed"):
        read_yaml(text, "f.yaml", loader=loader)


@pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.__name__)
def test_a_refused_scalar_names_its_line(loader: Any) -> None:
    with pytest.raises(PolicyLoadError) as caught:
        read_yaml("a: 1\nb:\n  c: yes\n", "f.yaml", loader=loader)
    assert (caught.value.file, caught.value.line) == ("f.yaml", 3)
    assert "'yes' is not a boolean here" in caught.value.message


# --- rule files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("yes", "not a boolean"),  # YAML 1.1: 1 hour
        ("true", "valid integer"),  # a boolean is not an integer
        ("24:00", "not a plain decimal integer"),  # YAML 1.1: 1440 hours
        ("0x18", "not a plain decimal integer"),
        ("024", "not a plain decimal integer"),  # YAML 1.1: octal 20
        ("24.0", "floating-point"),
        ('"24"', "valid integer"),  # text is not an integer
        ("1000000000000", "less than or equal to 8784"),  # not an OverflowError at settle time
        ("0", "greater than 0"),
    ],
)
def test_limit_hours_is_a_plain_bounded_integer(folder: Path, value: str, reason: str) -> None:
    text = with_limit(value)
    error = refused(folder, text)
    assert error.line == line_of(text, f"limit_hours: {value},")
    assert reason in error.message


def test_a_limit_of_a_year_of_hours_loads(folder: Path) -> None:
    text = with_limit("8000").replace("extended_limit_hours: 48", "extended_limit_hours: 8784", 1)
    (folder / "rules.yaml").write_text(text, encoding="utf-8")
    rule = load_policy(folder / "rules.yaml").rules.programmes["day_surgery"].time_limit
    assert (rule.limit_hours, rule.extended_limit_hours) == (8000, 8784)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "reason"),
    [("1", "valid boolean"), ("yes", "not a boolean"), ('"true"', "valid boolean")],
)
def test_flags_are_true_or_false(folder: Path, value: str, reason: str) -> None:
    old = "        same_institution: true\n"
    text = TEXT.replace(old, f"        same_institution: {value}\n", 1)
    error = refused(folder, text)
    assert error.line == line_of(text, f"same_institution: {value}")
    assert reason in error.message


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('"2024-11-12"', "valid date"),  # text is not a date
        ("1731369600", "valid date"),  # nor a Unix time
        ("2024-11-12T00:00:00", "ISO form"),
        ("2024-11-1", "ISO form"),
    ],
)
def test_dates_are_iso_dates(folder: Path, value: str, reason: str) -> None:
    text = TEXT.replace("effective_from: 2024-11-12", f"effective_from: {value}", 1)
    error = refused(folder, text)
    assert error.line == line_of(text, "effective_from")
    assert reason in error.message


def test_a_float_amount_is_refused(folder: Path) -> None:
    text = (PANZHIHUA.parent.parent / "jining" / "jiyibaozi-2021-44.yaml").read_text("utf-8")
    shutil.copytree(rules_root() / "jining" / "catalogues", folder / "jn", dirs_exist_ok=True)
    text = text.replace('quota: "8500.00"', "quota: 8500.10")
    error = refused(folder, text)
    assert error.line == line_of(text, "quota: 8500.10")
    assert "floating-point" in error.message


def test_days_window_is_bounded(folder: Path) -> None:
    text = TEXT.replace("          days: 7\n", "          days: 100000\n", 1)
    error = refused(folder, text)
    assert error.line == line_of(text, "days: 100000")
    assert "less than or equal to 366" in error.message
