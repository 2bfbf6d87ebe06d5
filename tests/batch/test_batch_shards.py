"""The command writing a file with several workers: each worker writes its chunks' output
lines to shards beside the file, which the command appends in input order. The file, the
summary and the exit code are those of the records written one by one (``settle_many`` and
``BatchRecord.to_json``), and no shard is left behind, whatever ends the run."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from daycare_settle import UnknownPolicy, batch
from tests.batch.conftest import mixed_lines
from tests.batch.test_platform_batch import record_lines


def episode_bytes() -> bytes:
    """The mixed lines (settled, rejected, malformed, invalid, out of force, blank), twice,
    some ending in CRLF, with a line that is not UTF-8 and whitespace-only lines."""
    lines = [line.encode() for line in mixed_lines() * 2]
    lines[2] += b"\r"
    lines[15] += b"\r"
    lines.insert(4, b"\xff{")
    lines.insert(9, b"  \t")
    return b"\n".join(lines) + b"\r\n"


def run(
    tmp_path: Path, data: bytes, name: str, *, workers: int, **options: Any
) -> tuple[int, bytes, dict[str, Any]]:
    """Run the command on ``data`` in chunks of 3: exit code, output bytes and summary
    (without its timings)."""
    source, out, summary = tmp_path / "in.jsonl", tmp_path / name, tmp_path / f"{name}.sum"
    source.write_bytes(data)
    code = batch.run(
        str(source),
        "panzhihua",
        str(out),
        workers=workers,
        chunk_size=3,
        summary_file=str(summary),
        **options,
    )
    counts = json.loads(summary.read_text(encoding="utf-8"))
    del counts["elapsed_seconds"], counts["episodes_per_second"]
    return code, out.read_bytes(), counts


def shards_left(directory: Path) -> list[str]:
    return [path.name for path in directory.iterdir() if ".shards-" in path.name]


def no_records_path(*args: object, **kwargs: object) -> Iterator[batch.BatchRecord]:
    raise AssertionError("two workers writing a file go by shards, not record by record")


@pytest.mark.parametrize("fail_fast", [False, True])
@pytest.mark.parametrize("source_format", ["episode", "platform"])
def test_shards_write_the_bytes_records_write(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fail_fast: bool,
    source_format: batch.InputFormat,
) -> None:
    if source_format == "episode":
        data = episode_bytes()
    else:
        data = ("\n".join(record_lines() * 3) + "\n").encode()
    options = {"fail_fast": fail_fast, "source_format": source_format}
    one = run(tmp_path, data, "one.jsonl", workers=1, **options)
    one_err = capsys.readouterr().err
    monkeypatch.setattr(batch, "settle_many", no_records_path)
    two = run(tmp_path, data, "two.jsonl", workers=2, **options)
    two_err = capsys.readouterr().err
    assert two == one
    assert one[0] == 1  # there were error records
    assert two_err.rsplit("; ", 1)[0] == one_err.rsplit("; ", 1)[0]
    if fail_fast:
        *_, last = one[1].splitlines()
        assert json.loads(last)["status"] == "error"  # cut after the first error record
        assert one[2]["status"]["error"] == 1
    assert shards_left(tmp_path) == []


def test_no_shard_is_left_when_the_policy_is_unknown(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(episode_bytes())
    with pytest.raises(UnknownPolicy):
        batch.run(str(source), "atlantis", str(tmp_path / "out.jsonl"), workers=2)
    assert shards_left(tmp_path) == []


def test_no_shard_is_left_when_a_worker_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = batch._shard_directory

    def blocked(out: str) -> str | None:
        directory = made(out)
        assert directory is not None
        os.mkdir(os.path.join(directory, "4"))  # the second chunk's shard cannot be written
        return directory

    monkeypatch.setattr(batch, "_shard_directory", blocked)
    source = tmp_path / "in.jsonl"
    source.write_bytes(episode_bytes())
    with pytest.raises(IsADirectoryError):
        batch.run(str(source), "panzhihua", str(tmp_path / "out.jsonl"), workers=2, chunk_size=3)
    assert shards_left(tmp_path) == []


def test_interrupt_keeps_the_shards_appended_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = batch._settle_shards

    def interrupted(*args: Any, **kwargs: Any) -> Iterator[batch.Shard]:
        shards = real(*args, **kwargs)
        yield next(shards)
        shards.close()
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "_settle_shards", interrupted)
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(episode_bytes())
    assert batch.run(str(source), "panzhihua", str(out), workers=2, chunk_size=3) == 130
    first = list(batch.settle_many(mixed_lines()[:3], "panzhihua", workers=1))
    assert out.read_text(encoding="utf-8") == "".join(r.to_json() + "\n" for r in first)
    assert "interrupted after 3 episodes" in capsys.readouterr().err
    assert shards_left(tmp_path) == []


def test_a_device_or_stdout_is_written_record_by_record(tmp_path: Path) -> None:
    assert batch._shard_directory(os.devnull) is None
    directory = batch._shard_directory(str(tmp_path / "new.jsonl"))
    assert directory is not None
    assert Path(directory).parent == tmp_path
    assert Path(directory).name.startswith(".new.jsonl.shards-")


def refusing(code: int) -> Callable[..., int]:
    def refuse(*args: object) -> int:
        raise OSError(code, os.strerror(code))

    return refuse


def copy_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *unavailable: str) -> bytes:
    """Append a shard's first 5 000 bytes to a file that holds a line, with the named
    kernel copies failing as on a file system or platform without them."""
    for name in unavailable:
        monkeypatch.setattr(os, name, refusing(errno.EXDEV if "range" in name else errno.ENOSYS))
    shard, out = tmp_path / "shard", tmp_path / "out"
    shard.write_bytes(bytes(range(256)) * 40)
    out.write_bytes(b"first\n")
    with shard.open("rb") as source, out.open("r+b") as target:
        target.seek(0, os.SEEK_END)
        batch._append(source.fileno(), target.fileno(), 5000)
    return out.read_bytes()


@pytest.mark.parametrize("unavailable", [(), ("copy_file_range",), ("copy_file_range", "sendfile")])
def test_a_shard_is_appended_whichever_copy_the_system_has(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unavailable: tuple[str, ...]
) -> None:
    expected = b"first\n" + (bytes(range(256)) * 40)[:5000]
    assert copy_with(tmp_path, monkeypatch, *unavailable) == expected


def test_ctrl_c_during_a_copy_lets_the_shard_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.copy_file_range

    def signalled(source: int, target: int, count: int, offset_src: int | None = None) -> int:
        monkeypatch.setattr(os, "copy_file_range", real)
        real(source, target, 1000, offset_src)  # the signal arrives after a partial copy
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "copy_file_range", signalled)
    with pytest.raises(KeyboardInterrupt):
        copy_with(tmp_path, monkeypatch)
    assert (tmp_path / "out").read_bytes() == b"first\n" + (bytes(range(256)) * 40)[:5000]
