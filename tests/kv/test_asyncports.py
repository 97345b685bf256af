"""The node process's ports: timer re-arming, group commit, storage failure."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from consensus import DurableState, Membership, Persist
from consensus.records import Entry, HardState
from kv.asyncports import LoopClock, LoopTimer, WalDisk
from kv.wal import WriteAheadLog


def _persist(pid: int, index: int) -> Persist:
    return Persist(pid, HardState(1, 1, 0), (Entry(index, 1, f"e{index}"),), None)


def _wal(tmp_path: Path, fsync=None) -> WriteAheadLog:  # type: ignore[no-untyped-def]
    initial = DurableState.bootstrap(Membership((1,)))
    if fsync is None:
        return WriteAheadLog.open(tmp_path / "wal", initial)
    return WriteAheadLog.open(tmp_path / "wal", initial, fsync=fsync)


def test_a_nearer_deadline_moves_the_timer_earlier_and_a_later_one_does_not() -> None:
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        clock = LoopClock(loop, tick_ms=1.0)
        timer = LoopTimer(loop, clock)
        fired: list[int] = []
        done = asyncio.Event()

        def fire() -> None:
            fired.append(clock.ticks())
            done.set()

        timer.fire = fire
        timer.arm(clock.ticks() + 5000)
        timer.arm(clock.ticks() + 20)  # nearer: replaces the 5 s timer
        timer.arm(clock.ticks() + 4000)  # later: ignored
        await asyncio.wait_for(done.wait(), 5)
        timer.cancel()
        return fired

    fired = asyncio.run(main())
    assert len(fired) == 1 and fired[0] < 4000


def test_writes_of_one_loop_turn_share_one_fsync_and_are_reported_in_order(
    tmp_path: Path,
) -> None:
    syncs: list[int] = []

    def counting_fsync(fd: int) -> None:
        syncs.append(fd)

    wal = _wal(tmp_path, counting_fsync)
    syncs.clear()  # creating the log synced too

    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        durable: list[int] = []
        all_done = asyncio.Event()

        def on_durable(pid: int) -> None:
            durable.append(pid)
            if pid == 5:
                all_done.set()

        disk = WalDisk(loop, wal, on_durable, lambda err: pytest.fail(str(err)))
        for pid in range(1, 6):
            disk.write(_persist(pid, pid + 1))
        await asyncio.wait_for(all_done.wait(), 5)
        assert disk.syncs == 1 and disk.records == 5
        return durable

    assert asyncio.run(main()) == [5]  # one report covers every write before it
    assert len(syncs) == 1
    wal.close()


def test_a_failed_fsync_is_reported_and_the_log_refuses_further_use(tmp_path: Path) -> None:
    broken = False

    def fsync(fd: int) -> None:
        if broken:
            raise OSError(5, "Input/output error")

    wal = _wal(tmp_path, fsync)
    broken = True  # the disk fails after the log was opened

    async def main() -> BaseException:
        loop = asyncio.get_running_loop()
        failed: asyncio.Future[BaseException] = loop.create_future()
        disk = WalDisk(loop, wal, lambda pid: pytest.fail("reported durable"), failed.set_result)
        disk.write(_persist(1, 2))
        return await asyncio.wait_for(failed, 5)

    err = asyncio.run(main())
    assert "fsync failed" in str(err)
    with pytest.raises(Exception, match="unusable after a failed fsync"):
        wal.append(_persist(2, 3))
