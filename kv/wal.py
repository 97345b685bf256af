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
once, so a caller appends many records and pays one fsync (group commit).
``GroupCommit`` does the same for concurrent threads. Only the last segment
can end in a torn record: a segment is fsynced before the next is started.

Recovery: a torn tail of the last segment (an incomplete record, or a last
record whose payload checksum fails and that ends at the end of the file) is
truncated away; any other bad record raises ``CorruptionError`` naming the
file and byte offset. The byte layout is in docs/storage.md.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import re
import struct
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from consensus.codec import CodecError, decode_entry, decode_snapshot, encode_entry, encode_snapshot
from consensus.core import DurableState
from consensus.effects import Persist
from consensus.records import HardState, Snapshot
from consensus.storage import MemoryStorage
from kv.files import CorruptionError, Fsync, StorageError, fsync_directory, write_all
from kv.snapshots import read_snapshot, snapshot_files, snapshot_path, write_snapshot

#: payload length, record type, 3 zero bytes, payload CRC-32, CRC-32 of the 12 bytes before it
HEADER = struct.Struct("<IB3xII")
CHECKPOINT = 1
PERSIST = 2
RECORD_TYPES = (CHECKPOINT, PERSIST)
#: a length above this is corruption, never a record
MAX_RECORD = 1 << 30
FORMAT_VERSION = 1
DEFAULT_SEGMENT_BYTES = 64 << 20
_SEGMENT = re.compile(r"wal-(\d{16})\.log")


# -- record encoding -----------------------------------------------------------


def encode_record(kind: int, payload: bytes) -> bytes:
    head = struct.pack("<IB3xI", len(payload), kind, zlib.crc32(payload))
    return head + struct.pack("<I", zlib.crc32(head)) + payload


def _snapshot_meta(snapshot: Snapshot) -> dict[str, Any]:
    meta = encode_snapshot(dataclasses.replace(snapshot, data=""))
    del meta["data"]
    meta["data_crc"] = zlib.crc32(snapshot.data.encode())
    return meta


def _hard_state(hs: HardState) -> list[int]:
    return [hs.term, hs.vote, hs.commit]


def encode_persist(persist: Persist) -> bytes:
    body: dict[str, Any] = {
        "hs": _hard_state(persist.hard_state),
        "entries": [encode_entry(e) for e in persist.entries],
    }
    if persist.snapshot is not None:
        body["snapshot"] = _snapshot_meta(persist.snapshot)
    return encode_record(PERSIST, orjson.dumps(body))


def encode_checkpoint(state: DurableState) -> bytes:
    body = {
        "v": FORMAT_VERSION,
        "hs": _hard_state(state.hard_state),
        "snapshot": _snapshot_meta(state.snapshot),
        "entries": [encode_entry(e) for e in state.entries],
    }
    return encode_record(CHECKPOINT, orjson.dumps(body))


@dataclass(slots=True, frozen=True)
class _Decoded:
    """A record's payload as core values; snapshots carry no data yet."""

    hard_state: HardState
    entries: tuple[Any, ...]
    snapshot: Snapshot | None
    data_crc: int


def _decode_payload(kind: int, payload: bytes) -> _Decoded:
    body = orjson.loads(payload)
    if not isinstance(body, dict):
        raise CodecError("record payload must be an object")
    if kind == CHECKPOINT and body.get("v") != FORMAT_VERSION:
        raise CodecError(f"checkpoint format version {body.get('v')!r} is not {FORMAT_VERSION}")
    hs = body.get("hs")
    if not (isinstance(hs, list) and len(hs) == 3 and all(isinstance(x, int) for x in hs)):
        raise CodecError(f"hard state must be [term, vote, commit]: {hs!r}")
    entries = body.get("entries")
    if not isinstance(entries, list):
        raise CodecError("record entries must be a list")
    snapshot, data_crc = None, 0
    if "snapshot" in body or kind == CHECKPOINT:
        meta = body.get("snapshot")
        if not isinstance(meta, dict) or not isinstance(meta.get("data_crc"), int):
            raise CodecError("record snapshot must be an object with data_crc")
        snapshot = decode_snapshot({**meta, "data": ""})
        data_crc = meta["data_crc"]
    return _Decoded(HardState(*hs), tuple(decode_entry(e) for e in entries), snapshot, data_crc)


# -- reading segments ------------------------------------------------------------


@dataclass(slots=True)
class _Scanned:
    path: Path
    records: list[tuple[int, _Decoded]]  # (type, payload) of each good record
    good_end: int  # bytes up to the end of the last good record
    size: int


def _scan(path: Path, is_last: bool) -> _Scanned:
    """Read a segment's records; tolerate a torn tail only in the last segment."""
    raw = path.read_bytes()
    records: list[tuple[int, _Decoded]] = []
    offset, size = 0, len(raw)
    while offset < size:
        torn = _torn_reason(raw, offset, path)
        if torn is not None:
            if is_last:
                break
            raise CorruptionError(path, offset, torn + " (not in the last segment)")
        length, kind, crc, _ = HEADER.unpack_from(raw, offset)
        start, end = offset + HEADER.size, offset + HEADER.size + length
        if zlib.crc32(raw[start:end]) != crc:
            if is_last and end == size:
                break  # the last record of the log, torn while being written
            raise CorruptionError(path, offset, "record payload checksum mismatch")
        try:
            records.append((kind, _decode_payload(kind, raw[start:end])))
        except (orjson.JSONDecodeError, CodecError) as err:
            raise CorruptionError(path, offset, f"undecodable record: {err}") from None
        offset = end
    return _Scanned(path, records, offset, size)


def _torn_reason(raw: bytes, offset: int, path: Path) -> str | None:
    """Why the record at ``offset`` is cut short, or None if it is complete.
    A complete header that fails its checks raises ``CorruptionError``: it is
    never taken for a torn tail, since its length cannot be trusted."""
    if len(raw) - offset < HEADER.size:
        return "incomplete record header"
    length, kind, _, head_crc = HEADER.unpack_from(raw, offset)
    if zlib.crc32(raw[offset : offset + HEADER.size - 4]) != head_crc:
        raise CorruptionError(path, offset, "record header checksum mismatch")
    if kind not in RECORD_TYPES or length > MAX_RECORD:
        raise CorruptionError(path, offset, f"impossible record header (type {kind})")
    if offset + HEADER.size + length > len(raw):
        return "record extends past the end of the file"
    return None


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

    Not thread-safe; share it between threads through ``GroupCommit``.
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
    scanned = [_scan(path, i == len(segments) - 1) for i, (_, path) in enumerate(segments)]
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


# -- group commit ----------------------------------------------------------------


class GroupCommit:
    """Many threads commit records; each fsync covers every record appended
    before it started.

    A committer appends its record and waits until it is durable. If no sync
    is running it becomes the syncer (fsyncs for everyone appended so far);
    otherwise it waits for the running one and, if that did not cover it,
    the next sync (started by the first waiter to wake) does. So under load
    the number of fsyncs is about the number of batches, not of records.
    """

    def __init__(self, wal: WriteAheadLog) -> None:
        self.wal = wal
        self._cond = threading.Condition(threading.Lock())
        self._syncing = False
        self._waiting = 0

    def append(self, persist: Persist) -> int:
        with self._cond:
            return self.wal.append(persist)

    def commit(self, persist: Persist) -> int:
        """Append and wait until durable; returns the record number."""
        lsn = self.append(persist)
        self.wait_durable(lsn)
        return lsn

    def wait_durable(self, lsn: int) -> None:
        with self._cond:
            self._waiting += 1
            self._cond.notify_all()
            try:
                while self.wal.durable_lsn < lsn:
                    if self._syncing:
                        self._cond.wait()
                    else:
                        self._sync_for_all()
            finally:
                self._waiting -= 1

    def _sync_for_all(self) -> None:
        """Called holding the lock; fsyncs without it so others can append."""
        self._syncing = True
        try:
            pending = self.wal.begin_sync()
            self._cond.release()
            try:
                self.wal.finish_sync(pending)
            finally:
                self._cond.acquire()
        finally:
            self._syncing = False
            self._cond.notify_all()

    def compact(self) -> list[Path]:
        with self._cond:
            while self._syncing:
                self._cond.wait()
            return self.wal.compact()

    def await_waiters(self, count: int, timeout: float) -> bool:
        """Block until ``count`` committers are waiting (for tests and
        diagnostics); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._waiting >= count, timeout)
