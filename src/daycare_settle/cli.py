"""Command line: ``daycare-settle settle EPISODE.json --policy panzhihua [--explain]``;
``settle --from platform RECORDS.json --policy P`` reads platform records instead
(:mod:`daycare_settle.platform`).

Other commands:

- ``examples [DIR]`` settles every ``DIR/<policy-id>/*.json`` (except the
  ``*.expected.json`` files beside them) under the policy its folder names, and every
  platform record set ``DIR/platform/<policy-id>/*.json`` as ``settle --from platform``
  does, and prints one summary line each; ``--check`` compares each result with its
  expected file byte for byte and ``--update`` writes the expected files.
- ``batch EPISODES.jsonl --policy P`` settles JSON lines on every core (or on a Dask
  cluster with ``--scheduler``), in input order; ``--from platform``: each line is a
  platform record set.
- ``policies`` lists the bundled policies; ``policy readings [P ...]`` prints the register
  of readings of policies P (ids or rule-file paths; all bundled policies when none is
  given) as markdown.
- ``schema NAME`` prints the JSON Schema of the episode, the settlement or a rule file.
- ``serve [--host H] [--port N]`` runs the HTTP service (extra ``daycare_settle[server]``).
- ``report EPISODE --policy P [--html OUT] [--pdf OUT]`` writes the settlement report (HTML
  on standard output when no file is named); ``compare EPISODE --policies P1,P2,…`` prints
  one episode settled under several policies side by side (``--html OUT`` as HTML too).
- ``policy show P [--on DATE]`` prints the rules in force as a table and ``policy diff P
  --from DATE --to DATE`` (or ``policy diff A.yaml B.yaml``) what changed between versions.
- ``verify RESULT.json EPISODE.json [--policy P]`` settles the episode again and reports
  ``match`` or the fields that differ, and whether the rule files or the library changed
  since; ``settle --strict`` refuses an episode admitted after the policy's
  ``confirmed_until`` (docs/versions.md).

Input JSON is always read as UTF-8 bytes, whatever the locale; the settlement JSON is
written as UTF-8. Text for people (``--explain``, summaries, errors) escapes control,
format and bidi characters (``\\x1b``, ``\\u202e``) so an episode field cannot drive a
terminal.

Exit status:

- 0: done.
- 1: ``examples``: an episode failed to settle, or under ``--check`` a result differs from
  its expected file or has none; ``verify``: the result differs.
- 2: bad input or usage: unreadable or invalid episode, unknown policy, wrong arguments.
  One message on standard error, never a traceback.
- 74 (``EX_IOERR``): the output could not be written: standard output closed, full, or a
  broken pipe.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

from . import audit, batch, report, schemas
from .engine import settle
from .errors import DaycareSettleError, FieldProblem, InvalidEpisode
from .exact_json import loads_exact
from .files import EPISODE_FILE_LIMIT, UnreadableFile, read_bounded
from .models import Citation, Settlement
from .platform import settle_records
from .policy import policy_ids, versions
from .policy.loader import Policy
from .policy.readings import render
from .policy.registry import resolve_policy
from .policy.show import add_show_commands, show_command
from .verify import verify

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_INPUT = 2
EXIT_OUTPUT = 74
EXPECTED_SUFFIX = ".expected.json"
"""Beside ``DIR/<policy>/<name>.json``: ``<name>.expected.json``, its canonical result."""
STDIN_NAME = "<stdin>"
DIFF_LINES = 16
"""The most unified-diff lines ``examples --check`` prints for one mismatch."""


class _UsageError(Exception):
    """Wrong arguments: ``str()`` is the whole message (argparse's ``prog: error: …``)."""


class _InputError(Exception):
    """An input file the library refused: ``str()`` is ``name: [code] message``."""


class _ParserExit(Exception):
    """argparse finished early (``--help``) with this status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _OutputError(Exception):
    """Standard output could not be written; ``str()`` says why."""


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and calling ``sys.exit``."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: error: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            raise _UsageError(message.strip())
        raise _ParserExit(status)

    def print_help(self, file: object = None) -> None:
        _write(self.format_help())

    def print_usage(self, file: object = None) -> None:
        _write(self.format_usage())


def main(argv: Sequence[str] | None = None) -> int:
    try:
        status = _run(argv)
        _flush()
    except _ParserExit as exc:
        return exc.status
    except _UsageError as exc:
        _error(str(exc))
        return EXIT_INPUT
    except (_InputError, DaycareSettleError) as exc:
        _error(f"daycare-settle: error: {exc}")
        return EXIT_INPUT
    except _OutputError as exc:
        _silence_stdout()
        _error(f"daycare-settle: error: cannot write the output: {exc}")
        return EXIT_OUTPUT
    except KeyboardInterrupt:
        _error("daycare-settle: interrupted")
        return 130
    return status


def _run(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "settle":
        if args.to == "platform-review" or args.feedetail is not None:
            return _platform_review(args.episodes, args.policy, args.to, args.feedetail, args)
        return _settle(
            args.episodes,
            args.policy,
            explain=args.explain,
            strict=args.strict,
            source=args.source,
        )
    if args.command == "verify":
        return _verify(args.result, args.episode, args.policy)
    if args.command == "batch":
        return batch.command(args)
    if args.command == "audit":
        return audit.command(args)
    if args.command == "policy" and args.policy_command in ("show", "diff"):
        _write(show_command(args))
        return EXIT_OK
    if args.command == "policy":
        return _readings(args.policies)
    if args.command == "report":
        return _report(args.episode, args.policy, html=args.html, pdf=args.pdf)
    if args.command == "compare":
        return _compare_policies(args.episode, args.policies, html=args.html)
    if args.command == "examples":
        return _examples(Path(args.directory), check=args.check, update=args.update)
    if args.command == "schema":
        return _schema(args.name, args.write)
    if args.command == "serve":
        return _serve(args.host, args.port)
    return _policies()


def _parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="daycare-settle", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    one = commands.add_parser("settle", help="settle episode JSON files; print the settlement JSON")
    one.add_argument(
        "episodes", nargs="+", metavar="EPISODE.json", help="episode file ('-' for stdin)"
    )
    one.add_argument("--policy", required=True, help="bundled policy id or a rule-file path")
    one.add_argument("--explain", action="store_true", help="print the decisions as readable text")
    one.add_argument(
        "--strict",
        action="store_true",
        help="fail for an episode after the policy's confirmed_until",
    )
    one.add_argument(
        "--to",
        choices=("settlement", "platform-review"),
        default="settlement",
        help="output: the settlement (default) or the platform's 3101 review shape with a "
        "disposition per fee-detail row (docs/platform-review.md)",
    )
    one.add_argument(
        "--feedetail",
        metavar="ROWS.json",
        help="with --to platform-review: the fee-detail rows (a JSON list of objects with "
        "feedetl_sn and optional init_feedetl_sn), one disposition per row",
    )
    one.add_argument(
        "--from",
        dest="source",
        choices=("episode", "platform"),
        default="episode",
        help="input format: an episode (default) or platform records (docs/integration.md)",
    )
    check = commands.add_parser("verify", help="settle again and compare with a stored result")
    check.add_argument("result", metavar="RESULT.json")
    check.add_argument("episode", metavar="EPISODE.json")
    check.add_argument("--policy", help="policy id or rule-file path (default: the result's)")
    many = commands.add_parser(
        "examples",
        help="settle every DIR/<policy-id>/*.json (and platform record set "
        "DIR/platform/<policy-id>/*.json) and summarise (or check)",
    )
    many.add_argument("directory", nargs="?", default="examples", metavar="DIR")
    mode = many.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help=f"compare each result with its <name>{EXPECTED_SUFFIX}, byte for byte",
    )
    mode.add_argument(
        "--update", action="store_true", help=f"write each result to its <name>{EXPECTED_SUFFIX}"
    )
    commands.add_parser("policies", help="list the bundled policies")
    batch_ = commands.add_parser("batch", help="settle a JSON-lines file on every core, in order")
    batch_.add_argument(
        "source", metavar="EPISODES.jsonl", help="one episode per line ('-': stdin)"
    )
    batch_.add_argument("--policy", required=True, help="bundled policy id or a rule-file path")
    batch_.add_argument("--out", default="-", help="results, one per line ('-': stdout, default)")
    batch_.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    batch_.add_argument("--fail-fast", action="store_true", help="stop at the first error line")
    batch_.add_argument("--summary", dest="summary_file", help="also write the summary as JSON")
    batch_.add_argument("--scheduler", help="a Dask scheduler address (tcp://HOST:PORT)")
    batch_.add_argument(
        "--from",
        dest="input_format",
        choices=batch.INPUT_FORMATS,
        default="episode",
        help="what a line holds: an episode (default) or a platform record set "
        "(docs/integration.md)",
    )
    audit.add_command(commands)
    policy = commands.add_parser("policy", help="inspect a policy's rule file")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    register = policy_commands.add_parser("readings", help="print the register of readings")
    register.add_argument("policies", nargs="*", metavar="P", help="policy id or rule-file path")
    add_show_commands(policy_commands)
    schema = commands.add_parser(
        "schema", help="print a JSON Schema (episode, settlement, policy, platform, review)"
    )
    schema.add_argument("name", nargs="?", choices=schemas.NAMES, help="which schema")
    schema.add_argument("--write", metavar="DIR", help="write <name>.schema.json files to DIR")
    serve = commands.add_parser("serve", help="run the HTTP service (extra: server)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    report_ = commands.add_parser(
        "report", help="the settlement report: HTML (stdout, or --html FILE) and/or --pdf FILE"
    )
    report_.add_argument("episode", metavar="EPISODE.json", help="episode file ('-' for stdin)")
    report_.add_argument("--policy", required=True, help="bundled policy id or a rule-file path")
    report_.add_argument("--html", metavar="OUT.html", help="write the HTML report here")
    report_.add_argument("--pdf", metavar="OUT.pdf", help="print it to PDF (headless Chromium)")
    compare_ = commands.add_parser("compare", help="one episode under several policies")
    compare_.add_argument("episode", metavar="EPISODE.json", help="episode file ('-' for stdin)")
    compare_.add_argument(
        "--policies", required=True, help="comma-separated policy ids or rule-file paths"
    )
    compare_.add_argument("--html", metavar="OUT.html", help="also write the table as HTML")
    return parser


def _serve(host: str, port: int) -> int:
    """``serve``: the HTTP service, when the ``server`` extra is installed."""
    try:
        from .service import serve  # noqa: PLC0415 - the optional extra
    except ImportError as exc:
        raise _UsageError(
            "daycare-settle serve: error: the HTTP service needs the server extra "
            f"(pip install 'daycare_settle[server]'): {exc}"
        ) from None
    return serve(host, port)


# --- commands ---------------------------------------------------------------------------


def _settle(
    names: Sequence[str],
    policy: str,
    *,
    explain: bool,
    strict: bool = False,
    source: str = "episode",
) -> int:
    if list(names).count("-") > 1:
        raise _UsageError("daycare-settle settle: error: '-' (standard input) can be read once")
    results = []
    for name in names:
        shown = STDIN_NAME if name == "-" else name
        try:
            data = _read_stdin() if name == "-" else _read_file(Path(name))
            if source == "platform":
                results.append(settle_records(_decode(data), policy=policy, strict=strict))
            else:
                results.append(settle(_decode(data), policy=policy, strict=strict))
        except DaycareSettleError as exc:
            raise _InputError(f"{shown}: {exc}") from None
    if explain:
        _write("\n\n".join(explain_text(result) for result in results) + "\n")
    elif len(results) == 1:
        _write_data(canonical_json(results[0]))
    else:
        dumped = [r.model_dump(mode="json") for r in results]
        _write_data((json.dumps(dumped, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return EXIT_OK


def _platform_review(
    names: Sequence[str], policy: str, to: str, feedetail: str | None, args: argparse.Namespace
) -> int:
    """``settle --to platform-review``: the 3101-shaped review of one episode."""
    from .platform import parse_records, records_to_episode  # noqa: PLC0415
    from .platform.review import review_episode  # noqa: PLC0415 - only this output needs it

    if to != "platform-review" or args.explain or len(names) != 1:
        raise _UsageError(
            "daycare-settle settle: error: --to platform-review takes one episode, without "
            "--explain; --feedetail needs --to platform-review"
        )
    shown = STDIN_NAME if names[0] == "-" else names[0]
    rows = None
    if feedetail is not None:
        try:
            rows = loads_exact(_decode(_read_file(Path(feedetail))))
        except (ValueError, RecursionError) as exc:
            raise _InputError(f"{feedetail}: not JSON: {exc}") from None
        except DaycareSettleError as exc:
            raise _InputError(f"{feedetail}: {exc}") from None
    try:
        data = _read_stdin() if names[0] == "-" else _read_file(Path(names[0]))
        episode: Any = _decode(data)
        chosen: str | Policy = policy
        if args.source == "platform":  # the records' own rows, unless --feedetail names others
            records = parse_records(episode)
            chosen = resolve_policy(policy, on=records.mdtrtinfo.begntime.date())  # once
            episode = records_to_episode(records, chosen)
            rows = list(records.feedetail) if rows is None else rows
        review = review_episode(episode, chosen, rows, strict=args.strict)
    except DaycareSettleError as exc:
        raise _InputError(f"{shown}: {exc}") from None
    _write_data((review.to_json() + "\n").encode("utf-8"))
    return EXIT_OK


def _schema(name: str | None, directory: str | None) -> int:
    """One schema on standard output, or with ``--write DIR`` the named one (all when no name
    is given) written to ``DIR/<name>.schema.json``."""
    if directory is None:
        if name is None:
            raise _UsageError("daycare-settle schema: error: name a schema or give --write DIR")
        _write_data(schemas.schema_text(name).encode("utf-8"))
        return EXIT_OK
    try:
        written = schemas.write(Path(directory), [name] if name else schemas.NAMES)
    except OSError as exc:
        raise _OutputError(f"{directory}: {exc.strerror or exc}") from None
    _write("".join(f"wrote {_printable(str(path))}\n" for path in written))
    return EXIT_OK


class _Outcome(NamedTuple):
    """One example: ``settled``/``rejected``/``failed``, the comparison under ``--check``
    (``match``/``mismatch``/``no expected result``) and the text of its line."""

    status: str
    comparison: str | None
    text: str


PLATFORM_EXAMPLES = "platform"
"""The folder of ``examples DIR`` whose ``<policy-id>/*.json`` are platform record sets."""


def _example_inputs(directory: Path, pattern: str) -> list[Path]:
    """The example inputs under ``directory``: episodes ``<policy-id>/<pattern>``, then
    platform record sets ``platform/<policy-id>/<pattern>`` (the folder says the format)."""
    native = sorted(
        path for path in directory.glob(f"*/{pattern}") if path.parent.name != PLATFORM_EXAMPLES
    )
    return native + sorted((directory / PLATFORM_EXAMPLES).glob(f"*/{pattern}"))


def _is_platform_example(directory: Path, path: Path) -> bool:
    return path.parent.parent == directory / PLATFORM_EXAMPLES


def _examples(directory: Path, *, check: bool, update: bool) -> int:
    episodes = [
        path
        for path in _example_inputs(directory, "*.json")
        if not path.name.endswith(EXPECTED_SUFFIX)
    ]
    if not episodes:
        raise _UsageError(
            f"daycare-settle examples: error: no example episodes under {directory}/<policy-id>/"
            f" or {directory}/{PLATFORM_EXAMPLES}/<policy-id>/"
        )
    tally = {"settled": 0, "rejected": 0, "failed": 0}
    compared = {"match": 0, "mismatch": 0, "no expected result": 0}
    for path in episodes:
        platform = _is_platform_example(directory, path)
        outcome = _example(path, check=check, update=update, platform=platform)
        tally[outcome.status] += 1
        if outcome.comparison is not None:
            compared[outcome.comparison] += 1
        _write(f"{_printable(str(path))}: {outcome.text}\n")
    if check or update:
        tally["failed"] += _orphans(directory, remove=update)
    line = ", ".join(f"{n} {what}" for what, n in tally.items())
    if check:
        line += "; " + ", ".join(f"{n} {what}" for what, n in compared.items())
    _write(line + "\n")
    failing = tally["failed"] + compared["mismatch"] + compared["no expected result"]
    return EXIT_FAILURES if failing else EXIT_OK


def _example(path: Path, *, check: bool, update: bool, platform: bool = False) -> _Outcome:
    read = settle_records if platform else settle
    try:
        result = read(_decode(_read_file(path)), policy=path.parent.name)
    except DaycareSettleError as exc:
        return _Outcome("failed", None, f"FAILED {_printable(str(exc))}")
    expected = expected_path(path)
    if check:
        comparison, detail = _compare(expected, canonical_json(result))
        if comparison is None:
            return _Outcome("failed", None, f"FAILED {detail}")
        shown = "MISMATCH" if comparison == "mismatch" else comparison
        return _Outcome(result.status, comparison, shown + detail)
    if update:
        done, written = _update(expected, canonical_json(result))
        return _Outcome(result.status, None, done) if written else _Outcome("failed", None, done)
    return _Outcome(result.status, None, summary(result))


def _report(name: str, policy: str, *, html: str | None, pdf: str | None) -> int:
    shown = STDIN_NAME if name == "-" else name
    try:
        text = _decode(_read_stdin() if name == "-" else _read_file(Path(name)))
        page = report.render_html(settle(text, policy=policy), text)
        if html is not None:
            report.write_text(page, html)
        if pdf is not None:
            report.html_to_pdf(page, pdf)
    except DaycareSettleError as exc:
        raise _InputError(f"{shown}: {exc}") from None
    if html is None and pdf is None:
        _write_data(page.encode("utf-8"))
    return EXIT_OK


def _compare_policies(name: str, policies: str, *, html: str | None) -> int:
    shown = STDIN_NAME if name == "-" else name
    wanted = [p.strip() for p in policies.split(",") if p.strip()]
    if not wanted:
        raise _UsageError("daycare-settle compare: error: --policies names no policy")
    try:
        text = _decode(_read_stdin() if name == "-" else _read_file(Path(name)))
        rows = report.compare(text, wanted)
        if html is not None:
            report.write_text(report.compare_html(rows, text), html)
    except DaycareSettleError as exc:
        raise _InputError(f"{shown}: {exc}") from None
    _write("".join(_printable(line) + "\n" for line in report.compare_text(rows).splitlines()))
    return EXIT_OK


def _verify(result: str, episode: str, policy: str | None) -> int:
    """Re-settle and compare: 0 when the result matches, 1 when it differs."""
    try:
        stored = read_bounded(Path(result), limit=EPISODE_FILE_LIMIT)
    except UnreadableFile as exc:
        raise _InputError(f"{result}: cannot read the file: {exc}") from None
    try:
        text = stored.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _InputError(f"{result}: not UTF-8 text (byte offset {exc.start})") from None
    try:
        outcome = verify(text, _decode(_read_file(Path(episode))), policy)
    except DaycareSettleError as exc:
        raise _InputError(f"{result}, {episode}: {exc}") from None
    _write("".join(_printable(line) + "\n" for line in outcome.text().splitlines()))
    return EXIT_OK if outcome.match else EXIT_FAILURES


def _readings(names: Sequence[str]) -> int:
    """The register of readings (markdown) of the named policies, or of every bundled one."""
    _write_data(render([resolve_policy(name) for name in names or policy_ids()]).encode("utf-8"))
    return 0


def _policies() -> int:
    """Every bundled policy and its versions; a policy whose rule file does not load is one
    error line (the others are still listed) and exit status 1."""
    status = EXIT_OK
    for policy_id in policy_ids():
        try:
            found = versions(policy_id)
        except DaycareSettleError as exc:
            _error(f"daycare-settle: error: {policy_id}: {exc}")
            status = EXIT_FAILURES
            continue
        for version in found:
            header = version.rules.policy
            programmes = ", ".join(p.value for p in version.rules.programmes)
            _write(f"{policy_id}\t{header.document}\t{version.window_text()}\t{programmes}\n")
    return status


# --- expected results -------------------------------------------------------------------


def canonical_json(result: Settlement) -> bytes:
    """What ``daycare-settle settle`` prints for one episode: ``to_json()``, a newline, UTF-8."""
    return (result.to_json() + "\n").encode("utf-8")


def expected_path(episode: Path) -> Path:
    """``DIR/<policy>/<name>.json`` → ``DIR/<policy>/<name>.expected.json``."""
    return episode.with_name(episode.name.removesuffix(".json") + EXPECTED_SUFFIX)


def _compare(expected: Path, actual: bytes) -> tuple[str | None, str]:
    """(``match`` / ``mismatch`` / ``no expected result``, detail), or (None, why not)."""
    if not os.path.lexists(expected):
        return "no expected result", f" ({_printable(str(expected))})"
    try:
        wanted = read_bounded(expected, limit=EPISODE_FILE_LIMIT)
    except UnreadableFile as exc:
        return None, f"cannot read {_printable(str(expected))}: {_printable(str(exc))}"
    if wanted == actual:
        return "match", ""
    diff = list(
        difflib.unified_diff(
            wanted.decode("utf-8", "replace").splitlines(),
            actual.decode("utf-8").splitlines(),
            fromfile=str(expected),
            tofile="settled now",
            n=1,
            lineterm="",
        )
    )
    if not diff:  # the bytes differ but not the lines: line endings or the last newline
        diff = ["(the files differ only in line endings or the final newline)"]
    shown = diff[:DIFF_LINES]
    if len(diff) > DIFF_LINES:
        shown.append(f"... {len(diff) - DIFF_LINES} more diff lines")
    return "mismatch", "".join(f"\n    {_printable(line)}" for line in shown)


def _update(expected: Path, actual: bytes) -> tuple[str, bool]:
    """Write ``actual`` to ``expected`` unless it holds it already: (what was done, done)."""
    where = _printable(str(expected))
    try:
        if read_bounded(expected, limit=EPISODE_FILE_LIMIT) == actual:
            return f"unchanged {where}", True
    except UnreadableFile:
        pass  # absent, or not a regular file: the write below says if it cannot replace it
    temporary = expected.with_name(f".{expected.name}.tmp")
    try:
        temporary.write_bytes(actual)
        os.replace(temporary, expected)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        return f"FAILED cannot write {where}: {exc.strerror or exc}", False
    return f"wrote {where}", True


def _orphans(directory: Path, *, remove: bool) -> int:
    """Report (or with ``remove``, delete) expected files with no episode beside them;
    the number that remain."""
    remaining = 0
    for path in _example_inputs(directory, f"*{EXPECTED_SUFFIX}"):
        episode = path.with_name(path.name.removesuffix(EXPECTED_SUFFIX) + ".json")
        if os.path.lexists(episode):
            continue
        text = "FAILED an expected result without an episode"
        if remove:
            try:
                path.unlink()
            except OSError as exc:
                text += f"; cannot remove it: {exc.strerror or exc}"
            else:
                text = "removed (an expected result without an episode)"
        remaining += text.startswith("FAILED")
        _write(f"{_printable(str(path))}: {text}\n")
    return remaining


# --- input ------------------------------------------------------------------------------


def _read_file(path: Path) -> bytes:
    try:
        return read_bounded(path, limit=EPISODE_FILE_LIMIT)
    except UnreadableFile as exc:
        raise InvalidEpisode([FieldProblem("", f"cannot read the file: {exc}")]) from None


def _read_stdin() -> bytes:
    stream = sys.stdin
    source = getattr(stream, "buffer", None)
    if source is None:
        raise InvalidEpisode([FieldProblem("", "cannot read standard input: it is closed")])
    try:
        data: bytes = source.read(EPISODE_FILE_LIMIT + 1)
    except (OSError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        raise InvalidEpisode([FieldProblem("", f"cannot read standard input: {why}")]) from None
    if len(data) > EPISODE_FILE_LIMIT:
        raise InvalidEpisode(
            [FieldProblem("", f"standard input is larger than {EPISODE_FILE_LIMIT} bytes")]
        )
    return data


def _decode(data: bytes) -> str:
    """Episode JSON is UTF-8, whatever the locale says."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}"
        raise InvalidEpisode([FieldProblem("", problem)]) from None


# --- output -----------------------------------------------------------------------------


def _write(text: str) -> None:
    """Text for people, in the stream's encoding; what it cannot encode is escaped."""
    stream = sys.stdout
    encoding = getattr(stream, "encoding", None) or "utf-8"
    _write_data(text.encode(encoding, "backslashreplace"))


def _write_data(data: bytes) -> None:
    stream = sys.stdout
    if stream is None:
        raise _OutputError("standard output is closed")
    try:
        stream.flush()
        rest = memoryview(data)
        while rest:  # a write to a pipe can return short of all the bytes, without an error
            written = stream.buffer.write(rest)
            if not written:
                raise _OutputError("nothing could be written")
            rest = rest[written:]
    except BrokenPipeError:
        raise _OutputError("broken pipe") from None
    except (OSError, ValueError) as exc:
        raise _OutputError(getattr(exc, "strerror", None) or str(exc)) from None


def _flush() -> None:
    stream = sys.stdout
    if stream is None:
        return
    try:
        stream.flush()
    except BrokenPipeError:
        raise _OutputError("broken pipe") from None
    except (OSError, ValueError) as exc:
        raise _OutputError(getattr(exc, "strerror", None) or str(exc)) from None


def _silence_stdout() -> None:
    """After an output error, point standard output at the null device so the interpreter's
    flush at exit cannot fail again with a traceback (the recipe in Python's ``signal``
    docs, "Note on SIGPIPE")."""
    stream = sys.stdout
    if stream is None:
        return
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError):
        return  # not a real file (a test's capture): nothing will flush it at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


def _error(message: str) -> None:
    """One line on standard error; silently nothing if standard error is closed."""
    stream = sys.stderr
    if stream is None:
        return
    encoding = getattr(stream, "encoding", None) or "utf-8"
    line = _printable(message) + "\n"
    try:
        stream.write(line.encode(encoding, "backslashreplace").decode(encoding))
        stream.flush()
    except (OSError, ValueError):
        pass


_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Control, format (bidi, zero-width), surrogate, private-use, unassigned, line and paragraph
separators: escaped in text written for people."""


def _printable(text: str) -> str:
    """``text`` with control, format and bidi characters written as ``\\x1b``/``\\u202e``."""
    if text.isascii() and text.isprintable():
        return text
    out = []
    for char in text:
        if unicodedata.category(char) in _ESCAPED_CATEGORIES:
            number = ord(char)
            if number < 0x100:
                out.append(f"\\x{number:02x}")
            elif number < 0x10000:
                out.append(f"\\u{number:04x}")
            else:
                out.append(f"\\U{number:08x}")
        else:
            out.append(char)
    return "".join(out)


# --- text for people --------------------------------------------------------------------


def summary(result: Settlement) -> str:
    """One line: status, how settled, method, totals."""
    if result.status == "rejected":
        codes = ", ".join(reason.code for reason in result.rejection_reasons)
        return _printable(f"rejected ({codes}); disallowed {result.totals.disallowed}")
    payment = result.payment
    method = payment.agency if payment is not None else "-"
    totals = result.totals
    return _printable(
        f"settled as {result.settled_as} ({result.programme.value}, agency {method}, "
        f"time {result.time_limit.status.value}); included {totals.included}, "
        f"not merged {totals.not_merged}, disallowed {totals.disallowed} of {totals.input}"
    )


def explain_text(result: Settlement) -> str:
    """The trace and lines as text an auditor can read; every decision, rejection, line
    and flag shows its clause (or ``[no citation]``). Control and bidi characters from
    the episode are escaped."""
    out = [
        f"Episode {result.episode_id} under {result.policy.id} {result.policy.document} "
        f"(version {result.policy.version}, sha256 {result.policy.sha256[:12]})",
        f"Result: {summary(result)}",
        "",
        "Decisions:",
    ]
    for number, item in enumerate(result.trace, start=1):
        where = _where(item.citation, document=True)
        out.append(f"{number:3d}. {item.step} / {item.rule}: {item.outcome}{where}")
        out.extend(f"       read {p.name} = {p.value} ({p.provenance})" for p in item.parameters)
    for reason in result.rejection_reasons:
        out.append(f"  REJECTED {reason.code}: {reason.message}{_where(reason.citation)}")
    out.append("")
    out.append("Charges:")
    for line in result.lines:
        out.append(
            f"  {line.charge_id}: {line.disposition.value} {line.allowed_amount} of "
            f"{line.amount} ({line.reason}){_where(line.citation)}"
        )
    if result.flags:
        out.append("")
        out.append("Flags:")
        out.extend(
            f"  {f.severity} {f.code}: {f.message}{_where(f.citation)}" for f in result.flags
        )
    return "\n".join(_printable(line) for line in out)


def _where(citation: Citation | None, *, document: bool = False) -> str:
    if citation is None:
        return " [no citation]"
    if document:
        return f" [{citation.document} {citation.clause}]"
    return f" [{citation.clause}]"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
