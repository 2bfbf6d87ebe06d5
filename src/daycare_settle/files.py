"""Reading input files safely: regular files only, bounded in size.

Rule files, catalogues, disease tables and episode files are all read through
:func:`read_bounded`. A FIFO would hang a plain ``read()``, a link to ``/dev/zero`` would
exhaust memory and a directory gives an unhelpful ``IsADirectoryError``: each is refused
here with a message naming the problem. Callers turn :class:`UnreadableFile` into their
own error (``PolicyLoadError`` for rule files, ``InvalidEpisode`` for episodes), adding the
file name.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

RULE_FILE_LIMIT = 4 * 1024 * 1024
"""The largest rule, frame or disease-table file read (4 MiB)."""
CATALOGUE_LIMIT = 64 * 1024 * 1024
"""The largest code catalogue read (64 MiB: a national catalogue of some 100 000 entries)."""
EPISODE_FILE_LIMIT = 256 * 1024 * 1024
"""The largest episode file read (256 MiB: an episode of some 500 000 charges)."""


class UnreadableFile(Exception):
    """A file could not be read as input; ``str()`` says why (without the file name)."""


def read_bounded(path: str | Path, *, limit: int) -> bytes:
    """The bytes of the regular file at ``path``, refusing anything else or anything larger
    than ``limit`` bytes. Links are followed; what they point to must be a regular file."""
    name = os.fspath(path)
    if "\x00" in name:
        raise UnreadableFile("the path contains a NUL character")
    try:
        # O_NONBLOCK: opening a FIFO with no writer returns at once instead of hanging.
        descriptor = os.open(name, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise UnreadableFile(f"cannot open: {exc.strerror or exc}") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"not a regular file ({_kind(info.st_mode)})")
        if info.st_size > limit:
            raise UnreadableFile(f"{info.st_size} bytes is larger than the limit of {limit}")
        chunks: list[bytes] = []
        remaining = limit + 1
        while remaining > 0:
            try:
                chunk = os.read(descriptor, min(remaining, 1 << 20))
            except OSError as exc:
                raise UnreadableFile(f"cannot read: {exc.strerror or exc}") from None
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise UnreadableFile(f"larger than the limit of {limit} bytes")
        return data
    finally:
        os.close(descriptor)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"
