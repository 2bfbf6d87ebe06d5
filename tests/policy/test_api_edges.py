"""The edges of the API: an argument of the wrong type or form is a clear library error,
never an AttributeError, TypeError or ValueError from inside."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

from daycare_settle import (
    DaycareSettleError,
    InvalidArgument,
    PolicyLoadError,
    UnknownPolicy,
    load_policy,
    settle,
)
from daycare_settle.policy.registry import rules_root
from tests import builders

PZH = rules_root() / "panzhihua" / "panyibaogui-2024-2.yaml"
WRONG_TYPES = [None, b"panzhihua", bytearray(b"x"), 42, True, 1.5, ["panzhihua"], {"id": 1}]


@pytest.mark.parametrize("policy", WRONG_TYPES, ids=repr)
def test_settle_refuses_a_policy_of_the_wrong_type(policy: Any) -> None:
    with pytest.raises(InvalidArgument) as caught:
        settle(builders.episode(), policy)
    assert caught.value.code == "invalid_argument"
    assert "policy=" in caught.value.message
    assert type(policy).__name__ in caught.value.message


@pytest.mark.parametrize("policy", WRONG_TYPES, ids=repr)
def test_load_policy_refuses_a_policy_of_the_wrong_type(policy: Any) -> None:
    with pytest.raises(InvalidArgument):
        load_policy(policy)


def test_invalid_argument_is_a_library_error_and_a_type_error() -> None:
    assert issubclass(InvalidArgument, DaycareSettleError)
    assert issubclass(InvalidArgument, TypeError)


@pytest.mark.parametrize(
    "on",
    [dt.datetime(2025, 1, 1, 8, 0), "2025-01-01", 20250101, 1.5, [2025, 1, 1]],
    ids=repr,
)
def test_load_policy_refuses_on_that_is_not_a_date(on: Any) -> None:
    with pytest.raises(InvalidArgument, match=r"on= must be a datetime\.date"):
        load_policy("panzhihua", on=on)


@pytest.mark.parametrize("path", ["rules\x00.yaml", Path("a\x00b.yaml"), "panzhihua\x00"], ids=repr)
def test_a_path_with_nul_is_refused(path: Any) -> None:
    with pytest.raises((PolicyLoadError, UnknownPolicy)) as caught:
        load_policy(path)
    if isinstance(path, Path) or str(path).endswith(".yaml"):
        assert isinstance(caught.value, PolicyLoadError)
        assert "NUL" in caught.value.message


@pytest.mark.parametrize("as_text", [False, True])
def test_a_directory_is_not_a_rule_file(tmp_path: Path, as_text: bool) -> None:
    folder = tmp_path / "city.yaml"
    folder.mkdir()
    with pytest.raises(PolicyLoadError, match="not a regular file \\(a directory\\)"):
        load_policy(str(folder) if as_text else folder)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_not_a_rule_file(tmp_path: Path) -> None:
    fifo = tmp_path / "rules.yaml"
    os.mkfifo(fifo)
    with pytest.raises(PolicyLoadError, match="a FIFO"):
        settle(builders.episode(), fifo)


def test_a_missing_rule_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(tmp_path / "missing.yaml")
    assert caught.value.file.endswith("missing.yaml")
    assert "cannot open" in caught.value.message


def test_a_path_like_that_is_not_a_path_object_is_accepted() -> None:
    class Where:
        def __fspath__(self) -> str:
            return str(PZH)

    assert load_policy(Where()).id == "panzhihua"  # type: ignore[arg-type]
