"""The node's write-ahead log: the durable fold of the core's ``Persist`` effects.

Theory of operation
-------------------
The core asks for durability with ``Persist(hard_state, entries, snapshot)``
and ``consensus.storage.MemoryStorage.write`` defines what one such write
does to the stored state. The WAL stores each ``Persist`` as one record and
recovers by folding the records with that very function, so the state after
a restart is, by construction, what the core was told is durable. Entries
overwritten by a new leader are not rewritten in place: a later record whose
entries start at a lower index replaces the tail, exactly as the core meant.

Records live in numbered segment files; a new segment is started when the
current one would grow past ``segment_bytes``. The oldest segment always
begins with a *checkpoint* record (hard state, snapshot, and the entries
after the snapshot): the base the fold starts from. Compaction writes a new
checkpoint at the head of a new segment and then deletes every older
segment, all of whose entries are covered by the snapshot or copied into the
checkpoint. Snapshot data lives in snapshot files (``kv.snapshots``); a
record holds only the snapshot's metadata and the CRC of its data.

Durability: ``append`` only buffers; ``sync`` writes the buffer and fsyncs
once, so a caller appends many records and pays one fsync (group commit);
``kv.groupcommit.GroupCommit`` does the same for concurrent threads. Only
the last segment can end in a torn record: a segment is fsynced before the
next is started.

Recovery: a torn tail of the last segment (an incomplete record, or a last
record whose payload checksum fails and that ends at the end of the file) is
truncated away; any other bad record raises ``CorruptionError`` naming the
file and byte offset. The record format is in ``kv.walrecords``; the byte
layout in docs/storage.md.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from consensus.core import DurableState
from consensus.effects import Persist
from consensus.records import Snapshot
from consensus.storage import MemoryStorage
from kv.files import CorruptionError, Fsync, StorageError, fsync_directory, write_all
from kv.snapshots import read_snapshot, snapshot_files, snapshot_path, write_snapshot
from kv.walrecords import CHECKPOINT, encode_checkpoint, encode_persist, scan_segment

DEFAULT_SEGMENT_BYTES = 64 << 20
_SEGMENT = re.compile(r"wal-(\d{16})\.log")


def segment_files(directory: Path) -> list[tuple[int, Path]]:
    """(number, path) of every WAL segment in the directory, oldest first."""
    found = []
    for path in directory.iterdir():
        match = _SEGMENT.fullmatch(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def _segment_path(directory: Path, number: int) -> Path:
    return directory / f"wal-{number:016d}.log"


@dataclass(slots=True)
class RecoveryReport:
    """What recovery found and repaired, for the node's trace and logs."""

    #: (segment, offset it was cut at, bytes dropped) for a torn tail
    truncated: tuple[Path, int, int] | None = None
    #: files deleted: temp files, segments of an interrupted compaction, stray snapshots
    removed: list[Path] = field(default_factory=list)
    records: int = 0


# -- the log -------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class PendingSync:
    """Bytes handed to the OS up to record ``lsn``, awaiting one fsync of ``fd``."""

    lsn: int
    fd: int


class WriteAheadLog:
    """A segmented, checksummed log of ``Persist`` records in one directory.

    Not thread-safe; share it between threads through ``kv.groupcommit.GroupCommit``.
    Open with :meth:`open`; ``recovered`` is the durable state found on disk.
    """

    def __init__(
        self,
        directory: Path,
        lock_fd: int,
        layout: tuple[DurableState, list[tuple[int, Path]], list[int]],
        segment_bytes: int,
        fsync: Fsync,
        report: RecoveryReport,
    ) -> None:
        state, segments, tops = layout
        self.directory = directory
        self.recovered = state
        self.report = report
        self.segment_bytes = segment_bytes
        self._lock_fd = lock_fd
        self._fsync = fsync
        self._state = MemoryStorage(state)
        self._segments = segments
        #: per segment, the highest entry index any of its records wrote
        self._tops = tops
        self._fd = os.open(segments[-1][1], os.O_WRONLY | os.O_APPEND)
        self._size = os.fstat(self._fd).st_size
        self._buffer = bytearray()
        self._appended = 0  # records appended by this process
        self._written = 0  # ... of which handed to the OS
        self._durable = 0  # ... of which fsynced
        self._failed: BaseException | None = None

    # -- opening ---------------------------------------------------------------

    @classmethod
    def open(
        cls,
        directory: Path,
        initial: DurableState | None = None,
        *,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        fsync: Fsync = os.fsync,
    ) -> WriteAheadLog:
        """Recover the log in ``directory``, or create it from ``initial``
        (required when the directory holds no segment yet). The directory is
        locked (``LOCK``, flock) until ``close``: one process per log."""
        directory.mkdir(parents=True, exist_ok=True)
        lock_fd = _lock_directory(directory)
        try:
            report = RecoveryReport()
            for tmp in sorted(directory.glob("*.tmp")):
                tmp.unlink()
                report.removed.append(tmp)
            segments = segment_files(directory)
            if segments:
                state, tops = _recover(directory, segments, fsync, report)
                layout = (state, segment_files(directory), tops)
            elif initial is not None:
                layout = _create(directory, initial, fsync)
            else:
                raise StorageError(f"{directory}: no WAL segments and no initial state given")
            if report.removed:
                fsync_directory(directory, fsync)
            return cls(directory, lock_fd, layout, segment_bytes, fsync, report)
        except BaseException:
            os.close(lock_fd)
            raise

    # -- state ------------------------------------------------------------------

    def state(self) -> DurableState:
        """The fold of every record appended so far (durable once synced)."""
        return self._state.durable()

    @property
    def appended_lsn(self) -> int:
        """Records appended since open; ``append`` returns each one's number."""
        return self._appended

    @property
    def durable_lsn(self) -> int:
        """Records appended since open that are known to be on disk."""
        return self._durable

    @property
    def segments(self) -> list[Path]:
        return [path for _, path in self._segments]

    # -- writing ----------------------------------------------------------------

    def append(self, persist: Persist) -> int:
        """Add one ``Persist`` to the log (not yet durable: call ``sync``);
        returns its record number. A new snapshot's file is written (and
        fsynced) here, before the record that refers to it."""
        self._check()
        snap = persist.snapshot
        if snap is not None and snap.index > self._state.snapshot.index:
            write_snapshot(self.directory, snap, self._fsync)
        self._add(encode_persist(persist), persist.entries[-1].index if persist.entries else 0)
        self._state.write(persist)
        return self._appended

    def _add(self, record: bytes, top: int) -> None:
        if self._size > 0 and self._size + len(record) > self.segment_bytes:
            self._roll()
        self._tops[-1] = max(self._tops[-1], top)
        self._buffer += record
        self._size += len(record)
        self._appended += 1

    def sync(self) -> None:
        """Make every appended record durable, with one fsync (none if there
        is nothing new)."""
        if self._durable < self._appended or self._buffer:
            self.finish_sync(self.begin_sync())

    def begin_sync(self) -> PendingSync:
        """First half of ``sync``: hand the buffer to the OS. The second half
        (``finish_sync``) may then run while other threads append."""
        self._check()
        self._write_out()
        return PendingSync(self._written, os.dup(self._fd))

    def finish_sync(self, pending: PendingSync) -> None:
        """fsync what ``begin_sync`` wrote. A failed fsync is fatal: the kernel
        may have dropped the dirty pages, so the log refuses all further use
        and the node must restart and recover from what is on disk."""
        try:
            self._fsync(pending.fd)
        except BaseException as err:
            self._failed = err
            raise StorageError(f"{self.directory}: fsync failed: {err}") from err
        finally:
            os.close(pending.fd)
        self._durable = max(self._durable, pending.lsn)

    def _write_out(self) -> None:
        if self._buffer:
            write_all(self._fd, self._buffer)
            self._buffer.clear()
        self._written = self._appended

    def _roll(self) -> None:
        """Close the current segment (durably) and start the next one."""
        self.finish_sync(self.begin_sync())
        os.close(self._fd)
        number = self._segments[-1][0] + 1
        path = _segment_path(self.directory, number)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        fsync_directory(self.directory, self._fsync)
        self._segments.append((number, path))
        self._tops.append(0)
        self._size = 0

    def _check(self) -> None:
        if self._failed is not None:
            raise StorageError(f"{self.directory}: unusable after a failed fsync: {self._failed}")

    # -- compaction -----------------------------------------------------------

    def compact(self) -> list[Path]:
        """Delete what the durable snapshot makes unnecessary; returns the
        deleted files. If the oldest segment is closed and wholly covered by
        the snapshot (no entry in it above the snapshot's index), start a new
        segment with a checkpoint of the current state (the snapshot plus the
        entries after it), then delete every older segment. In any case
        delete snapshot files older than the current snapshot. Syncs first,
        so only durable state is checkpointed."""
        self.sync()
        removed: list[Path] = []
        state = self.state()
        if len(self._segments) > 1 and self._tops[0] <= state.snapshot.index:
            self._roll()
            self._add(encode_checkpoint(state), state.entries[-1].index if state.entries else 0)
            self.sync()
            for _, path in self._segments[:-1]:
                path.unlink()
                removed.append(path)
            self._segments, self._tops = self._segments[-1:], self._tops[-1:]
        current = self._state.snapshot.index
        for index, path in snapshot_files(self.directory):
            if index < current:
                path.unlink()
                removed.append(path)
        if removed:
            fsync_directory(self.directory, self._fsync)
        return removed

    def close(self) -> None:
        """Sync and close. Appends not synced before a crash are lost; close
        makes them durable."""
        try:
            if self._failed is None:
                self.sync()
        finally:
            os.close(self._fd)
            os.close(self._lock_fd)

    def drop(self) -> None:
        """Close without syncing, as a crash would: appends not yet synced
        are lost (what a failed node, or a test of crashes, wants)."""
        self._buffer.clear()
        os.close(self._fd)
        os.close(self._lock_fd)

    def __enter__(self) -> WriteAheadLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lock_directory(directory: Path) -> int:
    fd = os.open(directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StorageError(f"{directory}: the log is in use by another process") from None
    return fd


def _create(
    directory: Path, initial: DurableState, fsync: Fsync
) -> tuple[DurableState, list[tuple[int, Path]], list[int]]:
    """A new log: the initial snapshot's file, then a first segment that
    holds one checkpoint of ``initial``."""
    write_snapshot(directory, initial.snapshot, fsync)
    path = _segment_path(directory, 1)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        write_all(fd, encode_checkpoint(initial))
        fsync(fd)
    finally:
        os.close(fd)
    fsync_directory(directory, fsync)
    top = initial.entries[-1].index if initial.entries else 0
    return initial, [(1, path)], [top]


def _recover(
    directory: Path, segments: list[tuple[int, Path]], fsync: Fsync, report: RecoveryReport
) -> tuple[DurableState, list[int]]:
    """Scan, repair a torn tail, drop leftovers, fold, attach snapshot data.
    Also returns each kept segment's highest entry index."""
    scanned = [scan_segment(path, i == len(segments) - 1) for i, (_, path) in enumerate(segments)]
    bases = [i for i, s in enumerate(scanned) if s.records and s.records[0][0] == CHECKPOINT]
    if not bases:
        raise CorruptionError(segments[0][1], 0, "no segment begins with a checkpoint record")
    last = scanned[-1]
    if last.good_end < last.size:
        os.truncate(last.path, last.good_end)
        fd = os.open(last.path, os.O_WRONLY)
        try:
            fsync(fd)
        finally:
            os.close(fd)
        report.truncated = (last.path, last.good_end, last.size - last.good_end)
    base = bases[-1]
    for s in scanned[:base]:  # older than the newest checkpoint: an interrupted compaction
        s.path.unlink()
        report.removed.append(s.path)
    storage: MemoryStorage | None = None
    data_crc = 0
    tops = []
    for s in scanned[base:]:
        tops.append(max((e.index for _, rec in s.records for e in rec.entries), default=0))
        for kind, rec in s.records:
            if kind == CHECKPOINT:
                assert rec.snapshot is not None
                storage = MemoryStorage(DurableState(rec.hard_state, rec.snapshot, rec.entries))
                data_crc = rec.data_crc
            else:
                assert storage is not None
                if rec.snapshot is not None and rec.snapshot.index > storage.snapshot.index:
                    data_crc = rec.data_crc
                storage.write(Persist(0, rec.hard_state, rec.entries, rec.snapshot))
            report.records += 1
    assert storage is not None
    snapshot = _load_snapshot(directory, storage.snapshot, data_crc)
    for index, path in snapshot_files(directory):
        if index > snapshot.index:  # written, but its record never became durable
            path.unlink()
            report.removed.append(path)
    return DurableState(storage.hard_state, snapshot, tuple(storage.entries)), tops


def _load_snapshot(directory: Path, meta: Snapshot, data_crc: int) -> Snapshot:
    path = snapshot_path(directory, meta.index)
    if not path.exists():
        raise StorageError(f"{path}: snapshot file the log refers to is missing")
    snapshot = read_snapshot(path)
    if dataclasses.replace(snapshot, data="") != meta or zlib.crc32(snapshot.data.encode()) != (
        data_crc
    ):
        raise CorruptionError(path, 0, "snapshot file does not match the log's record of it")
    return snapshot
