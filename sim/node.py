"""One simulated node process: the production node runtime on virtual ports.

``SimNode`` is what the simulator plugs into ``kv.runtime.NodeRuntime``: the
node's clock (virtual time with a per-node phase and tick length), its timer
(an event on the simulator's queue) and its disk (a FIFO queue whose writes
take a latency drawn by sim/disk.py and become durable, in ``storage``, only
when they complete). The network and the client replies are the simulator's
own (cluster.py). Everything about the node's *behaviour* -- what a step's
effects mean -- is the runtime's; this holds only what a real process would
get from its operating system, plus the simulator's bookkeeping of it:
``storage`` survives crashes, the pending writes die with the process, and a
paused (frozen) process holds on to whatever reaches it.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

from consensus import DurableState, MemoryStorage, Persist
from kv.runtime import NodeRuntime
from sim.disk import DiskModel
from sim.events import DISK, TIMER

NEVER = 1 << 62


class Host(Protocol):
    """What a node needs from the simulation: its time, disk model and queue."""

    now: int
    disk: DiskModel

    def push(self, delay_us: int, kind: int, a: Any, b: Any) -> None: ...


class SimNode:
    __slots__ = (
        "deferred",
        "disk_free_at",
        "host",
        "id",
        "incarnation",
        "paused",
        "phase_us",
        "runtime",
        "storage",
        "tick_us",
        "timer_at",
        "timer_gen",
        "up",
        "writes",
    )

    def __init__(
        self, node_id: int, host: Host, durable: DurableState, tick_us: int, phase_us: int
    ) -> None:
        self.id = node_id
        self.host = host
        #: Set by the simulation right after construction (the runtime needs
        #: this node as its ports, so the two are made one after the other).
        self.runtime: NodeRuntime
        self.storage = MemoryStorage(durable)
        self.tick_us = tick_us
        self.phase_us = phase_us
        self.incarnation = 0
        self.up = False
        self.disk_free_at = 0
        #: Persist ids queued or in flight on the disk, oldest first.
        self.writes: deque[int] = deque()
        #: A paused (frozen) process handles nothing; what arrives waits here
        #: as (event kind, a, b) queue items, replayed in order on resume.
        self.paused = False
        self.deferred: list[tuple[int, Any, Any]] = []
        self.timer_at = NEVER
        self.timer_gen = 0

    # -- kv.ports.Clock -------------------------------------------------------

    def now_us(self) -> int:
        return self.host.now

    def ticks(self) -> int:
        """The node's logical clock now."""
        return (self.host.now + self.phase_us) // self.tick_us

    def tick_time(self, tick: int) -> int:
        """The simulated time at which the node's clock reaches ``tick``."""
        return tick * self.tick_us - self.phase_us

    # -- kv.ports.Timer -------------------------------------------------------

    def arm(self, deadline: int) -> None:
        """Schedule a timer event for ``deadline`` unless one is due earlier;
        a stale event is recognised by its generation (cluster.py)."""
        host = self.host
        now = host.now
        at = max(now, deadline * self.tick_us - self.phase_us)
        if at < self.timer_at:
            self.timer_at = at
            self.timer_gen += 1
            host.push(at - now, TIMER, self, self.timer_gen)

    # -- kv.ports.Disk ----------------------------------------------------------

    def write(self, persist: Persist) -> None:
        """Queue a write on the node's FIFO disk (see disk.py); its completion
        event carries the incarnation, so a crash loses it."""
        host = self.host
        now = host.now
        done = max(now, self.disk_free_at) + host.disk.latency_us()
        self.disk_free_at = done
        self.writes.append(persist.id)
        host.push(done - now, DISK, self, (self.incarnation, persist))

    # -- the process ------------------------------------------------------------

    def forget_volatile(self, now_us: int) -> list[int]:
        """The process died: drop every write not yet complete, whatever waited
        for the frozen process and its timer; returns the ids of the writes
        lost. (The runtime forgets its own volatile state in ``crash``.)"""
        lost = list(self.writes)
        self.writes.clear()
        self.disk_free_at = now_us
        self.paused = False
        self.deferred.clear()
        self.up = False
        self.incarnation += 1
        self.timer_at = NEVER
        self.timer_gen += 1
        return lost
