"""What a leader knows about each follower, and how fast it may send to it.

A follower is in one of three states (etcd-io/raft's tracker):

- probe: we do not know where its log ends. Send one append, then wait for the
  answer (or a heartbeat response) before sending another; each rejection
  moves ``next`` back, by a whole term at a time thanks to the hint.
- replicate: its log matches ours up to ``match``. Stream appends
  optimistically, at most ``max_inflight`` messages unacknowledged.
- snapshot: it needs entries we compacted. A snapshot is on its way; send
  nothing else until it is acknowledged.

Field invariants: ``match < next``; in replicate, ``next - 1`` is the last
index sent.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum


class ProgressState(StrEnum):
    PROBE = "probe"
    REPLICATE = "replicate"
    SNAPSHOT = "snapshot"


class Inflights:
    """The last index of each append in flight, oldest first, bounded."""

    __slots__ = ("capacity", "indexes")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.indexes: deque[int] = deque()

    def add(self, last_index: int) -> None:
        self.indexes.append(last_index)

    def free_to(self, index: int) -> None:
        """Forget every append acknowledged by an ack of ``index``."""
        indexes = self.indexes
        while indexes and indexes[0] <= index:
            indexes.popleft()

    def free_first_one(self) -> None:
        """Forget the oldest append: a heartbeat answer proves the follower is
        alive, so if every append filling the window was lost, this lets one
        more through and its rejection moves the follower back to probe."""
        if self.indexes:
            self.indexes.popleft()

    def full(self) -> bool:
        return len(self.indexes) >= self.capacity

    def reset(self) -> None:
        self.indexes.clear()

    def __len__(self) -> int:
        return len(self.indexes)


class Progress:
    __slots__ = (
        "inflights",
        "last_heard",
        "match",
        "next",
        "pending_snapshot",
        "probe_sent",
        "read_round",
        "snapshot_sent_at",
        "state",
    )

    def __init__(self, next_index: int, max_inflight: int, now: int) -> None:
        self.match = 0
        self.next = next_index
        self.state = ProgressState.PROBE
        self.probe_sent = False
        self.inflights = Inflights(max_inflight)
        self.pending_snapshot = 0
        #: Tick at which the pending snapshot was sent (to retry a lost one).
        self.snapshot_sent_at = 0
        #: Tick at which we last heard from this peer (CheckQuorum, leases).
        self.last_heard = now
        #: Highest heartbeat round this peer acknowledged (ReadIndex).
        self.read_round = 0

    def become_probe(self) -> None:
        if self.state is ProgressState.SNAPSHOT:
            self.next = max(self.match + 1, self.pending_snapshot + 1)
        else:
            self.next = self.match + 1
        self.state = ProgressState.PROBE
        self.probe_sent = False
        self.pending_snapshot = 0
        self.inflights.reset()

    def become_replicate(self) -> None:
        self.state = ProgressState.REPLICATE
        self.next = self.match + 1
        self.probe_sent = False
        self.inflights.reset()

    def become_snapshot(self, index: int, now: int) -> None:
        self.state = ProgressState.SNAPSHOT
        self.pending_snapshot = index
        self.snapshot_sent_at = now
        self.probe_sent = False
        self.inflights.reset()

    def maybe_update(self, index: int) -> bool:
        """Record an acknowledgement of ``index``; False if it is stale."""
        if index <= self.match:
            return False
        self.match = index
        self.next = max(self.next, index + 1)
        self.probe_sent = False
        return True

    def maybe_decrease(self, rejected: int, match_hint: int) -> bool:
        """Handle a rejection of the append whose previous index was
        ``rejected``; ``match_hint`` is where the follower's log may match.
        False if the rejection is stale (answers an older append)."""
        if self.state is ProgressState.REPLICATE:
            if rejected <= self.match:
                return False
            self.next = self.match + 1
            return True
        if self.next - 1 != rejected:
            return False
        self.next = max(min(rejected, match_hint + 1), self.match + 1)
        self.probe_sent = False
        return True

    def is_paused(self) -> bool:
        if self.state is ProgressState.PROBE:
            return self.probe_sent
        if self.state is ProgressState.REPLICATE:
            return self.inflights.full()
        return True

    def sent(self, last_index: int, count: int) -> None:
        """Account for an append carrying ``count`` entries up to ``last_index``."""
        if self.state is ProgressState.REPLICATE:
            if count:
                self.next = last_index + 1
                self.inflights.add(last_index)
        elif self.state is ProgressState.PROBE:
            self.probe_sent = True

    def add_digest_ints(self, node: int, ints: list[int]) -> None:
        """Append this peer's part of the node's state digest to ``ints``:
        ``node`` and the progress, each packed as a 64-bit integer. (Into
        the caller's list, which is packed and hashed once for all peers.)"""
        ints.extend(
            (
                node,
                self.match,
                self.next,
                _STATE_CODES[self.state],
                int(self.probe_sent),
                len(self.inflights.indexes),
                self.last_heard,
                self.read_round,
                self.pending_snapshot,
                self.snapshot_sent_at,
            )
        )


_STATE_CODES = {state: code for code, state in enumerate(ProgressState)}
