"""The WAL under a real Raft core: every Persist of a three-node cluster
(elections, a leader whose tail is overwritten, compactions) goes to one WAL
per node, and restarting from the recovered state is restarting from the
reference storage."""

from __future__ import annotations

from pathlib import Path

from consensus import MemoryStorage, Persist, RaftCore, Role
from kv.wal import WriteAheadLog
from tests.harness import Harness


class WalStorage(MemoryStorage):
    """The harness's disk, also written to (and synced in) a WAL."""

    __slots__ = ("wal",)

    def __init__(self, wal: WriteAheadLog) -> None:
        super().__init__(wal.recovered)
        self.wal = wal

    def write(self, persist: Persist) -> None:
        self.wal.append(persist)
        self.wal.sync()
        super().write(persist)


def attach(h: Harness, root: Path) -> None:
    for node in sorted(h.cores):
        wal = WriteAheadLog.open(root / str(node), h.storage[node].durable(), segment_bytes=400)
        h.storage[node] = WalStorage(wal)


def storage(h: Harness, node: int) -> WalStorage:
    disk = h.storage[node]
    assert isinstance(disk, WalStorage)
    return disk


def test_restarting_from_the_wal_is_restarting_from_the_durable_state(tmp_path: Path) -> None:
    h = Harness()
    attach(h, tmp_path)
    h.elect(1)
    for i in range(5):
        h.propose(1, f"v{i}")
    h.stabilize()
    h.isolate(1)
    for i in range(3):
        h.propose(1, f"lost{i}")  # appended by the old leader only
    h.stabilize()
    h.run_until(lambda: any(h.cores[n].role is Role.LEADER for n in (2, 3)))
    leader = next(n for n in (2, 3) if h.cores[n].role is Role.LEADER)
    for i in range(6):
        h.propose(leader, f"new{i}")
    h.stabilize()
    h.heal()
    h.run_until(lambda: h.cores[1].log.committed == h.cores[leader].log.committed)
    assert h.notes_of("truncate", 1)  # the old leader's tail was overwritten
    for node in (1, 2, 3):
        h.compact(node)
    h.propose(leader, "tail")
    h.stabilize()
    removed: list[Path] = []
    for node in (1, 2, 3):
        disk = storage(h, node)
        expected = disk.durable()
        removed += disk.wal.compact()
        disk.wal.close()
        reopened = WriteAheadLog.open(tmp_path / str(node))
        assert reopened.recovered == expected, f"node {node}"
        assert not any("lost" in e.data for e in reopened.recovered.entries)
        core = RaftCore(node, h.config, 7, reopened.recovered)
        assert core.log.last_index == h.cores[node].log.last_index
        assert core.term == h.cores[node].term
        h.storage[node] = WalStorage(reopened)
        h.crash(node)  # restart the node from the recovered storage
    assert any(p.suffix == ".log" for p in removed)  # compaction deleted segments
    h.run_until(lambda: len(h.leaders()) == 1)
    h.propose(h.leaders()[0], "after")
    h.stabilize()
    h.run_until(lambda: all(h.data_applied(n)[-1:] == ["after"] for n in (1, 2, 3)))
    for node in (1, 2, 3):
        storage(h, node).wal.close()
