"""The command line as a process: closed or full standard streams, broken pipes, the
locale. Each case exits non-zero with one message on standard error, never a traceback and
never a silent exit 0 (or, for the locale, gives the same bytes as a UTF-8 locale)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "panzhihua" / "day-chemo-breast-cancer.json"
EXPECTED = EXAMPLE.with_name("day-chemo-breast-cancer.expected.json")
TIMEOUT = 60
EXIT_INPUT = 2  # the documented exit statuses (cli module docstring, README)
EXIT_OUTPUT = 74


def environment(**changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "PYTHON"))}
    env.pop("LANG", None)
    env["PYTHONPATH"] = str(ROOT / "src")
    env.update(changes)
    return env


def run(
    *args: str, redirect: str = "", env: dict[str, str] | None = None, **options: Any
) -> subprocess.CompletedProcess[bytes]:
    """``python -m daycare_settle.cli ARGS``, with a shell redirection such as ``<&-``."""
    command = [sys.executable, "-m", "daycare_settle.cli", *args]
    if redirect:
        command = ["sh", "-c", f'exec "$@" {redirect}', "sh", *command]
    options.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        command,
        stderr=subprocess.PIPE,
        env=env or environment(),
        timeout=TIMEOUT,
        check=False,
        cwd=ROOT,
        **options,
    )


def one_message(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace")
    assert "Traceback" not in text
    assert "Exception ignored" not in text
    assert text.count("\n") == 1, text
    assert text.startswith("daycare-settle")
    return text


def test_closed_stdin_is_one_message() -> None:
    done = run("settle", "-", "--policy", "panzhihua", redirect="<&-")
    assert done.returncode == EXIT_INPUT
    assert "<stdin>: [invalid_episode]" in one_message(done.stderr)
    assert "standard input" in done.stderr.decode()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_full_stdout_exits_74() -> None:
    with open("/dev/full", "wb") as full:
        done = run("settle", str(EXAMPLE), "--policy", "panzhihua", stdout=full)
    assert done.returncode == EXIT_OUTPUT
    assert "No space left on device" in one_message(done.stderr)


def test_closed_stdout_exits_74_not_silently_0() -> None:
    done = run("settle", str(EXAMPLE), "--policy", "panzhihua", redirect=">&-", stdout=None)
    assert done.returncode == EXIT_OUTPUT
    assert "standard output is closed" in one_message(done.stderr)


@pytest.mark.parametrize("extra", [[], ["--explain"]])
def test_broken_pipe_exits_74_with_one_message(extra: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone, as after `| head -c 10`
    try:
        done = run("settle", str(EXAMPLE), "--policy", "panzhihua", *extra, stdout=write_end)
    finally:
        os.close(write_end)
    assert done.returncode == EXIT_OUTPUT
    assert "broken pipe" in one_message(done.stderr)


def test_examples_into_a_broken_pipe_exits_74() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = run("examples", "examples", stdout=write_end)
    finally:
        os.close(write_end)
    assert done.returncode == EXIT_OUTPUT
    one_message(done.stderr)


LOCALES = [
    pytest.param({"PYTHONIOENCODING": "latin-1"}, id="PYTHONIOENCODING=latin-1"),
    pytest.param({"PYTHONIOENCODING": "ascii"}, id="PYTHONIOENCODING=ascii"),
    pytest.param(
        {"LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}, id="LC_ALL=C-uncoerced"
    ),
    pytest.param({"LC_ALL": "C"}, id="LC_ALL=C"),
]


def non_ascii_episode() -> bytes:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["episode_id"] = "攀枝花-é-0004"
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("locale", LOCALES)
def test_stdin_is_read_as_utf8_in_any_locale(locale: dict[str, str]) -> None:
    body = non_ascii_episode()
    reference = run("settle", "-", "--policy", "panzhihua", input=body)
    assert reference.returncode == 0
    assert "攀枝花-é-0004".encode() in reference.stdout
    done = run("settle", "-", "--policy", "panzhihua", input=body, env=environment(**locale))
    assert done.stderr == b""
    assert done.returncode == 0
    assert done.stdout == reference.stdout  # the JSON is UTF-8 whatever the locale


@pytest.mark.parametrize("locale", LOCALES)
def test_explain_in_any_locale_escapes_what_it_cannot_encode(locale: dict[str, str]) -> None:
    done = run(
        "settle", str(EXAMPLE), "--policy", "panzhihua", "--explain", env=environment(**locale)
    )
    assert done.returncode == 0
    assert done.stderr == b""
    assert b"Episode PZH-DC-2025-0004 under panzhihua " in done.stdout


def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "episode.json"
    os.mkfifo(fifo)
    done = run("settle", str(fifo), "--policy", "panzhihua")
    assert done.returncode == EXIT_INPUT
    assert "not a regular file (a FIFO)" in one_message(done.stderr)


def test_stdin_that_is_not_utf8_is_one_message() -> None:
    body = non_ascii_episode().decode("utf-8").replace("攀枝花-", "").encode("latin-1")
    done = run("settle", "-", "--policy", "panzhihua", input=body)
    assert done.returncode == EXIT_INPUT
    assert "not UTF-8 text: byte 0xe9" in one_message(done.stderr)


def test_expected_file_is_what_settle_prints() -> None:
    done = run("settle", str(EXAMPLE), "--policy", "panzhihua")
    assert done.returncode == 0
    assert done.stdout == EXPECTED.read_bytes()


@pytest.mark.parametrize(
    "args", [[], ["settle"], ["settle", str(EXAMPLE)], ["examples", "--check", "--update"]]
)
def test_usage_errors_are_one_message(args: list[str]) -> None:
    done = run(*args)
    assert done.returncode == EXIT_INPUT
    assert "error:" in one_message(done.stderr)
    assert done.stdout == b""


def test_control_characters_from_the_episode_never_reach_the_terminal(tmp_path: Path) -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["episode_id"] = "EP\x1b]0;owned\x07\u202e"
    data["charges"][0]["id"] = "C\x1b[2J"
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    done = run("settle", str(path), "--policy", "panzhihua", "--explain")
    written = done.stdout + done.stderr
    assert b"\x1b" not in written
    assert b"\x07" not in written
    assert "\u202e".encode() not in written
    # shown escaped when explained, or named (U+001B) when the identifier is refused
    assert b"\\x1b" in written or b"U+001B" in written
    if done.returncode != 0:
        one_message(done.stderr)
