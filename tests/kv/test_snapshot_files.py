"""Snapshot files: atomic writes, integrity checks, leftovers."""

from __future__ import annotations

from pathlib import Path

import pytest

from consensus import Snapshot
from kv.files import CorruptionError, StorageError
from kv.snapshots import HEADER, read_snapshot, snapshot_files, snapshot_path, write_snapshot
from kv.wal import WriteAheadLog
from tests.kv.walkit import BOOT, MEMBERS, CountingFsync, write

SNAP = Snapshot(7, 2, MEMBERS, '{"data": {"k": "v"}}', 99)


def test_round_trip_with_file_and_directory_fsync(tmp_path: Path) -> None:
    fsync = CountingFsync()
    path = write_snapshot(tmp_path, SNAP, fsync)
    assert path == snapshot_path(tmp_path, 7) and read_snapshot(path) == SNAP
    assert fsync.count == 2
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left


@pytest.mark.parametrize(
    ("offset", "problem"),
    [(0, "not a snapshot file"), (9, "header checksum"), (HEADER.size + 2, "payload checksum")],
)
def test_a_damaged_snapshot_is_refused(tmp_path: Path, offset: int, problem: str) -> None:
    path = write_snapshot(tmp_path, SNAP, CountingFsync())
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x10
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptionError, match=problem) as err:
        read_snapshot(path)
    assert err.value.path == path


def test_a_short_or_misnamed_snapshot_is_refused(tmp_path: Path) -> None:
    path = write_snapshot(tmp_path, SNAP, CountingFsync())
    short = tmp_path / "snap-00000000000000000001.snap"
    short.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(CorruptionError, match="payload is"):
        read_snapshot(short)
    short.write_bytes(path.read_bytes())
    with pytest.raises(CorruptionError, match="holds index 7"):
        read_snapshot(short)


def test_a_leftover_temp_file_is_ignored_and_removed(tmp_path: Path) -> None:
    WriteAheadLog.open(tmp_path, BOOT).close()
    tmp = snapshot_path(tmp_path, 9).with_name("snap-00000000000000000009.snap.tmp")
    tmp.write_bytes(b"half a snapsh")  # a crash before the rename
    assert [i for i, _ in snapshot_files(tmp_path)] == [1]
    wal = WriteAheadLog.open(tmp_path)
    assert wal.recovered == BOOT and tmp in wal.report.removed and not tmp.exists()
    wal.close()


def test_a_snapshot_whose_record_never_became_durable_is_removed(tmp_path: Path) -> None:
    WriteAheadLog.open(tmp_path, BOOT).close()
    stray = write_snapshot(tmp_path, SNAP, CountingFsync())  # crash before its WAL record
    wal = WriteAheadLog.open(tmp_path)
    assert wal.recovered == BOOT and stray in wal.report.removed and not stray.exists()
    wal.close()


def test_the_log_refuses_a_missing_or_substituted_snapshot(tmp_path: Path) -> None:
    with WriteAheadLog.open(tmp_path, BOOT) as wal:
        wal.append(write(1, 2, 7, snap=SNAP))
    path = snapshot_path(tmp_path, 7)
    write_snapshot(tmp_path, Snapshot(7, 2, MEMBERS, "other data", 99), CountingFsync())
    with pytest.raises(CorruptionError, match="does not match") as err:
        WriteAheadLog.open(tmp_path)
    assert err.value.path == path
    path.unlink()
    with pytest.raises(StorageError, match="missing"):
        WriteAheadLog.open(tmp_path)
