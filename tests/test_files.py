"""Input files are read only when they are regular files within a size limit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from daycare_settle.files import UnreadableFile, read_bounded


def test_reads_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(b"x: 1\n")
    assert read_bounded(path, limit=10) == b"x: 1\n"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "a directory"),
        (os.mkfifo, "a FIFO"),
        (lambda p: p.symlink_to("/dev/zero"), "a character device"),
        (lambda p: None, "No such file"),
        (lambda p: p.write_bytes(b"x" * 11), "larger than the limit"),
    ],
    ids=["directory", "fifo", "link-to-dev-zero", "missing", "too-large"],
)
def test_refuses_what_is_not_a_small_regular_file(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "input"
    make(path)
    with pytest.raises(UnreadableFile, match=message):
        read_bounded(path, limit=10)


def test_refuses_a_path_with_nul() -> None:
    with pytest.raises(UnreadableFile, match="NUL"):
        read_bounded("rules\x00.yaml", limit=10)
