"""File primitives of the node's storage, shared by the WAL and snapshot files.

Every fsync goes through a function the caller passes in (``os.fsync`` by
default), so tests count fsyncs, and inject failures, instead of timing them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

Fsync = Callable[[int], None]


class StorageError(Exception):
    """The node's storage cannot be used (a failed fsync, a missing file...)."""


class CorruptionError(StorageError):
    """Stored bytes fail their integrity check where a crash cannot explain it.

    ``path`` and ``offset`` name the first bad byte range; the node must not
    start from this storage (an operator repairs or replaces it).
    """

    def __init__(self, path: Path, offset: int, reason: str) -> None:
        super().__init__(f"{path}: corrupt at byte offset {offset}: {reason}")
        self.path = path
        self.offset = offset
        self.reason = reason


def fsync_directory(directory: Path, fsync: Fsync) -> None:
    """Make the directory's entries (creations, renames, deletions) durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """``os.write`` until every byte is written (short writes are legal)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_atomically(path: Path, data: bytes, fsync: Fsync) -> None:
    """Replace ``path`` by ``data`` so that a crash leaves the old file or the
    new one, never a mix: write a temp file, fsync it, rename it over
    ``path``, fsync the directory. A crash can leave ``<name>.tmp`` behind,
    which readers ignore and recovery deletes."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        write_all(fd, data)
        fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_directory(path.parent, fsync)
