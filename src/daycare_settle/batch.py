"""Settle many episodes on every core: one result per input line, in input order.

``settle_many(lines, policy, workers=N)`` yields a :class:`BatchRecord` per episode, in the
order given. The command ``daycare-settle batch EPISODES.jsonl --policy P --out
RESULTS.jsonl`` writes one line per record: the canonical settlement JSON
(``Settlement.to_json(indent=None)``, the same bytes as settling the episode alone) or an
error record ``{"line": N, "status": "error", "error": {"code": ..., "message": ...}}``.

Decisions:

- **Streaming.** The input is read lazily; at most ``workers × 4`` chunks of ``chunk_size``
  episodes are in flight, so memory does not grow with the number of episodes.
- **Processes, started by forkserver** (spawn where forkserver is not available). Each
  worker resolves the policy once in its initializer (the compiled policy is cached per
  process) and then receives raw JSON text in chunks and returns canonical JSON text: the
  compiled policy and the pydantic models never cross a process boundary. ``fork`` would
  start faster, but forking a parent that runs threads (a progress thread, a Dask client, a
  web server embedding the library) can deadlock a child on a lock held at the fork;
  forkserver forks from a clean single-threaded server and costs one start per pool.
- **Blank lines** (empty or whitespace only) are skipped: they hold no episode, so no
  record is written for them; line numbers still count them, so an error record's ``line``
  is the physical line of the input file. Every non-blank line gives exactly one record.
- **Bad lines** (malformed JSON, an invalid episode, no policy version in force on the
  admission day — any :class:`DaycareSettleError`) become error records and the run goes
  on; the command's ``--fail-fast`` stops after writing the first. Any other exception is a
  bug in the library and stops the run with its traceback rather than hiding in a record.
- ``workers=1`` settles in the calling process (no pool): the single-core reference rate.
- **Shards.** The command writing a regular file with several workers does not take the
  records back through the pool's pipe (receiving, decoding and encoding again each ~16 KB
  settlement cost its own process about a quarter of what a worker spends on it): each worker
  writes its chunk's output lines, UTF-8 as ``BatchRecord.to_json`` gives them, to a shard
  in a temporary directory beside the output (the same file system) and sends back only
  each record's facts (status, code, totals, byte length). The command appends the shards
  in input order with a kernel copy (``os.copy_file_range``, else ``os.sendfile``, else
  read and write), deletes each once copied, cuts after the first error record with
  ``--fail-fast``, and removes the directory however the run ends. The file's bytes are
  those written record by record, which standard output, a device, one worker and
  ``--scheduler`` still are.
- **Platform records** (``source="platform"``, ``batch --from platform``): each line is a
  platform record set (:mod:`daycare_settle.platform`), settled as
  :func:`~daycare_settle.platform.settle_records` does, to the same bytes as the episode it
  describes; a bad record set is an error record (``invalid_platform_records``,
  ``platform_not_configured``). The worker is told the format once, with the policy.
"""

from __future__ import annotations

import argparse
import errno
import functools
import json
import multiprocessing
import os
import shutil
import stat
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

from .engine import settle
from .errors import DaycareSettleError
from .models import Episode, Settlement
from .platform import settle_records
from .policy import Policy, resolve_policy

BatchItem = str | bytes | Mapping[str, Any] | Episode
"""One episode: a JSON text line, a mapping, or a validated :class:`Episode`."""

Status = Literal["settled", "rejected", "error"]

InputFormat = Literal["episode", "platform"]
"""What a line holds: an episode (the default) or a platform record set."""
INPUT_FORMATS: tuple[InputFormat, ...] = ("episode", "platform")

# What a worker sends back per episode: line, status, JSON text (or the error message),
# included, not_merged, disallowed (Decimal strings; "0" for an error), error code.
RawRecord = tuple[int, str, str, str, str, str, str | None]

# A chunk's output lines as UTF-8 bytes, each with its newline, and per record its facts:
# status, error code, included, not_merged, disallowed (Decimal strings) and the byte length
# of its output line.
Fact = tuple[str, str | None, str, str, str, int]
Block = tuple[bytes, list[Fact]]
# What a worker sends the command per chunk when it writes to a file: the shard file it
# wrote the chunk's output lines to, and the records' facts.
Shard = tuple[str, list[Fact]]

_T = TypeVar("_T")

DEFAULT_CHUNK = 32
SHARD_CHUNK = 128
"""Episodes per chunk when workers write shards: the command's cost per chunk (a task
through the pool, a shard opened, copied and deleted) is spread over more episodes."""
EXIT_INTERRUPTED = 130  # as a shell reports SIGINT


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """The result for one input line."""

    line: int
    """1-based position in the input (physical line of a file, blank lines counted)."""
    status: Status
    text: str
    """The canonical settlement JSON, or the error message for ``status == "error"``."""
    included: Decimal = Decimal(0)
    not_merged: Decimal = Decimal(0)
    disallowed: Decimal = Decimal(0)
    code: str | None = None
    """The error's stable code (``invalid_episode``, ``policy_not_in_force``, ...)."""

    def to_json(self) -> str:
        """One output line (without the newline)."""
        if self.status != "error":
            return self.text
        return _error_json(self.line, self.code, self.text)

    @classmethod
    def from_raw(cls, raw: RawRecord, offset: int = 0) -> BatchRecord:
        line, status, text, included, not_merged, disallowed, code = raw
        if status not in ("settled", "rejected", "error"):  # pragma: no cover - internal
            raise ValueError(f"unknown status {status!r}")
        return cls(
            line + offset,
            status,  # type: ignore[arg-type]  # checked just above
            text,
            Decimal(included),
            Decimal(not_merged),
            Decimal(disallowed),
            code,
        )


def _error_json(line: int, code: str | None, message: str) -> str:
    return json.dumps(
        {"line": line, "status": "error", "error": {"code": code, "message": message}},
        ensure_ascii=False,
    )


def policy_spec(policy: str | Path | Policy) -> str:
    """What a worker resolves the policy from: a bundled id or a rule-file path (a compiled
    :class:`Policy` is sent as the path of its rule file, never pickled)."""
    if isinstance(policy, Policy):
        return policy.file
    return str(policy)


def _reader(source: InputFormat) -> Callable[..., Settlement]:
    if source not in INPUT_FORMATS:
        raise DaycareSettleError(
            f"unknown input format {source!r}: give one of {', '.join(INPUT_FORMATS)}"
        )
    return settle_records if source == "platform" else settle


def settle_one(
    line: int, item: BatchItem, policy: str, source: InputFormat = "episode"
) -> RawRecord:
    """Settle one item (an episode, or with ``source="platform"`` a platform record set)
    into a raw record; library errors become error records."""
    return _settle_one(line, item, policy, _reader(source))


def _settle_one(
    line: int, item: BatchItem, policy: str, read: Callable[..., Settlement]
) -> RawRecord:
    try:
        result = read(item, policy=policy)
    except DaycareSettleError as exc:
        return (line, "error", exc.message, "0", "0", "0", exc.code)
    totals = result.totals
    return (
        line,
        result.status,
        result.to_json(indent=None),
        str(totals.included),
        str(totals.not_merged),
        str(totals.disallowed),
        None,
    )


def is_blank(item: BatchItem) -> bool:
    return isinstance(item, str | bytes) and not item.strip()


def settle_chunk(
    chunk: list[tuple[int, BatchItem]], policy: str, source: InputFormat = "episode"
) -> list[RawRecord]:
    read = _reader(source)
    return [_settle_one(line, item, policy, read) for line, item in chunk]


def _settle_block(
    chunk: list[tuple[int, BatchItem]], policy: str, source: InputFormat = "episode"
) -> Block:
    """Settle a chunk into its output lines, UTF-8 encoded as the command writes them
    (``BatchRecord.to_json`` and a newline each), and each record's facts."""
    data: list[bytes] = []
    facts: list[Fact] = []
    for line, status, text, included, not_merged, disallowed, code in settle_chunk(
        chunk, policy, source
    ):
        out = text if status != "error" else _error_json(line, code, text)
        encoded = (out + "\n").encode("utf-8")
        data.append(encoded)
        facts.append((status, code, included, not_merged, disallowed, len(encoded)))
    return b"".join(data), facts


_worker_policy: str | None = None
_worker_source: InputFormat = "episode"


def _init_worker(policy: str, source: InputFormat = "episode") -> None:
    """Compile the policy once in this worker (it is cached per process from here on)."""
    global _worker_policy, _worker_source  # noqa: PLW0603 - a pool worker's settings
    resolve_policy(policy)
    _worker_policy = policy
    _worker_source = source


def _settle_chunk_in_worker(chunk: list[tuple[int, BatchItem]]) -> list[RawRecord]:
    if _worker_policy is None:  # pragma: no cover - the initializer always ran
        raise RuntimeError("worker used before its initializer ran")
    return settle_chunk(chunk, _worker_policy, _worker_source)


def _settle_shard_in_worker(directory: str, chunk: list[tuple[int, BatchItem]]) -> Shard:
    """Settle a chunk and write its output lines to a shard in ``directory``, named by the
    chunk's first line (chunks do not overlap); its facts go back to the command."""
    if _worker_policy is None:  # pragma: no cover - the initializer always ran
        raise RuntimeError("worker used before its initializer ran")
    data, facts = _settle_block(chunk, _worker_policy, _worker_source)
    path = os.path.join(directory, str(chunk[0][0]))
    with open(path, "wb") as shard:
        shard.write(data)
    return path, facts


def _chunks(
    items: Iterable[BatchItem], size: int, start: int = 1
) -> Iterator[list[tuple[int, BatchItem]]]:
    chunk: list[tuple[int, BatchItem]] = []
    for line, item in enumerate(items, start=start):
        if is_blank(item):
            continue
        chunk.append((line, item))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def mp_context() -> multiprocessing.context.BaseContext:
    """forkserver where the platform has it, else spawn (never fork: see the module doc)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # The server imports the library once (pydantic builds the models: most of a second);
    # every worker forks from it with the import done.
    context.set_forkserver_preload([__name__])
    return context


def settle_many(
    lines_or_episodes: Iterable[BatchItem],
    policy: str | Path | Policy,
    *,
    workers: int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    source: InputFormat = "episode",
) -> Iterator[BatchRecord]:
    """Settle episodes (or with ``source="platform"`` platform record sets) on ``workers``
    processes (default: every core), yielding one :class:`BatchRecord` per non-blank item,
    in input order.

    The policy is resolved here first, so an unknown policy or a broken rule file raises
    before any episode is read. Closing the iterator early (e.g. ``--fail-fast``) stops
    the workers.
    """
    spec, count = _prepare(policy, workers, chunk_size, source)
    chunks = _chunks(lines_or_episodes, chunk_size)
    if count == 1:
        for chunk in chunks:
            for raw in settle_chunk(chunk, spec, source):
                yield BatchRecord.from_raw(raw)
        return
    for raws in _pooled(chunks, spec, count, source, _settle_chunk_in_worker):
        for raw in raws:
            yield BatchRecord.from_raw(raw)


def _worker_count(workers: int | None) -> int:
    """The number of worker processes: ``workers``, or every core when ``None``."""
    return workers if workers is not None else (os.cpu_count() or 1)


def _prepare(
    policy: str | Path | Policy, workers: int | None, chunk_size: int, source: InputFormat
) -> tuple[str, int]:
    """Check the arguments and resolve the policy before any line is read: the policy's
    spec for the workers and the number of workers."""
    spec = policy_spec(policy)
    _reader(source)  # an unknown format raises before any line is read
    resolve_policy(spec)
    count = _worker_count(workers)
    if count < 1:
        raise ValueError("workers must be at least 1")
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    return spec, count


def _settle_shards(
    lines: Iterable[BatchItem],
    policy: str | Path | Policy,
    directory: str,
    *,
    workers: int,
    chunk_size: int = DEFAULT_CHUNK,
    source: InputFormat = "episode",
) -> Iterator[Shard]:
    """What the command writes to a file with several workers: per chunk, in input order,
    the shard in ``directory`` a worker wrote its output lines to and its records' facts.
    The output never crosses the pipe, and the command's own process neither decodes nor
    encodes it nor builds a record per episode: it appends the shards to the output."""
    spec, count = _prepare(policy, workers, chunk_size, source)
    task = functools.partial(_settle_shard_in_worker, directory)
    yield from _pooled(_chunks(lines, chunk_size), spec, count, source, task)


def _pooled(
    chunks: Iterator[list[tuple[int, BatchItem]]],
    spec: str,
    workers: int,
    source: InputFormat,
    task: Callable[[list[tuple[int, BatchItem]]], _T],
) -> Iterator[_T]:
    """``task`` of each chunk on a pool of ``workers`` processes, in input order."""
    window = workers * 4
    pending: deque[Future[_T]] = deque()
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=mp_context(),
        initializer=_init_worker,
        initargs=(spec, source),
    ) as pool:
        try:
            for chunk in chunks:
                pending.append(pool.submit(task, chunk))
                while len(pending) >= window or (pending and pending[0].done()):
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


@dataclass
class BatchSummary:
    """Counts by status and sums by disposition over a run, with its rate."""

    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None
    settled: int = 0
    rejected: int = 0
    error: int = 0
    included: Decimal = Decimal(0)
    not_merged: Decimal = Decimal(0)
    disallowed: Decimal = Decimal(0)
    errors_by_code: dict[str, int] = field(default_factory=dict)

    def add(self, record: BatchRecord) -> None:
        self._count(record.status, record.code)
        self.included += record.included
        self.not_merged += record.not_merged
        self.disallowed += record.disallowed

    def add_facts(self, facts: Iterable[Fact]) -> None:
        """Count the records of a block (:func:`_settle_block`) as :meth:`add` does."""
        for status, code, included, not_merged, disallowed, _ in facts:
            self._count(status, code)
            self.included += Decimal(included)
            self.not_merged += Decimal(not_merged)
            self.disallowed += Decimal(disallowed)

    def _count(self, status: str, code: str | None) -> None:
        if status == "settled":
            self.settled += 1
        elif status == "rejected":
            self.rejected += 1
        else:
            self.error += 1
            key = code or "error"
            self.errors_by_code[key] = self.errors_by_code.get(key, 0) + 1

    @property
    def episodes(self) -> int:
        return self.settled + self.rejected + self.error

    @property
    def elapsed(self) -> float:
        end = self.finished if self.finished is not None else time.perf_counter()
        return end - self.started

    @property
    def rate(self) -> float:
        return self.episodes / self.elapsed if self.elapsed > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "episodes": self.episodes,
            "status": {"settled": self.settled, "rejected": self.rejected, "error": self.error},
            "errors_by_code": dict(sorted(self.errors_by_code.items())),
            "disposition": {
                "included": str(self.included),
                "not_merged": str(self.not_merged),
                "disallowed": str(self.disallowed),
            },
            "elapsed_seconds": round(self.elapsed, 3),
            "episodes_per_second": round(self.rate, 1),
        }

    def text(self) -> str:
        return (
            f"{self.episodes} episodes: {self.settled} settled, {self.rejected} rejected, "
            f"{self.error} errors; included {self.included}, not merged {self.not_merged}, "
            f"disallowed {self.disallowed}; {self.elapsed:.1f} s, {self.rate:.0f} episodes/s"
        )


class Progress:
    """A one-line progress bar on a terminal (count, rate, and with a known input size the
    share read and an ETA); does nothing when the stream is not a terminal."""

    def __init__(
        self,
        stream: IO[str],
        total_bytes: int | None = None,
        position: Callable[[], int] | None = None,
        *,
        interval: float = 0.2,
        enabled: bool | None = None,
    ) -> None:
        self.stream = stream
        self.total = total_bytes if total_bytes else None
        self.position = position
        self.interval = interval
        self.enabled = stream.isatty() if enabled is None else enabled
        self.started = time.perf_counter()
        self.last = 0.0
        self.width = 0

    def update(self, done: int, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self.last < self.interval:
            return
        self.last = now
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        line = f"{done:,} episodes  {rate:,.0f}/s"
        if self.total is not None and self.position is not None:
            share = min(self.position() / self.total, 1.0)
            filled = int(share * 30)
            eta = elapsed * (1 - share) / share if share > 0 else 0.0
            line = f"[{'#' * filled}{'.' * (30 - filled)}] {share:4.0%}  {line}  ETA {_hms(eta)}"
        self.stream.write("\r" + line.ljust(self.width))
        self.width = len(line)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def _hms(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class _LineReader:
    """The lines of a binary stream, as read (bytes: a line that is not UTF-8 becomes an
    ``invalid_episode`` record like any malformed JSON), counting the bytes read."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.read = 0

    def __iter__(self) -> Iterator[bytes]:
        for raw in self.stream:
            self.read += len(raw)
            yield raw


def command(args: argparse.Namespace) -> int:
    """``daycare-settle batch``: the parsed arguments of the command line."""
    if args.workers is not None and args.workers < 1:
        raise DaycareSettleError(f"--workers must be at least 1, not {args.workers}")
    return run(
        args.source,
        args.policy,
        args.out,
        workers=args.workers,
        fail_fast=args.fail_fast,
        summary_file=args.summary_file,
        scheduler=args.scheduler,
        source_format=args.input_format,
    )


def run(
    source: str,
    policy: str,
    out: str,
    *,
    workers: int | None = None,
    fail_fast: bool = False,
    summary_file: str | None = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    source_format: InputFormat = "episode",
) -> int:
    """The ``batch`` command: 0 when every line settled or was rejected, 1 when some line
    was an error record (with ``--fail-fast``, after the first), 130 when interrupted;
    library errors (unknown policy, unreadable file) raise. ``chunk_size`` defaults to
    :data:`SHARD_CHUNK` when workers write shards, else :data:`DEFAULT_CHUNK`."""
    if scheduler is not None and source == "-":
        raise DaycareSettleError("--scheduler: the workers read the input file, give a path")
    _reader(source_format)
    summary = BatchSummary()
    handle: IO[bytes] = sys.stdin.buffer if source == "-" else open_input(source)
    reader = _LineReader(handle)
    # the share read and the ETA come from the local read position (none on a cluster)
    total = None if source == "-" or scheduler else os.fstat(handle.fileno()).st_size
    progress = Progress(sys.stderr, total, lambda: reader.read)
    shards: str | None = None
    try:
        # a regular file written by a pool: the workers write shards beside it, which are
        # appended to it here through its descriptor (nothing goes through its text layer)
        if scheduler is None and out != "-" and _worker_count(workers) > 1:
            shards = _shard_directory(out)
        sink: IO[str] = sys.stdout if out == "-" else open_output(out)
        try:
            if shards is not None:
                written = _settle_shards(
                    reader,
                    policy,
                    shards,
                    workers=_worker_count(workers),
                    chunk_size=SHARD_CHUNK if chunk_size is None else chunk_size,
                    source=source_format,
                )
                interrupted = _write_shards(
                    written, sink.fileno(), summary, progress, fail_fast=fail_fast
                )
            else:
                records = _records(
                    reader,
                    source,
                    policy,
                    workers=workers,
                    scheduler=scheduler,
                    chunk_size=DEFAULT_CHUNK if chunk_size is None else chunk_size,
                    source_format=source_format,
                )
                interrupted = _write(records, sink, summary, progress, fail_fast=fail_fast)
        finally:
            progress.close()
            summary.finished = time.perf_counter()
            if sink is sys.stdout:
                sink.flush()
            else:
                sink.close()
    finally:
        if shards is not None:  # the workers have stopped: no shard is being written
            shutil.rmtree(shards, ignore_errors=True)
        if handle is not sys.stdin.buffer:
            handle.close()
    stopped = "interrupted after " if interrupted else ""
    print(f"daycare-settle batch: {stopped}{summary.text()}", file=sys.stderr)
    if summary_file is not None:
        Path(summary_file).write_text(
            json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8"
        )
    if interrupted:
        return EXIT_INTERRUPTED
    return 1 if summary.error else 0


def _records(
    reader: _LineReader,
    source: str,
    policy: str,
    *,
    workers: int | None,
    scheduler: str | None,
    chunk_size: int,
    source_format: InputFormat,
) -> Iterator[BatchRecord]:
    """The records of the lines ``reader`` reads, or with a scheduler of the file
    ``source`` (the cluster's workers read it)."""
    if scheduler is not None:
        from .dask import settle_files  # noqa: PLC0415 - the optional extra

        return settle_files([source], policy, scheduler=scheduler, source=source_format)
    return settle_many(reader, policy, workers=workers, chunk_size=chunk_size, source=source_format)


def _write(
    records: Iterator[BatchRecord],
    sink: IO[str],
    summary: BatchSummary,
    progress: Progress,
    *,
    fail_fast: bool,
) -> bool:
    """Write the records as they come; ``True`` when interrupted (Ctrl-C): the workers are
    stopped and what was written stays."""
    try:
        for record in records:
            sink.write(record.to_json())
            sink.write("\n")
            summary.add(record)
            progress.update(summary.episodes)
            if fail_fast and record.status == "error":
                break
    except KeyboardInterrupt:
        return True
    finally:
        close = getattr(records, "close", None)
        if close is not None:
            close()
    return False


def _write_shards(
    shards: Iterator[Shard],
    sink: int,
    summary: BatchSummary,
    progress: Progress,
    *,
    fail_fast: bool,
) -> bool:
    """:func:`_write` for shards: each appended to the file ``sink`` (a descriptor) in
    input order and deleted, the same bytes, the same cut after the first error record with
    ``fail_fast``; ``True`` when interrupted (Ctrl-C)."""
    try:
        for path, facts in shards:
            cut = _first_error(facts) if fail_fast else None
            if cut is not None:
                facts = facts[: cut + 1]  # noqa: PLW2901 - only through the first error
            with open(path, "rb") as shard:
                try:
                    _append(shard.fileno(), sink, sum(fact[5] for fact in facts))
                except KeyboardInterrupt:  # raised once the shard was appended whole
                    summary.add_facts(facts)
                    raise
            summary.add_facts(facts)
            os.unlink(path)
            progress.update(summary.episodes)
            if cut is not None:
                break
    except KeyboardInterrupt:
        return True
    finally:
        close = getattr(shards, "close", None)
        if close is not None:
            close()
    return False


def _first_error(facts: list[Fact]) -> int | None:
    """The index of the first error record among a chunk's facts, if any."""
    return next((i for i, fact in enumerate(facts) if fact[0] == "error"), None)


def _shard_directory(out: str) -> str | None:
    """A new temporary directory beside ``out`` (the same file system, so a shard is copied
    in the kernel) when ``out`` is a regular file or new; ``None`` otherwise (a device, a
    pipe) or when none can be made there: then the records go through the command."""
    try:
        if not stat.S_ISREG(os.stat(out).st_mode):
            return None
    except FileNotFoundError:
        pass
    except OSError:
        return None
    target = Path(out).absolute()
    try:
        return tempfile.mkdtemp(prefix=f".{target.name}.shards-", dir=target.parent)
    except OSError:
        return None


def _append(source: int, target: int, count: int) -> None:
    """Append the first ``count`` bytes of file ``source`` to file ``target`` at its
    position. A Ctrl-C during the copy is raised once the copy is complete, so the output
    ends with a whole line as it does when the records are written through the command."""
    start = os.lseek(target, 0, os.SEEK_CUR)
    try:
        _copy(source, target, 0, count)
    except KeyboardInterrupt:
        done = os.lseek(target, 0, os.SEEK_CUR) - start
        _copy(source, target, done, count - done)
        raise


_NO_KERNEL_COPY = (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSOCK)


def _copy(source: int, target: int, offset: int, count: int) -> None:
    """Copy ``count`` bytes of ``source`` from ``offset`` to ``target`` at its position:
    ``os.copy_file_range``, else ``os.sendfile``, else read and write."""
    end = offset + count
    while offset < end:
        size = end - offset
        try:
            copied = os.copy_file_range(source, target, size, offset)
        except (AttributeError, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno not in _NO_KERNEL_COPY:
                raise
            try:
                copied = os.sendfile(target, source, offset, size)
            except (AttributeError, OSError) as exc2:
                if isinstance(exc2, OSError) and exc2.errno not in _NO_KERNEL_COPY:
                    raise
                os.lseek(source, offset, os.SEEK_SET)
                copied = os.write(target, os.read(source, min(size, 1 << 20)))
        if copied == 0:
            raise OSError(errno.EIO, "a shard is shorter than its records")
        offset += copied


def open_input(name: str) -> IO[bytes]:
    """An input file of JSON lines, read as bytes (closed by the caller)."""
    try:
        return open(name, "rb")
    except OSError as exc:
        raise DaycareSettleError(f"cannot read {name}: {exc.strerror}") from None


def open_output(name: str) -> IO[str]:
    """An output file of JSON lines: UTF-8 text, ``\\n`` line ends (closed by the caller)."""
    try:
        return open(name, "w", encoding="utf-8", newline="\n")
    except OSError as exc:
        raise DaycareSettleError(f"cannot write {name}: {exc.strerror}") from None
