"""Any sequence of writes that obeys the core's Persist contract, with syncs,
compactions, crashes and restarts in between, recovers exactly the fold of
what was made durable (``MemoryStorage`` is the reference). After a crash,
writes appended since the last sync may or may not have survived (a segment
rollover syncs early), but only as a prefix, never with a hole."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consensus import Entry, HardState, MemoryStorage, Persist, Snapshot
from kv.wal import WriteAheadLog
from tests.kv.walkit import BOOT, MEMBERS, recover

ACTIONS = ["entries", "entries", "entries", "hard", "snapshot", "sync", "compact", "crash", "close"]


def draw_write(data: st.DataObject, mirror: MemoryStorage, action: str, n: int) -> Persist:
    snap, last = mirror.snapshot.index, mirror.last_index
    hs = HardState(data.draw(st.integers(0, 5)), data.draw(st.integers(0, 3)), min(n, last))
    if action == "entries":
        first = data.draw(st.integers(snap + 1, last + 1))
        term = data.draw(st.integers(1, 5))
        count = data.draw(st.integers(1, 4))
        ents = tuple(Entry(i, term, f"e{i}.{n}") for i in range(first, first + count))
        return Persist(n, hs, ents)
    if action == "snapshot":
        index = data.draw(st.integers(snap + 1, last + 2))
        term = data.draw(st.integers(1, 5))
        if index <= last and data.draw(st.booleans()):
            term = mirror.entries[index - snap - 1].term  # matches: the tail is kept
        return Persist(n, hs, (), Snapshot(index, term, MEMBERS, f"state{n}", n))
    return Persist(n, hs)


@settings(max_examples=60, deadline=None)
@given(st.data(), st.sampled_from([120, 400, 1 << 20]))
def test_recovery_is_the_fold_of_the_durable_writes(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, segment_bytes: int
) -> None:
    directory = tmp_path_factory.mktemp("wal")
    wal = WriteAheadLog.open(directory, BOOT, segment_bytes=segment_bytes)
    mirror = MemoryStorage(BOOT)
    #: states after each write since the last sync: what a crash may leave
    candidates = [mirror.durable()]
    for n in range(1, data.draw(st.integers(1, 30)) + 1):
        action = data.draw(st.sampled_from(ACTIONS))
        if action == "sync":
            wal.sync()
        elif action == "compact":
            wal.compact()
        elif action in ("crash", "close"):
            wal.drop() if action == "crash" else wal.close()
            wal = WriteAheadLog.open(directory, segment_bytes=segment_bytes)
            if action == "crash":
                assert wal.recovered in candidates
            else:
                assert wal.recovered == mirror.durable()
            mirror = MemoryStorage(wal.recovered)
        else:
            persist = draw_write(data, mirror, action, n)
            wal.append(persist)
            mirror.write(persist)
            assert wal.state() == mirror.durable()
            candidates.append(mirror.durable())
            continue
        candidates = [mirror.durable()]
    wal.close()
    assert recover(directory) == mirror.durable()
