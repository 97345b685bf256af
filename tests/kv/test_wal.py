"""The write-ahead log: round trips, torn tails, corruption, rollover,
compaction and fsync counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from consensus import DurableState, MemoryStorage, Snapshot
from kv.files import CorruptionError, StorageError
from kv.snapshots import snapshot_path
from kv.wal import WriteAheadLog, segment_files
from kv.walrecords import HEADER
from tests.kv.walkit import BOOT, MEMBERS, CountingFsync, entries, recover, segment, write


def open_log(directory: Path, **kw: object) -> WriteAheadLog:
    return WriteAheadLog.open(directory, BOOT, **kw)  # type: ignore[arg-type]


def test_a_new_log_recovers_its_initial_state(tmp_path: Path) -> None:
    open_log(tmp_path).close()
    reopened = WriteAheadLog.open(tmp_path)
    assert reopened.recovered == BOOT
    reopened.close()


def test_a_directory_without_a_log_needs_an_initial_state(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no WAL segments"):
        WriteAheadLog.open(tmp_path)


def test_restart_gives_the_same_durable_state(tmp_path: Path) -> None:
    mirror = MemoryStorage(BOOT)
    with open_log(tmp_path) as wal:
        for w in [
            write(1, 1, 1, entries(2, 4, 1)),
            write(2, 2, 3),
            write(3, 2, 4, entries(5, 6, 2)),
        ]:
            wal.append(w)
            mirror.write(w)
        wal.sync()
        assert wal.state() == mirror.durable()
    assert recover(tmp_path) == mirror.durable()


def test_appends_not_synced_are_lost_in_a_crash(tmp_path: Path) -> None:
    wal = open_log(tmp_path)
    wal.append(write(1, 1, 0, entries(2, 3, 1)))
    wal.sync()
    durable = wal.state()
    wal.append(write(2, 1, 0, entries(4, 5, 1)))
    wal.drop()
    assert recover(tmp_path) == durable


def test_overwritten_entries_are_replaced_on_recovery(tmp_path: Path) -> None:
    """A new leader overwrites a conflicting tail: the later record wins, also
    when the overwritten entries sit in an older segment."""
    with open_log(tmp_path, segment_bytes=200) as wal:
        wal.append(write(1, 1, 1, entries(2, 10, 1)))
        for i in range(11, 16):
            wal.append(write(i, 1, 1, entries(i, i, 1)))
        wal.append(write(20, 2, 5, entries(6, 8, 2, tag="new")))
    recovered = recover(tmp_path)
    assert len(segment_files(tmp_path)) > 1
    assert [(e.index, e.term) for e in recovered.entries] == [(i, 1) for i in range(2, 6)] + [
        (6, 2),
        (7, 2),
        (8, 2),
    ]
    assert recovered.entries[-1].data == "new8"
    assert recovered.hard_state.commit == 5


def durable_prefixes(directory: Path, count: int) -> tuple[list[int], list[DurableState]]:
    """Write ``count`` records, syncing each; the file size and state after each."""
    sizes, states = [], []
    with open_log(directory) as wal:
        sizes.append(segment(directory, 1).stat().st_size)
        states.append(wal.state())
        for i in range(count):
            wal.append(write(i + 1, 1, i, entries(i + 2, i + 2, 1, tag="x" * i)))
            wal.sync()
            sizes.append(segment(directory, 1).stat().st_size)
            states.append(wal.state())
    return sizes, states


def test_a_torn_tail_of_any_length_recovers_the_durable_prefix(tmp_path: Path) -> None:
    sizes, states = durable_prefixes(tmp_path / "orig", 4)
    total = sizes[-1]
    for cut in range(1, total - sizes[0] + 1):
        work = tmp_path / f"cut{cut}"
        shutil.copytree(tmp_path / "orig", work)
        seg = segment(work, 1)
        seg.write_bytes(seg.read_bytes()[: total - cut])
        wal = WriteAheadLog.open(work)
        kept = max(i for i, size in enumerate(sizes) if size <= total - cut)
        assert wal.recovered == states[kept], f"cut {cut} bytes"
        assert seg.stat().st_size == sizes[kept]
        if sizes[kept] != total - cut:
            assert wal.report.truncated == (seg, sizes[kept], total - cut - sizes[kept])
        # The repaired log takes new writes after the durable prefix.
        wal.append(write(99, 3, 0))
        wal.close()
        assert recover(work).hard_state.term == 3


def test_a_bad_checksum_on_the_very_last_record_is_a_torn_tail(tmp_path: Path) -> None:
    sizes, states = durable_prefixes(tmp_path, 3)
    seg = segment(tmp_path, 1)
    raw = bytearray(seg.read_bytes())
    raw[-1] ^= 0x40
    seg.write_bytes(bytes(raw))
    wal = WriteAheadLog.open(tmp_path)
    assert wal.recovered == states[-2]
    assert wal.report.truncated == (seg, sizes[-2], sizes[-1] - sizes[-2])
    wal.close()


@pytest.mark.parametrize("where", ["header", "payload", "last header"])
def test_a_flipped_byte_before_the_tail_refuses_to_start(tmp_path: Path, where: str) -> None:
    sizes, _ = durable_prefixes(tmp_path, 4)
    record = {"header": 1, "payload": 2, "last header": 4}[where]
    start = sizes[record - 1]
    offset = start + (HEADER.size + 3 if where == "payload" else 2)
    seg = segment(tmp_path, 1)
    raw = bytearray(seg.read_bytes())
    raw[offset] ^= 0x01
    seg.write_bytes(bytes(raw))
    with pytest.raises(CorruptionError) as err:
        WriteAheadLog.open(tmp_path)
    assert err.value.path == seg and err.value.offset == start
    assert str(seg) in str(err.value) and f"offset {start}" in str(err.value)
    assert seg.read_bytes() == bytes(raw)  # nothing was "repaired"


def test_a_torn_record_in_an_older_segment_is_corruption(tmp_path: Path) -> None:
    with open_log(tmp_path, segment_bytes=150) as wal:
        for i in range(1, 8):
            wal.append(write(i, 1, 0, entries(i + 1, i + 1, 1)))
    first = segment(tmp_path, 1)
    first.write_bytes(first.read_bytes()[:-5])
    with pytest.raises(CorruptionError, match="not in the last segment") as err:
        WriteAheadLog.open(tmp_path)
    assert err.value.path == first


def test_segments_roll_over_at_the_size_limit(tmp_path: Path) -> None:
    limit = 400
    mirror = MemoryStorage(BOOT)
    with open_log(tmp_path, segment_bytes=limit) as wal:
        for i in range(1, 40):
            w = write(i, 1, i, entries(i + 1, i + 1, 1, tag="p" * 20))
            wal.append(w)
            mirror.write(w)
        assert wal.segments == [p for _, p in segment_files(tmp_path)]
    files = segment_files(tmp_path)
    assert [n for n, _ in files] == list(range(1, len(files) + 1))
    assert len(files) >= 4
    assert all(p.stat().st_size <= limit for _, p in files)
    assert recover(tmp_path, segment_bytes=limit) == mirror.durable()


def snapshot_at(index: int, term: int, data: str = "state") -> Snapshot:
    return Snapshot(index, term, MEMBERS, data, 1234 + index)


def test_compaction_deletes_covered_segments_and_old_snapshots(tmp_path: Path) -> None:
    mirror = MemoryStorage(BOOT)
    wal = open_log(tmp_path, segment_bytes=300)
    writes = [write(i, 1, i, entries(i + 1, i + 1, 1)) for i in range(1, 30)]
    writes.append(write(30, 1, 25, snap=snapshot_at(25, 1)))
    for w in writes:
        wal.append(w)
        mirror.write(w)
    before = wal.segments
    removed = wal.compact()
    assert set(before) <= set(removed) and snapshot_path(tmp_path, 1) in removed
    assert len(wal.segments) == 1 and not any(p.exists() for p in removed)
    assert wal.state() == mirror.durable()
    assert [e.index for e in wal.state().entries] == list(range(26, 31))
    tail = write(31, 2, 28, entries(31, 32, 2))
    wal.append(tail)
    mirror.write(tail)
    wal.close()
    recovered = recover(tmp_path)
    assert recovered == mirror.durable() and recovered.snapshot.data == "state"


def test_an_interrupted_compaction_recovers_from_the_newest_checkpoint(tmp_path: Path) -> None:
    wal = open_log(tmp_path, segment_bytes=200)
    for i in range(1, 12):
        wal.append(write(i, 1, i, entries(i + 1, i + 1, 1)))
    wal.append(write(12, 1, 8, snap=snapshot_at(8, 1)))
    wal.sync()
    leftovers = {p: p.read_bytes() for p in wal.segments}
    wal.compact()
    state = wal.state()
    wal.close()
    for path, raw in leftovers.items():  # the deletions never reached the disk
        path.write_bytes(raw)
    reopened = WriteAheadLog.open(tmp_path)
    assert reopened.recovered == state
    assert set(leftovers) <= set(reopened.report.removed)
    assert len(segment_files(tmp_path)) == 1
    reopened.close()


def test_installing_a_snapshot_that_conflicts_with_the_log_drops_the_log(tmp_path: Path) -> None:
    mirror = MemoryStorage(BOOT)
    with open_log(tmp_path) as wal:
        ws = [
            write(1, 1, 2, entries(2, 6, 1)),
            write(2, 3, 9, snap=snapshot_at(9, 3)),  # log ends at 6: dropped
            write(3, 3, 10, entries(10, 11, 3)),
            write(4, 3, 10, snap=snapshot_at(10, 3, "later")),  # entry 10 matches: 11 is kept
        ]
        for w in ws:
            wal.append(w)
            mirror.write(w)
    recovered = recover(tmp_path)
    assert recovered == mirror.durable()
    assert [e.index for e in recovered.entries] == [11]
    assert recovered.snapshot.data == "later"


def test_one_fsync_covers_many_appends(tmp_path: Path) -> None:
    fsync = CountingFsync()
    wal = open_log(tmp_path, fsync=fsync)
    fsync.count = 0
    for i in range(1, 11):
        wal.append(write(i, 1, 0, entries(i + 1, i + 1, 1)))
    assert fsync.count == 0 and wal.durable_lsn == 0
    wal.sync()
    assert fsync.count == 1 and wal.durable_lsn == wal.appended_lsn == 10
    wal.sync()
    assert fsync.count == 1  # nothing new: no fsync
    wal.append(write(11, 1, 0, snap=snapshot_at(5, 1)))
    assert fsync.count == 3  # the snapshot file and its directory, before the record
    wal.close()
    assert fsync.count == 4


def test_a_failed_fsync_makes_the_log_unusable(tmp_path: Path) -> None:
    failing = {"now": False}

    def fsync(fd: int) -> None:
        if failing["now"]:
            raise OSError(5, "Input/output error")

    wal = open_log(tmp_path, fsync=fsync)
    wal.append(write(1, 1))
    failing["now"] = True
    with pytest.raises(StorageError, match="fsync failed"):
        wal.sync()
    failing["now"] = False
    with pytest.raises(StorageError, match="unusable"):
        wal.append(write(2, 1))
    wal.close()


def test_compaction_keeps_a_segment_that_holds_entries_after_the_snapshot(tmp_path: Path) -> None:
    wal = open_log(tmp_path, segment_bytes=300)
    for i in range(1, 20):
        wal.append(write(i, 1, i, entries(i + 1, i + 1, 1)))
    wal.append(write(20, 1, 2, snap=snapshot_at(2, 1)))  # the first segment reaches past 2
    before = wal.segments
    assert wal.compact() == [snapshot_path(tmp_path, 1)]
    assert wal.segments == before
    wal.close()


def test_one_process_at_a_time(tmp_path: Path) -> None:
    wal = open_log(tmp_path)
    with pytest.raises(StorageError, match="in use by another process"):
        WriteAheadLog.open(tmp_path)
    wal.close()
    WriteAheadLog.open(tmp_path).close()


def test_every_flipped_byte_is_caught(tmp_path: Path) -> None:
    """Flip each byte of a small log in turn: in every record but the last,
    and in the last one's header, the log refuses and names the record's
    offset; in the last record's payload it is a torn tail, dropped."""
    sizes, states = durable_prefixes(tmp_path / "orig", 2)
    original = segment(tmp_path / "orig", 1).read_bytes()
    last_start = sizes[-2]
    for offset in range(len(original)):
        work = tmp_path / "work"
        shutil.copytree(tmp_path / "orig", work)
        raw = bytearray(original)
        raw[offset] ^= 0x08
        segment(work, 1).write_bytes(bytes(raw))
        if offset >= last_start + HEADER.size:
            assert recover(work) == states[-2], f"offset {offset}"
        else:
            with pytest.raises(CorruptionError) as err:
                WriteAheadLog.open(work)
            start = max(s for s in [0, *sizes] if s <= offset)
            assert err.value.offset == start, f"offset {offset}"
        shutil.rmtree(work)
