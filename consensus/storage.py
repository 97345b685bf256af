"""Durable state as plain values: what a disk holds after acknowledged writes.

The simulator keeps one ``MemoryStorage`` per node as its "disk", and replay
rebuilds the same storage from a trace to restart nodes exactly as the run
did. The KV server's write-ahead log implements the same ``write`` semantics
on real files.
"""

from __future__ import annotations

from consensus.core import DurableState
from consensus.effects import Persist
from consensus.records import Entry, HardState, Snapshot


class MemoryStorage:
    __slots__ = ("entries", "hard_state", "snapshot")

    def __init__(self, durable: DurableState) -> None:
        self.hard_state: HardState = durable.hard_state
        self.snapshot: Snapshot = durable.snapshot
        self.entries: list[Entry] = list(durable.entries)

    def write(self, persist: Persist) -> None:
        """Apply one write, with ``Persist``'s documented semantics."""
        snap = persist.snapshot
        if snap is not None and snap.index > self.snapshot.index:
            offset = snap.index - self.snapshot.index
            keeps_tail = offset <= len(self.entries) and self.entries[offset - 1].term == snap.term
            self.entries = self.entries[offset:] if keeps_tail else []
            self.snapshot = snap
        if persist.entries:
            first = persist.entries[0].index
            del self.entries[max(0, first - self.snapshot.index - 1) :]
            self.entries.extend(persist.entries)
        self.hard_state = persist.hard_state

    def durable(self) -> DurableState:
        return DurableState(self.hard_state, self.snapshot, tuple(self.entries))

    @property
    def last_index(self) -> int:
        return self.snapshot.index + len(self.entries)
