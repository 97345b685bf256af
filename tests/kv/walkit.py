"""Helpers for the storage tests: a counting fsync and writes that obey the
core's ``Persist`` contract."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from consensus import DurableState, Entry, HardState, Membership, Persist, Snapshot
from kv.wal import DEFAULT_SEGMENT_BYTES, WriteAheadLog

MEMBERS = Membership((1, 2, 3))
BOOT = DurableState.bootstrap(MEMBERS)


class CountingFsync:
    """Counts fsyncs (and really performs them); ``gate`` makes the next
    fsync block until released, to line up concurrent committers."""

    def __init__(self) -> None:
        self.count = 0
        self.gate: threading.Event | None = None
        self.entered = threading.Event()

    def __call__(self, fd: int) -> None:
        self.count += 1
        gate, self.gate = self.gate, None
        if gate is not None:
            self.entered.set()
            assert gate.wait(10), "the test never released the fsync"
        os.fsync(fd)


def entries(first: int, last: int, term: int, tag: str = "v") -> tuple[Entry, ...]:
    return tuple(Entry(i, term, f"{tag}{i}") for i in range(first, last + 1))


def write(
    index: int,
    term: int,
    commit: int = 0,
    ents: tuple[Entry, ...] = (),
    snap: Snapshot | None = None,
) -> Persist:
    return Persist(index, HardState(term, term % 3 + 1, commit), ents, snap)


def recover(directory: Path, segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> DurableState:
    """Open the log in ``directory``, close it, and return what it recovered."""
    wal = WriteAheadLog.open(directory, segment_bytes=segment_bytes)
    wal.close()
    return wal.recovered


def segment(directory: Path, number: int) -> Path:
    return directory / f"wal-{number:016d}.log"
