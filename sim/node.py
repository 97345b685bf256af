"""One simulated node: a traced core plus its disk, state machine and clients.

Holds state only; the simulator (cluster.py) moves it. Everything here
survives exactly what a real process's state would: ``storage`` survives
crashes, the rest is rebuilt on restart.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from consensus import DurableState, MemoryStorage
from consensus.traced import TracedNode
from kv import KVStateMachine
from sim.workload import Operation

NEVER = 1 << 62


class SimNode:
    __slots__ = (
        "deferred",
        "disk_free_at",
        "id",
        "incarnation",
        "paused",
        "phase_us",
        "proposals",
        "reads",
        "sm",
        "storage",
        "tick_us",
        "timer_at",
        "timer_gen",
        "traced",
        "up",
        "waiting_reads",
        "writes",
    )

    def __init__(
        self, node_id: int, traced: TracedNode, durable: DurableState, tick_us: int, phase_us: int
    ) -> None:
        self.id = node_id
        self.traced = traced
        self.storage = MemoryStorage(durable)
        self.tick_us = tick_us
        self.phase_us = phase_us
        self.incarnation = 0
        self.up = False
        self.sm = KVStateMachine()
        self.disk_free_at = 0
        #: Persist ids queued or in flight on the disk, oldest first.
        self.writes: deque[int] = deque()
        #: A paused (frozen) process handles nothing; what arrives waits here
        #: as (event kind, a, b) queue items, replayed in order on resume.
        self.paused = False
        self.deferred: list[tuple[int, Any, Any]] = []
        self.timer_at = NEVER
        self.timer_gen = 0
        #: log index -> (operation, attempt, term it was proposed in)
        self.proposals: dict[int, tuple[Operation, int, int]] = {}
        #: ReadIndex ctx -> (operation, attempt)
        self.reads: dict[int, tuple[Operation, int]] = {}
        #: (read index, operation, attempt) confirmed but not yet applied far enough
        self.waiting_reads: list[tuple[int, Operation, int]] = []

    def ticks(self, t_us: int) -> int:
        """The node's logical clock at simulated time ``t_us``."""
        return (t_us + self.phase_us) // self.tick_us

    def tick_time(self, tick: int) -> int:
        """The simulated time at which the node's clock reaches ``tick``."""
        return tick * self.tick_us - self.phase_us

    def forget_volatile(self, now_us: int) -> list[int]:
        """The process died: drop its volatile state and every write not yet
        complete; returns the ids of the writes lost."""
        lost = list(self.writes)
        self.writes.clear()
        self.disk_free_at = now_us
        self.paused = False
        self.deferred.clear()
        self.up = False
        self.incarnation += 1
        self.sm = KVStateMachine()
        self.timer_at = NEVER
        self.timer_gen += 1
        self.proposals.clear()
        self.reads.clear()
        self.waiting_reads.clear()
        return lost
