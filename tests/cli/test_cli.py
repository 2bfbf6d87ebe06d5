"""The command line in process: settle, --explain, examples (--check, --update), and one
clear message on bad input. What is about the process itself (pipes, closed descriptors,
locale) is in ``test_process.py``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from daycare_settle import settle
from daycare_settle.cli import explain_text, main
from tests.builders import episode, example_episodes

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def write(tmp_path: Path, body: str) -> str:
    path = tmp_path / "episode.json"
    path.write_text(body, encoding="utf-8")
    return str(path)


def test_settle_prints_settlement_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settle", write(tmp_path, json.dumps(episode())), "--policy", "panzhihua"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "settled"
    assert result["totals"]["input"] == "100.00"


def test_explain_prints_the_decisions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["settle", write(tmp_path, json.dumps(episode())), "--policy", "panzhihua", "--explain"])
    out = capsys.readouterr().out
    assert "time_limit / stay_hours: within" in out
    assert "第三条" in out
    assert "c-stay: included 100.00 of 100.00 (IN_STAY)" in out


@pytest.mark.parametrize(
    ("body", "policy", "message"),
    [
        ("{not json", "panzhihua", "malformed JSON"),
        (json.dumps(episode(programme="space")), "panzhihua", "programme"),
        (json.dumps(episode()), "atlantis", "no policy with id 'atlantis'"),
        (
            json.dumps(
                episode(
                    admitted_at="2020-01-01T08:00:00",
                    discharged_at="2020-01-01T10:00:00",
                    charges=[],
                )
            ),
            "panzhihua",
            "charges",
        ),
    ],
)
def test_bad_input_exits_2_with_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, policy: str, message: str
) -> None:
    assert main(["settle", write(tmp_path, body), "--policy", policy]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.err.count("\n") == 1


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settle", "/nonexistent/episode.json", "--policy", "panzhihua"]) == 2
    err = capsys.readouterr().err
    assert "/nonexistent/episode.json: [invalid_episode]" in err
    assert "cannot read the file: cannot open: No such file or directory" in err


def test_a_library_error_shows_one_code_and_the_file_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = write(tmp_path, "{not json")
    assert main(["settle", name, "--policy", "panzhihua"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"daycare-settle: error: {name}: [invalid_episode] ")
    assert err.count("[") == 1
    assert err.count(name) == 1
    assert "daycare_settle_error" not in err


def test_settle_refuses_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "episode.json"
    path.mkdir()
    assert main(["settle", str(path), "--policy", "panzhihua"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: [invalid_episode]" in err
    assert "not a regular file (a directory)" in err
    assert err.count("\n") == 1


def test_settle_refuses_text_that_is_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "episode.json"
    path.write_bytes(
        json.dumps(episode(episode_id="EP-\u00e9"), ensure_ascii=False).encode("latin-1")
    )
    assert main(["settle", str(path), "--policy", "panzhihua"]) == 2
    assert "not UTF-8 text: byte 0xe9" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["settle"], "the following arguments are required"),
        (["settle", "x.json"], "--policy"),
        (["frobnicate"], "invalid choice"),
        (["settle", "x.json", "--policy", "p", "--bogus"], "unrecognized arguments: --bogus"),
        (["examples", "--check", "--update"], "not allowed with argument"),
        (["settle", "-", "-", "--policy", "panzhihua"], "'-' (standard input) can be read once"),
    ],
)
def test_usage_errors_return_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2  # returned, not SystemExit
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert captured.err.count("\n") == 1
    assert "usage:" not in captured.err


def test_help_returns_0_and_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["examples", "--help"]) == 0
    assert "--check" in capsys.readouterr().out


def test_explain_shows_flags_with_their_clause(capsys: pytest.CaptureFixture[str]) -> None:
    path = EXAMPLES / "jining" / "between-sessions-infusion-violation.json"
    assert main(["settle", str(path), "--policy", "jining", "--explain"]) == 0
    out = capsys.readouterr().out
    flags = out.split("\nFlags:\n", 1)[1].strip().splitlines()
    assert flags
    assert all(line.rstrip().endswith("]") for line in flags)
    assert "BETWEEN_SESSIONS_CHARGES" in out
    assert "[三（一）]" in flags[0]


def test_explain_shows_a_missing_citation_as_such() -> None:
    result = settle(json.dumps(episode()), policy="panzhihua")
    line = result.lines[0].model_copy(update={"citation": None})
    text = explain_text(result.model_copy(update={"lines": (line, *result.lines[1:])}))
    assert f"  {line.charge_id}: " in text
    assert "[no citation]" in text


def test_explain_escapes_control_and_bidi_characters() -> None:
    result = settle(json.dumps(episode()), policy="panzhihua")
    hostile = "EP\x1b[2J\u202eevil\u200b\nnext\x85"
    line = result.lines[0].model_copy(update={"charge_id": hostile})
    text = explain_text(
        result.model_copy(update={"episode_id": hostile, "lines": (line, *result.lines[1:])})
    )
    for raw in ("\x1b", "\u202e", "\u200b", "\x85"):
        assert raw not in text
    assert "EP\\x1b[2J\\u202eevil\\u200b\\x0anext\\x85" in text
    assert "第三条" in text  # Chinese is printable: left as it is


def test_an_error_quoting_input_escapes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = write(tmp_path, '{"episode_id": "\\u001b[2J\\u202e", "bogus\\u001b": 1}')
    assert main(["settle", name, "--policy", "panzhihua"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert "\u202e" not in err
    assert "bogus\\x1b" in err
    assert err.count("\n") == 1


# --- examples ---------------------------------------------------------------------------


PLATFORM_EXAMPLES = sorted(
    path
    for path in (EXAMPLES / "platform").glob("*/*.json")
    if not path.name.endswith(".expected.json")
)


def all_examples() -> int:
    """The example inputs ``examples`` walks: episodes and platform record sets."""
    return len(example_episodes()) + len(PLATFORM_EXAMPLES)


def copy_examples(tmp_path: Path) -> Path:
    target = tmp_path / "examples"
    shutil.copytree(EXAMPLES, target)
    return target


def test_examples_all_settle_and_say_settled_rejected_failed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["examples", str(EXAMPLES)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    rejected = sum(": rejected (" in line for line in lines)
    settled = sum(": settled as " in line for line in lines)
    assert rejected > 0
    assert lines[-1] == f"{settled} settled, {rejected} rejected, 0 failed"
    assert "ERROR" not in out
    assert "FAILED" not in out
    assert ".expected.json" not in out  # expected files are not episodes


def test_examples_reports_every_file_it_cannot_settle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "examples"
    (root / "panzhihua" / "a-directory.json").mkdir(parents=True)
    (root / "panzhihua" / "binary.json").write_bytes(bytes(range(256)))
    (root / "panzhihua" / "bad.json").write_text("{not json", encoding="utf-8")
    (root / "panzhihua" / "dangling.json").symlink_to(root / "nowhere")
    (root / "panzhihua" / "good.json").write_text(json.dumps(episode()), encoding="utf-8")
    assert main(["examples", str(root)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "1 settled, 0 rejected, 4 failed"
    failed = {line.split(": ", 1)[0].rsplit("/", 1)[1] for line in out if ": FAILED [" in line}
    assert failed == {"a-directory.json", "binary.json", "bad.json", "dangling.json"}
    assert any("not a regular file (a directory)" in line for line in out)
    assert any("not UTF-8 text" in line for line in out)


def test_examples_without_episodes_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["examples", str(tmp_path)]) == 2
    assert "no example episodes" in capsys.readouterr().err


def test_examples_check_passes_on_the_bundled_examples(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["examples", str(EXAMPLES), "--check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert all(line.endswith(": match") for line in out[:-1])
    assert out[-1].endswith(f"; {len(out) - 1} match, 0 mismatch, 0 no expected result")


def test_examples_check_catches_a_tampered_expected_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_examples(tmp_path)
    expected = root / "panzhihua" / "day-chemo-breast-cancer.expected.json"
    text = expected.read_text(encoding="utf-8")
    expected.write_text(text.replace('"clause": "', '"clause": "X', 1), encoding="utf-8")
    assert main(["examples", str(root), "--check"]) == 1
    out = capsys.readouterr().out
    assert f"{root}/panzhihua/day-chemo-breast-cancer.json: MISMATCH\n" in out
    assert f"    --- {expected}\n    +++ settled now\n    @@ " in out
    assert '\n    -      "clause": "X' in out
    assert f"; {all_examples() - 1} match, 1 mismatch, 0 no expected result" in out


def test_examples_check_counts_a_missing_or_orphan_expected_file_as_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_examples(tmp_path)
    (root / "qingyuan" / "day-surgery-hernia-26h-rejected.expected.json").unlink()
    (root / "jining" / "gone.expected.json").write_text("{}\n", encoding="utf-8")
    assert main(["examples", str(root), "--check"]) == 1
    out = capsys.readouterr().out
    assert "day-surgery-hernia-26h-rejected.json: no expected result (" in out
    assert "jining/gone.expected.json: FAILED an expected result without an episode" in out
    matching = all_examples() - 1
    assert out.splitlines()[-1].endswith(
        f", 1 failed; {matching} match, 0 mismatch, 1 no expected result"
    )


def test_examples_update_writes_what_check_then_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_examples(tmp_path)
    tampered = root / "panzhihua" / "day-chemo-breast-cancer.expected.json"
    tampered.write_text("{}\n", encoding="utf-8")
    missing = root / "jining" / "no-sessions-rejected.expected.json"
    missing.unlink()
    orphan = root / "jining" / "gone.expected.json"
    orphan.write_text("{}\n", encoding="utf-8")
    assert main(["examples", str(root), "--update"]) == 0
    out = capsys.readouterr().out
    assert f": wrote {tampered}\n" in out
    assert f": wrote {missing}\n" in out
    assert f"{orphan}: removed" in out
    assert out.count(": unchanged ") == all_examples() - 2
    assert not orphan.exists()
    assert tampered.read_bytes() == (EXAMPLES / tampered.relative_to(root)).read_bytes()
    assert main(["examples", str(root), "--check"]) == 0
    capsys.readouterr()


def test_examples_settles_the_platform_record_sets_beside_the_episodes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert PLATFORM_EXAMPLES
    assert main(["examples", str(EXAMPLES), "--check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) - 1 == all_examples()
    for path in PLATFORM_EXAMPLES:
        assert f"{path}: match" in out
        native = EXAMPLES / path.parent.name / path.name.replace(".json", ".expected.json")
        assert path.with_name(native.name).read_bytes() == native.read_bytes()


def test_examples_check_reads_a_platform_record_set_as_platform_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_examples(tmp_path)
    record_set = root / "platform" / "panzhihua" / "day-chemo-breast-cancer.json"
    records = json.loads(record_set.read_text(encoding="utf-8"))
    records["dscginfo"]["mdtrt_id"] = "MDTRT-CHANGED"
    record_set.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    (root / "platform" / "jining" / "gone.expected.json").write_text("{}\n", encoding="utf-8")
    assert main(["examples", str(root), "--check"]) == 1
    out = capsys.readouterr().out
    assert f"{record_set}: MISMATCH\n" in out
    assert '+  "episode_id": "MDTRT-CHANGED",' in out
    assert "platform/jining/gone.expected.json: FAILED an expected result without an episode" in out
    # an episode where a record set is expected fails to settle as platform records
    shutil.copy(EXAMPLES / "panzhihua" / "day-chemo-breast-cancer.json", record_set)
    assert main(["examples", str(root)]) == 1
    assert f"{record_set}: FAILED [invalid_platform_records]" in capsys.readouterr().out


def test_examples_update_writes_a_platform_record_sets_expected_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_examples(tmp_path)
    expected = root / "platform" / "qingyuan" / "day-surgery-cataract-no-first-visit.expected.json"
    expected.unlink()
    assert main(["examples", str(root), "--update"]) == 0
    assert f": wrote {expected}\n" in capsys.readouterr().out
    native = EXAMPLES / "qingyuan" / expected.name
    assert expected.read_bytes() == native.read_bytes()


def test_settle_prints_exactly_the_expected_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = EXAMPLES / "qingyuan" / "day-surgery-cholecystectomy-pathway-merge.json"
    assert main(["settle", str(path), "--policy", "qingyuan"]) == 0
    expected = path.with_name("day-surgery-cholecystectomy-pathway-merge.expected.json")
    assert capsys.readouterr().out == expected.read_text(encoding="utf-8")


def test_policies_lists_bundled_policies(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policies"]) == 0
    assert "panzhihua" in capsys.readouterr().out
