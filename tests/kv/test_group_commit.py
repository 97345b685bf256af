"""Group commit: committers that arrive during an fsync share the next one."""

from __future__ import annotations

import threading
from pathlib import Path

from kv.groupcommit import GroupCommit
from kv.wal import WriteAheadLog
from tests.kv.walkit import BOOT, CountingFsync, entries, recover, write


def start(target: object, *args: object) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


def test_waiters_behind_a_running_fsync_share_one(tmp_path: Path) -> None:
    fsync = CountingFsync()
    wal = WriteAheadLog.open(tmp_path, BOOT, fsync=fsync)
    group = GroupCommit(wal)
    fsync.count = 0
    fsync.gate = release = threading.Event()
    first = start(group.commit, write(1, 1, 0, entries(2, 2, 1)))
    assert fsync.entered.wait(10)  # the first committer is inside its fsync
    others = [start(group.commit, write(i, 1, 0, entries(i + 1, i + 1, 1))) for i in range(2, 9)]
    assert group.await_waiters(8, timeout=10)  # all seven appended and are waiting
    release.set()
    for thread in [first, *others]:
        thread.join(10)
        assert not thread.is_alive()
    assert fsync.count == 2  # one for the first, one for the seven behind it
    assert wal.durable_lsn == wal.appended_lsn == 8
    wal.close()
    assert [e.index for e in recover(tmp_path).entries] == list(range(2, 10))


def test_concurrent_committers_all_become_durable(tmp_path: Path) -> None:
    fsync = CountingFsync()
    wal = WriteAheadLog.open(tmp_path, BOOT, fsync=fsync, segment_bytes=2_000)
    group = GroupCommit(wal)
    fsync.count = 0
    done: list[int] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        for j in range(25):
            lsn = group.commit(write(k * 100 + j, 1))
            assert wal.durable_lsn >= lsn
            with lock:
                done.append(lsn)

    threads = [start(client, k) for k in range(8)]
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive()
    assert sorted(done) == list(range(1, 201))
    assert 1 <= fsync.count <= 200 + 3 * len(wal.segments)
    group.compact()
    wal.close()
    assert recover(tmp_path) == wal.state()
