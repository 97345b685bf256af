"""The peer transport: Raft messages between node processes over TCP.

The node runtime (a later piece) plugs a ``Transport`` in as its network:
it calls ``send(message, mid)`` for every ``Send`` effect and gets every
message from a peer, with its trace id ``mid``, through the ``on_message``
callback. Everything runs on one asyncio event loop; nothing here blocks
the caller.

Theory of operation:

- **One outbound connection per peer, used in one direction.** This node
  dials every peer and writes its messages to it; the peer dials back for
  its own messages. Two connections per pair, but no race over who keeps a
  connection, and a stalled direction cannot hold up the other.
- **Handshake.** The dialer sends HELLO (its id, the id it means to reach,
  the cluster name); the acceptor answers WELCOME or REJECT with a reason
  and closes. The dialer sends messages only after WELCOME, so reaching the
  wrong node is reported at once and nothing is sent into the void.
- **Bounded queue per peer, never blocking.** ``send`` encodes the message
  into a frame and appends it to the peer's queue; a writer task per peer
  drains the queue. When the queue is full (the peer is down or slow) the
  oldest frame is dropped (or, by option, the newest) and the drop is
  counted. Raft tolerates lost messages, and newer messages carry newer
  terms and commit indexes, so dropping the oldest loses least.
- **Batching.** The writer takes every frame that is due, up to a batch
  limit, and hands them to the socket in one write and one drain; under
  load many messages share a system call.
- **Reconnect with backoff.** A failed dial or a lost connection is retried
  after an exponential backoff with jitter drawn from a seeded RNG; the
  queue survives, so messages sent while the peer was down go out when it
  is back (up to the bound).
- **Faults on messages, not on connections** (``kv.netfaults``): drops and
  outbound blocks are decided in ``send``; setting an outbound block also
  empties the peer's queue, and an inbound block discards at delivery, so a
  partition takes effect the moment it is set and heals without reconnects.
- **Garbage is rejected, never fatal.** An invalid frame, a message that is
  not a Raft message, or a message whose ``src`` is not the node named in
  the handshake closes that one connection with a logged error that says
  what was wrong and where; the server keeps serving.

docs/transport.md describes the wire format and the policies in full.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, Protocol, runtime_checkable

from consensus.messages import Message
from kv.frames import (
    DEFAULT_MAX_FRAME,
    HEADER_SIZE,
    Frame,
    FrameDecoder,
    FrameError,
    FrameKind,
    Hello,
    decode_hello,
    decode_message_payload,
    decode_reject,
    hello_frame,
    message_frame,
    reject_frame,
)
from kv.netfaults import FaultTable, LinkFaults

log = logging.getLogger("kv.transport")

Address = tuple[str, int]
OnMessage = Callable[[Message, str], None]
"""Called with each accepted message and its trace id (``""`` if untraced)."""
OnDrop = Callable[[Message, str, str], None]
"""Called with each message the transport itself discards, its trace id and
the reason: one of ``DROP_REASONS``."""

DROP_REASONS = ("partition", "loss", "overflow", "oversize", "unknown peer", "peer removed")

_READ_SIZE = 256 * 1024


@runtime_checkable
class PeerNetwork(Protocol):
    """What a node runtime needs from its network: fire and forget.

    ``send`` never blocks and never raises for a peer that is down; the
    message may be lost, as Raft allows. ``mid`` is the message's trace id
    and travels with it. Incoming messages reach the runtime through the
    callback it gave when the network was built, with their ``mid``. The
    simulator's network satisfies this by scheduling a delivery event.
    """

    def send(self, message: Message, mid: str = "") -> None: ...


@runtime_checkable
class FaultControl(Protocol):
    """What the admin API needs to inject network faults at run time."""

    def set_faults(self, peer: int, faults: LinkFaults) -> None: ...

    def heal(self) -> None: ...


@dataclass(slots=True, frozen=True)
class TransportOptions:
    """Limits and timings; the defaults suit a cluster on loopback.

    ``queue_messages`` and ``queue_bytes`` bound each peer's queue;
    ``overflow`` says which end loses when it is full. ``batch_messages`` and
    ``batch_bytes`` bound one write. Backoff before redial attempt ``n``
    (from 0) is drawn from ``[c/2, c]`` with ``c = min(backoff_max,
    backoff_base * 2**n)``.
    """

    cluster: str = ""
    queue_messages: int = 4096
    queue_bytes: int = 64 * 1024 * 1024
    overflow: Literal["oldest", "newest"] = "oldest"
    batch_messages: int = 512
    batch_bytes: int = 1024 * 1024
    max_frame: int = DEFAULT_MAX_FRAME
    connect_timeout: float = 1.0
    handshake_timeout: float = 1.0
    backoff_base: float = 0.05
    backoff_max: float = 2.0

    def __post_init__(self) -> None:
        if self.overflow not in ("oldest", "newest"):
            raise ValueError(f"overflow must be 'oldest' or 'newest', got {self.overflow!r}")
        for name in ("queue_messages", "queue_bytes", "batch_messages", "batch_bytes", "max_frame"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


def backoff_delay(attempt: int, rng: random.Random, base: float, cap: float) -> float:
    """Seconds to wait before redial ``attempt`` (0 for the first retry).

    Half of the exponential ceiling is fixed and half is jitter, so that
    peers that lost a node together do not redial in lockstep, yet no
    retry comes sooner than half its ceiling."""
    ceiling = min(cap, base * (2.0 ** min(attempt, 62)))
    return ceiling / 2.0 + rng.uniform(0.0, ceiling / 2.0)


@dataclass(slots=True)
class OutboundStats:
    """Counters for the direction from this node to one peer."""

    connected: bool = False
    queued: int = 0
    queued_bytes: int = 0
    sent: int = 0
    batches: int = 0
    bytes_sent: int = 0
    max_batch: int = 0
    delayed: int = 0
    dropped_overflow: int = 0
    dropped_fault: int = 0
    blocked_out: int = 0
    dropped_oversize: int = 0
    write_errors: int = 0
    connects: int = 0
    connect_failures: int = 0
    handshake_failures: int = 0
    disconnects: int = 0


@dataclass(slots=True)
class InboundStats:
    """Counters for the direction from one peer to this node."""

    connections: int = 0
    received: int = 0
    blocked_in: int = 0
    rejected: int = 0


@dataclass(slots=True)
class _Queued:
    due: float
    frame: bytes
    message: Message
    mid: str


@dataclass(slots=True)
class _Link:
    """One outbound connection's fate, set by its watcher."""

    lost: bool = False


@dataclass(slots=True)
class _Outbound:
    """One peer's queue, writer task and connection state."""

    peer: int
    address: Address
    queue: deque[_Queued] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    stats: OutboundStats = field(default_factory=OutboundStats)
    last_due: float = 0.0
    task: asyncio.Task[None] | None = None
    warned: bool = False


class Transport:
    """Asyncio TCP transport for one node; see the module docstring.

    ``listen`` may use port 0; after ``start`` the bound address is in
    ``address``. ``peers`` maps node ids to addresses (this node's own id,
    if present, is ignored). ``on_message`` is called on the event loop
    for every accepted message, in order per sending peer. ``on_drop``, if
    given, hears of every message the transport discards on purpose
    (faults, full queues), so that the runtime can trace the loss; messages
    lost with a broken connection are not known one by one.
    """

    def __init__(
        self,
        node_id: int,
        listen: Address,
        peers: Mapping[int, Address],
        on_message: OnMessage,
        *,
        options: TransportOptions | None = None,
        on_drop: OnDrop | None = None,
        seed: int = 0,
        fault_rng: random.Random | None = None,
        backoff_rng: random.Random | None = None,
    ) -> None:
        self.node_id = node_id
        self.options = options or TransportOptions()
        self._listen = listen
        self._on_message = on_message
        self._on_drop = on_drop
        self._initial_peers = dict(peers)
        self._faults = FaultTable(fault_rng or random.Random(f"{seed}:faults"))
        self._backoff_rng = backoff_rng or random.Random(f"{seed}:backoff")
        self._peers: dict[int, _Outbound] = {}
        self._inbound: dict[int, InboundStats] = {}
        self._live: dict[int, asyncio.StreamWriter] = {}
        self._accepted: set[asyncio.StreamWriter] = set()
        self._conn_tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._closed = False
        self.unknown_peer = 0
        self.rejected_connections = 0
        self.address: Address = listen

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        """Listen, then start dialling every peer."""
        if self._server is not None:
            raise RuntimeError(f"transport {self.node_id} already started")
        host, port = self._listen
        self._server = await asyncio.start_server(self._accept, host, port)
        bound = self._server.sockets[0].getsockname()
        self.address = (bound[0], bound[1])
        self.set_peers(self._initial_peers)

    async def close(self) -> None:
        """Stop listening, cancel every task and close every socket; queued
        messages are discarded. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._server is not None:
            self._server.close()
        tasks = [out.task for out in self._peers.values() if out.task is not None]
        tasks += list(self._conn_tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # A task cancelled before it ever ran did not close its socket.
        for writer in list(self._accepted):
            writer.transport.abort()
        self._accepted.clear()
        self._live.clear()
        if self._server is not None:
            await self._server.wait_closed()

    def set_peers(self, peers: Mapping[int, Address]) -> None:
        """Make the peer table ``peers``: dial new peers, forget removed ones
        (their queues are discarded) and redial peers whose address changed
        (their queues are kept)."""
        wanted = {pid: (str(a[0]), int(a[1])) for pid, a in peers.items() if pid != self.node_id}
        if self._server is None:
            self._initial_peers = wanted
            return
        for pid in sorted(set(self._peers) - set(wanted)):
            gone = self._peers.pop(pid)
            self._stop_writer(gone)
            self._discard(gone.queue, "peer removed")
            log.info("transport %d: peer %d removed", self.node_id, pid)
        for pid in sorted(wanted):
            out = self._peers.get(pid)
            if out is None:
                out = _Outbound(pid, wanted[pid])
                self._peers[pid] = out
            elif out.address == wanted[pid]:
                continue
            else:
                self._stop_writer(out)
                out.address = wanted[pid]
            out.task = asyncio.get_running_loop().create_task(
                self._run_peer(out), name=f"transport-{self.node_id}-to-{pid}"
            )

    def _stop_writer(self, out: _Outbound) -> None:
        """Cancel a peer's writer; ``close`` still waits for it to finish."""
        if out.task is not None:
            out.task.cancel()
            self._conn_tasks.add(out.task)
            out.task.add_done_callback(self._conn_tasks.discard)
            out.task = None
        out.stats.connected = False

    # -- faults ----------------------------------------------------------------

    def set_faults(self, peer: int, faults: LinkFaults) -> None:
        """Replace the faults on the link with ``peer`` (``LinkFaults()``
        clears them). Takes effect for the next message either way; blocking
        the way out also discards what is queued for the peer, so that a
        partition is exact."""
        self._faults.set(peer, faults)
        out = self._peers.get(peer)
        if out is not None and faults.block_out and out.queue:
            out.stats.blocked_out += len(out.queue)
            self._discard(out.queue, "partition")
            out.stats.queued = out.stats.queued_bytes = 0

    def faults(self) -> dict[int, LinkFaults]:
        return self._faults.snapshot()

    def partition(self, peers: list[int], *, outbound: bool = True, inbound: bool = True) -> None:
        """Block the given directions to and from each of ``peers``, keeping
        any drop or delay already set on those links."""
        for peer in peers:
            old = self._faults.get(peer)
            self.set_faults(
                peer,
                replace(old, block_out=old.block_out or outbound, block_in=old.block_in or inbound),
            )

    def heal(self) -> None:
        """Remove every fault on every link. Messages already delayed keep
        their due time."""
        self._faults.heal()

    # -- sending ---------------------------------------------------------------

    def send(self, message: Message, mid: str = "") -> None:
        """Queue ``message`` (with its trace id ``mid``) for ``message.dst``;
        returns at once.

        A message this node could not have sent (``src`` is another node)
        is a bug in the caller and raises ``ValueError``; everything else
        that stops a message (unknown peer, fault, full queue, frame too
        large) is counted in ``stats()`` and the message is lost. After
        ``close`` it does nothing."""
        if self._closed:
            return
        if message.src != self.node_id:
            raise ValueError(
                f"transport {self.node_id} cannot send a message from node {message.src}"
            )
        out = self._peers.get(message.dst)
        if out is None:
            self.unknown_peer += 1
            self._dropped(message, mid, "unknown peer")
            return
        fate = self._faults.outbound(message.dst)
        if fate == "blocked":
            out.stats.blocked_out += 1
            self._dropped(message, mid, "partition")
            return
        if fate == "dropped":
            out.stats.dropped_fault += 1
            self._dropped(message, mid, "loss")
            return
        frame = message_frame(message, mid)
        if len(frame) - HEADER_SIZE > self.options.max_frame:
            out.stats.dropped_oversize += 1
            self._dropped(message, mid, "oversize")
            log.error(
                "transport %d: %s to %d is %d bytes, over the frame limit of %d; dropped",
                self.node_id,
                message.KIND,
                message.dst,
                len(frame) - HEADER_SIZE,
                self.options.max_frame,
            )
            return
        # Order per peer is kept: a message is never due before the one
        # queued ahead of it (an empty queue has nothing to keep behind).
        due = out.last_due if out.queue else 0.0
        if fate:
            out.stats.delayed += 1
            due = max(due, asyncio.get_running_loop().time() + float(fate))
            out.last_due = due
        self._enqueue(out, _Queued(due, frame, message, mid))

    def _enqueue(self, out: _Outbound, item: _Queued) -> None:
        opts = self.options
        stats = out.stats
        size = len(item.frame)
        queue = out.queue
        while len(queue) >= opts.queue_messages or stats.queued_bytes + size > opts.queue_bytes:
            if opts.overflow == "newest" or size > opts.queue_bytes:
                stats.dropped_overflow += 1
                self._dropped(item.message, item.mid, "overflow")
                return
            old = queue.popleft()
            stats.queued_bytes -= len(old.frame)
            stats.dropped_overflow += 1
            self._dropped(old.message, old.mid, "overflow")
        queue.append(item)
        stats.queued_bytes += size
        stats.queued = len(queue)
        out.wake.set()

    def _discard(self, queue: deque[_Queued], reason: str) -> None:
        items = list(queue)
        queue.clear()
        for item in items:
            self._dropped(item.message, item.mid, reason)

    def _dropped(self, message: Message, mid: str, reason: str) -> None:
        if self._on_drop is None:
            return
        try:
            self._on_drop(message, mid, reason)
        except Exception:
            log.exception("transport %d: on_drop failed for %s", self.node_id, message.KIND)

    def _take_batch(self, out: _Outbound) -> tuple[list[bytes], float | None]:
        """The frames to write now; when there are none, how long until the
        head of the queue is due (None when the queue is empty)."""
        queue = out.queue
        stats = out.stats
        batch: list[bytes] = []
        size = 0
        now = asyncio.get_running_loop().time() if queue and queue[0].due else 0.0
        limit_n, limit_b = self.options.batch_messages, self.options.batch_bytes
        while queue and len(batch) < limit_n:
            head = queue[0]
            if head.due > now:
                now = asyncio.get_running_loop().time()
                if head.due > now:
                    break
            if batch and size + len(head.frame) > limit_b:
                break
            queue.popleft()
            batch.append(head.frame)
            size += len(head.frame)
        stats.queued = len(queue)
        stats.queued_bytes -= size
        if batch or not queue:
            return batch, None
        return batch, max(0.0, queue[0].due - now)

    # -- outbound connections --------------------------------------------------

    async def _run_peer(self, out: _Outbound) -> None:
        """Dial, pump, and redial with backoff, until cancelled."""
        attempt = 0
        while True:
            conn = await self._dial(out)
            if conn is not None:
                attempt = 0
                reader, writer, decoder = conn
                try:
                    await self._pump(out, reader, writer, decoder)
                finally:
                    out.stats.connected = False
                    out.stats.disconnects += 1
                    await _close_writer(writer)
            delay = backoff_delay(
                attempt, self._backoff_rng, self.options.backoff_base, self.options.backoff_max
            )
            attempt += 1
            await asyncio.sleep(delay)

    async def _dial(
        self, out: _Outbound
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, FrameDecoder] | None:
        host, port = out.address
        opts = self.options
        try:
            async with asyncio.timeout(opts.connect_timeout):
                reader, writer = await asyncio.open_connection(host, port)
        except (OSError, TimeoutError) as err:
            out.stats.connect_failures += 1
            level = logging.DEBUG if out.warned else logging.WARNING
            out.warned = True
            log.log(
                level,
                "transport %d: cannot reach peer %d at %s:%d: %s",
                self.node_id,
                out.peer,
                host,
                port,
                err or type(err).__name__,
            )
            return None
        decoder = FrameDecoder(opts.max_frame)
        try:
            writer.write(hello_frame(FrameKind.HELLO, Hello(self.node_id, out.peer, opts.cluster)))
            async with asyncio.timeout(opts.handshake_timeout):
                frame = await _next_frame(reader, decoder)
            self._check_welcome(out.peer, frame)
        except asyncio.CancelledError:
            writer.transport.abort()
            raise
        except (FrameError, OSError, TimeoutError) as err:
            out.stats.handshake_failures += 1
            log.error(
                "transport %d: handshake with peer %d at %s:%d failed: %s",
                self.node_id,
                out.peer,
                host,
                port,
                err or type(err).__name__,
            )
            await _close_writer(writer)
            return None
        out.warned = False
        out.stats.connects += 1
        out.stats.connected = True
        log.info("transport %d: connected to peer %d at %s:%d", self.node_id, out.peer, host, port)
        return reader, writer, decoder

    def _check_welcome(self, peer: int, frame: Frame | None) -> None:
        if frame is None:
            raise FrameError("peer closed the connection during the handshake")
        if frame.kind is FrameKind.REJECT:
            raise FrameError(f"peer rejected us: {decode_reject(frame.payload)}")
        if frame.kind is not FrameKind.WELCOME:
            raise FrameError(f"expected WELCOME, got {frame.kind.name}")
        hello = decode_hello(frame.payload)
        if hello.src != peer or hello.dst != self.node_id:
            raise FrameError(
                f"welcome says it is node {hello.src} answering node {hello.dst}, "
                f"expected node {peer} answering node {self.node_id}"
            )
        if hello.cluster != self.options.cluster:
            raise FrameError(
                f"peer belongs to cluster {hello.cluster!r}, not {self.options.cluster!r}"
            )

    async def _pump(
        self,
        out: _Outbound,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        decoder: FrameDecoder,
    ) -> None:
        """Write batches until the connection breaks. A watcher reads the
        socket meanwhile: the acceptor never talks after WELCOME except to
        REJECT, so anything it reads (or EOF) ends the connection."""
        link = _Link()
        watcher = asyncio.create_task(self._watch(out, reader, decoder, link))
        stats = out.stats
        try:
            while not link.lost:
                batch, wait = self._take_batch(out)
                if not batch:
                    out.wake.clear()
                    if wait is None:
                        await out.wake.wait()
                    else:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(out.wake.wait(), wait)
                    continue
                data = b"".join(batch)
                try:
                    writer.write(data)
                    await writer.drain()
                except OSError as err:
                    stats.write_errors += 1
                    log.warning(
                        "transport %d: writing to peer %d failed: %s", self.node_id, out.peer, err
                    )
                    return
                stats.sent += len(batch)
                stats.batches += 1
                stats.bytes_sent += len(data)
                stats.max_batch = max(stats.max_batch, len(batch))
        finally:
            watcher.cancel()
            # wait() neither raises the watcher's cancellation nor swallows ours.
            await asyncio.wait((watcher,))

    async def _watch(
        self, out: _Outbound, reader: asyncio.StreamReader, decoder: FrameDecoder, link: _Link
    ) -> None:
        try:
            frame = await _next_frame(reader, decoder)
            if frame is None:
                log.info("transport %d: peer %d closed the connection", self.node_id, out.peer)
            elif frame.kind is FrameKind.REJECT:
                log.error(
                    "transport %d: peer %d closed the connection: %s",
                    self.node_id,
                    out.peer,
                    decode_reject(frame.payload),
                )
            else:
                log.error(
                    "transport %d: peer %d sent an unexpected %s frame; reconnecting",
                    self.node_id,
                    out.peer,
                    frame.kind.name,
                )
        except (FrameError, OSError) as err:
            log.error("transport %d: connection to peer %d broke: %s", self.node_id, out.peer, err)
        finally:
            link.lost = True
            out.wake.set()

    # -- inbound connections ---------------------------------------------------

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Server callback: serve the connection in a task of our own, so
        that ``close`` can cancel it and wait for it."""
        if self._closed:
            writer.close()
            return
        self._accepted.add(writer)
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._conn_tasks.add(task)
        task.add_done_callback(self._conn_tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peername = writer.get_extra_info("peername")
        where = f"{peername[0]}:{peername[1]}" if peername else "unknown"
        decoder = FrameDecoder(self.options.max_frame)
        src: int | None = None
        try:
            async with asyncio.timeout(self.options.handshake_timeout):
                frame = await _next_frame(reader, decoder)
            if frame is None:
                return
            src = self._check_hello(frame)
            writer.write(
                hello_frame(FrameKind.WELCOME, Hello(self.node_id, src, self.options.cluster))
            )
            self._adopt(src, writer)
            await self._receive(src, reader, decoder)
        except FrameError as err:
            self.rejected_connections += 1
            if src is not None:
                self._inbound[src].rejected += 1
            who = f"node {src} at {where}" if src is not None else where
            log.error("transport %d: rejected connection from %s: %s", self.node_id, who, err)
            with contextlib.suppress(OSError):
                writer.write(reject_frame(str(err)))
        except (OSError, TimeoutError) as err:
            log.info(
                "transport %d: inbound connection from %s ended: %s",
                self.node_id,
                where,
                err or type(err).__name__,
            )
        finally:
            if src is not None and self._live.get(src) is writer:
                del self._live[src]
            self._accepted.discard(writer)
            await _close_writer(writer, grace=0.0 if self._closed else 1.0)

    def _check_hello(self, frame: Frame) -> int:
        if frame.kind is not FrameKind.HELLO:
            raise FrameError(f"expected HELLO as the first frame, got {frame.kind.name}")
        hello = decode_hello(frame.payload)
        if hello.dst != self.node_id:
            raise FrameError(
                f"hello addressed to node {hello.dst}, but this is node {self.node_id}"
            )
        if hello.src == self.node_id:
            raise FrameError(f"hello claims to come from this node's own id {self.node_id}")
        if hello.cluster != self.options.cluster:
            raise FrameError(
                f"hello from cluster {hello.cluster!r}, but this node is in "
                f"cluster {self.options.cluster!r}"
            )
        return hello.src

    def _adopt(self, src: int, writer: asyncio.StreamWriter) -> None:
        """Record the inbound connection from ``src``; an older one from the
        same peer is closed, since the peer only writes to its newest."""
        old = self._live.get(src)
        if old is not None:
            old.close()
        self._live[src] = writer
        self._inbound.setdefault(src, InboundStats()).connections += 1

    async def _receive(self, src: int, reader: asyncio.StreamReader, decoder: FrameDecoder) -> None:
        stats = self._inbound[src]
        on_message = self._on_message
        faults = self._faults
        while True:
            data = await reader.read(_READ_SIZE)
            if not data:
                return
            for frame in decoder.feed(data):
                if frame.kind is not FrameKind.MESSAGE:
                    raise FrameError(f"expected MESSAGE frames, got {frame.kind.name}")
                message, mid = decode_message_payload(frame.payload)
                if message.src != src or message.dst != self.node_id:
                    raise FrameError(
                        f"{message.KIND} from node {message.src} to node {message.dst} "
                        f"on the connection from node {src} to node {self.node_id}"
                    )
                if faults.blocks_in(src):
                    stats.blocked_in += 1
                    self._dropped(message, mid, "partition")
                    continue
                stats.received += 1
                try:
                    on_message(message, mid)
                except Exception:
                    log.exception(
                        "transport %d: on_message failed for %s from node %d",
                        self.node_id,
                        message.KIND,
                        src,
                    )

    # -- observation -------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counters as plain values (peer ids as int keys), for tests,
        metrics and the admin API's status."""
        return {
            "node": self.node_id,
            "address": list(self.address),
            "unknown_peer": self.unknown_peer,
            "rejected_connections": self.rejected_connections,
            "peers": {pid: asdict(out.stats) for pid, out in sorted(self._peers.items())},
            "inbound": {pid: asdict(s) for pid, s in sorted(self._inbound.items())},
            "faults": {pid: f.to_json() for pid, f in self._faults.snapshot().items()},
        }


async def _next_frame(reader: asyncio.StreamReader, decoder: FrameDecoder) -> Frame | None:
    """The next frame on a connection where frames come one at a time
    (handshakes, and the dialer's watch); None at end of stream."""
    while True:
        data = await reader.read(_READ_SIZE)
        if not data:
            if decoder.pending:
                raise FrameError(
                    f"connection closed inside a frame at stream offset {decoder.offset}"
                )
            return None
        frames = decoder.feed(data)
        if frames:
            if len(frames) > 1:
                raise FrameError(f"{frames[1].kind.name} frame before the handshake completed")
            return frames[0]


async def _close_writer(writer: asyncio.StreamWriter, grace: float = 0.0) -> None:
    """Close a connection and wait until its socket is gone.

    Unsent bytes get ``grace`` seconds to flush (a REJECT should reach the
    peer); after that, or at once when ``grace`` is 0, the connection is
    aborted, so that a peer that stopped reading cannot hold a close up.
    A cancellation is never swallowed here: ``close`` relies on it."""
    transport = writer.transport
    if not grace:
        transport.abort()
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), grace or None)
    except TimeoutError:
        transport.abort()
    except OSError:
        pass
