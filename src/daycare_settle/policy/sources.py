"""The files a policy reads: bounded reading, change stamps and the combined digest.

Every file a compiled policy depends on (its rule file, the frame it extends, its
catalogues and disease tables) is read here, once, through :func:`read_bounded`; its
SHA-256 and a stamp of its ``stat`` are kept. The policy cache re-compiles when any stamp
changes, and the result's ``policy.sha256`` is the digest over all of them (see
:func:`combined_sha256`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..files import UnreadableFile, read_bounded
from ..models.settlement import PolicyFile

Stamp = tuple[str, int, int, int, int]
"""(absolute path, st_mtime_ns, st_ctime_ns, st_size, st_ino) of a file when it was read."""


@dataclass(frozen=True)
class Source:
    """One file read for a policy: its bytes, digest and stamp."""

    path: Path
    raw: bytes
    sha256: str
    stamp: Stamp


def read_source(path: Path, *, limit: int) -> Source:
    """Read a regular file of at most ``limit`` bytes, stamping it first (a change after
    the stamp is noticed at the next lookup). Raises :class:`UnreadableFile`."""
    name = os.fspath(path)
    if "\x00" in name:
        raise UnreadableFile("the path contains a NUL character")
    try:
        info = os.stat(name)
    except OSError as exc:
        raise UnreadableFile(f"cannot open: {exc.strerror or exc}") from None
    raw = read_bounded(name, limit=limit)
    stamp = (
        os.path.abspath(name),
        info.st_mtime_ns,
        info.st_ctime_ns,
        info.st_size,
        info.st_ino,
    )
    return Source(path, raw, hashlib.sha256(raw).hexdigest(), stamp)


def unchanged(stamps: tuple[Stamp, ...]) -> bool:
    """Whether every file still has the stamp it had when it was read."""
    for name, mtime, ctime, size, inode in stamps:
        try:
            info = os.stat(name)
        except OSError:
            return False
        if (info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino) != (
            mtime,
            ctime,
            size,
            inode,
        ):
            return False
    return True


def relative(path: Path, base: Path) -> str:
    """``path`` relative to the folder ``base``, with ``/`` separators: the same text on
    every machine that holds the same tree."""
    return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(base))).as_posix()


def combined_sha256(files: tuple[PolicyFile, ...]) -> str:
    """The SHA-256 of the manifest ``"<sha256>  <path>\\n"`` per file, sorted by path and
    encoded as UTF-8 (what ``sha256sum`` prints for the files, sorted, from the rule
    file's folder; ``sha256sum <files> | sort -k2 | sha256sum`` reproduces it)."""
    manifest = "".join(f"{f.sha256}  {f.path}\n" for f in sorted(files, key=lambda f: f.path))
    return hashlib.sha256(manifest.encode("utf-8")).hexdigest()
