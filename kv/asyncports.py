"""The node runtime's ports in a real process: asyncio, the WAL, the TCP transport.

These are the real-process counterparts of sim/node.py: each implements one
port of kv/ports.py on top of what the operating system gives, and reports
completions back to the runtime as new calls, never synchronously. After
every call into the runtime the server runs its ``settle`` hook (follow
membership, wake waiters).

Group commit (``WalDisk``): a ``Persist`` is appended to the WAL's buffer at
once, and one sync is started per loop iteration at most: the buffer is
handed to the OS on the loop thread, the fsync runs in a worker thread, and
every record appended before the sync started becomes durable with that one
fsync. Records appended while a fsync runs wait for the next one. So under
load a fsync covers a batch of proposals, and the runtime hears
``persisted(id)`` once per batch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

from consensus import Persist
from consensus.traced import Envelope
from kv.ports import Reply
from kv.transport import Transport
from kv.wal import WriteAheadLog

log = logging.getLogger("kv.node")


class LoopClock:
    """Wall time for trace stamps; the loop's monotonic clock, in ticks, for Raft."""

    __slots__ = ("_loop", "_start", "tick_s")

    def __init__(self, loop: asyncio.AbstractEventLoop, tick_ms: float) -> None:
        self._loop = loop
        self._start = loop.time()
        self.tick_s = tick_ms / 1000.0

    def now_us(self) -> int:
        return time.time_ns() // 1000

    def ticks(self) -> int:
        return int((self._loop.time() - self._start) / self.tick_s)

    def loop_time(self, tick: int) -> float:
        """The loop time at which the clock reaches ``tick``."""
        return self._start + tick * self.tick_s


class LoopTimer:
    """One ``call_at`` handle, moved earlier when a nearer deadline is armed."""

    __slots__ = ("_at", "_clock", "_handle", "_loop", "fire")

    def __init__(self, loop: asyncio.AbstractEventLoop, clock: LoopClock) -> None:
        self._loop = loop
        self._clock = clock
        self._handle: asyncio.TimerHandle | None = None
        self._at = 0.0
        #: What firing does (the server sets it: step the runtime, then settle).
        self.fire: Callable[[], None] = lambda: None

    def arm(self, deadline: int) -> None:
        at = self._clock.loop_time(deadline)
        if self._handle is not None:
            if self._at <= at:
                return
            self._handle.cancel()
        self._at = at
        self._handle = self._loop.call_at(at, self._fired)

    def _fired(self) -> None:
        self._handle = None
        self.fire()

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class WalDisk:
    """``Disk`` on the write-ahead log, with group commit (module docstring).

    ``on_durable(persist_id)`` is the runtime's ``persisted``; ``on_failure``
    hears of a failed fsync, after which the node must stop: the log refuses
    further use and only a restart (recovery from disk) is safe.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        wal: WriteAheadLog,
        on_durable: Callable[[int], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        self._loop = loop
        self.wal = wal
        self._on_durable = on_durable
        self._on_failure = on_failure
        #: (WAL record number, persist id) appended but not yet durable
        self._pending: deque[tuple[int, int]] = deque()
        self._scheduled = False
        self._syncing = False
        self._compact_due = False
        self.syncs = 0
        self.records = 0

    def write(self, persist: Persist) -> None:
        lsn = self.wal.append(persist)
        self.records += 1
        if persist.snapshot is not None:
            self._compact_due = True
        self._pending.append((lsn, persist.id))
        if not self._scheduled and not self._syncing:
            self._scheduled = True
            self._loop.call_soon(self._start_sync)

    def _start_sync(self) -> None:
        self._scheduled = False
        if self._syncing or not self._pending:
            return
        self._syncing = True
        try:
            pending = self.wal.begin_sync()
        except BaseException as err:
            self._on_failure(err)
            return
        self.syncs += 1
        future = self._loop.run_in_executor(None, self.wal.finish_sync, pending)
        future.add_done_callback(self._synced)

    def _synced(self, future: asyncio.Future[None]) -> None:
        self._syncing = False
        err = future.exception()
        if err is not None:
            self._on_failure(err)
            return
        durable = self.wal.durable_lsn
        last = 0
        while self._pending and self._pending[0][0] <= durable:
            last = self._pending.popleft()[1]
        if self._compact_due and not self._pending:
            self._compact_due = False
            self.wal.compact()
        if self._pending:
            self._scheduled = True
            self._loop.call_soon(self._start_sync)
        if last:
            self._on_durable(last)


class TransportNetwork:
    """``Network`` on the TCP transport. (The step's trace events, its send
    events among them, are already in the trace file: a node trace flushes
    after every step, before the runtime carries out the step's effects.)"""

    __slots__ = ("_transport",)

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def send(self, envelope: Envelope) -> None:
        self._transport.send(envelope.msg, envelope.mid)


class FutureReplies:
    """``Replies`` that resolve the asyncio future each request is. A request
    whose caller gave up (timed out, disconnected) has a cancelled future:
    its late answer is dropped."""

    __slots__ = ()

    def answer(self, request: object, reply: Reply) -> None:
        assert isinstance(request, asyncio.Future)
        if not request.done():
            request.set_result(reply)
