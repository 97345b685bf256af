"""The peer transport over real sockets on 127.0.0.1.

Every test binds port 0, waits on conditions with timeouts (never a fixed
sleep), and is run by ``sockets``, which fails the test if a task is left
running or a file descriptor is left open when it ends. Absence of a
message is shown with a marker: delivery is in order per peer, so once a
marker sent after the suppressed messages arrives, they are known lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from consensus.messages import AppendRequest, Heartbeat, Message
from consensus.records import Entry
from kv.frames import (
    MAGIC,
    VERSION,
    Frame,
    FrameDecoder,
    FrameKind,
    Hello,
    decode_hello,
    decode_reject,
    encode_frame,
    hello_frame,
    message_frame,
)
from kv.netfaults import LinkFaults
from kv.transport import FaultControl, PeerNetwork, Transport, TransportOptions

HOST = "127.0.0.1"
LOCAL = (HOST, 0)
FAST = TransportOptions(backoff_base=0.01, backoff_max=0.05)
MARKER = 10_000


def hb(src: int, dst: int, n: int) -> Heartbeat:
    return Heartbeat(1, src, dst, 0, n)


def big(src: int, dst: int, n: int, size: int = 4096) -> AppendRequest:
    return AppendRequest(1, src, dst, n, 1, (Entry(n + 1, 1, "x" * size),), n)


class Inbox:
    """An ``on_message`` callback that keeps what it gets, with arrival times."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.mids: list[str] = []
        self.times: list[float] = []

    def __call__(self, message: Message, mid: str) -> None:
        self.messages.append(message)
        self.mids.append(mid)
        self.times.append(asyncio.get_running_loop().time())

    def rounds(self, src: int) -> list[int]:
        return [m.round for m in self.messages if isinstance(m, Heartbeat) and m.src == src]


async def until(cond: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.002)


def open_fds() -> dict[str, str]:
    """This process's open file descriptors and what each one is."""
    found = {}
    for fd in os.listdir("/proc/self/fd"):
        # The descriptor listdir itself used is gone by now.
        with contextlib.suppress(FileNotFoundError):
            found[fd] = os.readlink(f"/proc/self/fd/{fd}")
    return found


def sockets(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test in a fresh loop and check it cleaned up after itself."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        before = open_fds()

        async def main() -> None:
            await asyncio.wait_for(test(*args, **kwargs), 60)
            left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            assert not left, f"tasks still running after the test: {left}"

        asyncio.run(main())
        after = open_fds()
        leaked = {fd: what for fd, what in after.items() if before.get(fd) != what}
        assert not leaked, f"file descriptors left open: {leaked}"

    return wrapper


@asynccontextmanager
async def cluster(
    n: int, options: TransportOptions = FAST, seed: int = 1
) -> AsyncIterator[tuple[list[Transport], list[Inbox]]]:
    """``n`` transports (ids 1..n) that know each other, closed on exit."""
    inboxes = [Inbox() for _ in range(n)]
    nodes = [
        Transport(i + 1, LOCAL, {}, inboxes[i], options=options, seed=seed + i) for i in range(n)
    ]
    try:
        for t in nodes:
            await t.start()
        table = {t.node_id: t.address for t in nodes}
        for t in nodes:
            t.set_peers(table)
        yield nodes, inboxes
    finally:
        for t in nodes:
            await t.close()


def connected(t: Transport, peer: int) -> Callable[[], bool]:
    return lambda: bool(t.stats()["peers"][peer]["connected"])


def out_stat(t: Transport, peer: int, name: str) -> int:
    return int(t.stats()["peers"][peer][name])


# -- delivery, batching, reconnect ---------------------------------------------


@sockets
async def test_messages_arrive_in_order_per_peer() -> None:
    async with cluster(3) as ((a, b, c), (ia, _, ic)):
        for n in range(300):
            a.send(hb(1, 3, n))
            b.send(hb(2, 3, n))
            c.send(hb(3, 1, n))
            if n % 50 == 0:
                await asyncio.sleep(0)  # let the writers run between bursts
        await until(lambda: len(ic.messages) == 600 and len(ia.messages) == 300, "delivery")
        assert ic.rounds(1) == ic.rounds(2) == list(range(300))
        assert ia.rounds(3) == list(range(300))
        assert all(m.dst == 3 for m in ic.messages)


@sockets
async def test_queued_messages_share_a_write() -> None:
    async with cluster(2, TransportOptions(batch_messages=100)) as ((a, _), (_, ib)):
        await until(connected(a, 2), "connection")
        for n in range(2000):
            a.send(hb(1, 2, n))
        await until(lambda: len(ib.messages) == 2000, "delivery")
        stats = a.stats()["peers"][2]
        assert stats["sent"] == 2000
        assert stats["max_batch"] == 100
        assert 20 <= stats["batches"] <= 100
        assert ib.rounds(1) == list(range(2000))


@sockets
async def test_a_batch_is_bounded_in_bytes() -> None:
    options = TransportOptions(batch_bytes=5 * 4096)
    async with cluster(2, options) as ((a, _), (_, ib)):
        await until(connected(a, 2), "connection")
        for n in range(40):
            a.send(big(1, 2, n))
        await until(lambda: len(ib.messages) == 40, "delivery")
        assert a.stats()["peers"][2]["max_batch"] == 4  # a fifth would pass the limit


@sockets
async def test_reconnects_after_the_peer_restarts() -> None:
    async with cluster(2) as ((a, b), (_, ib)):
        a.send(hb(1, 2, 0))
        await until(lambda: ib.rounds(1) == [0], "first delivery")
        port = b.address[1]
        await b.close()
        await until(lambda: not connected(a, 2)(), "the disconnect to be noticed")
        for n in range(1, 11):
            a.send(hb(1, 2, n))  # queued while the peer is down
        await until(lambda: out_stat(a, 2, "connect_failures") >= 2, "redial attempts")
        inbox = Inbox()
        again = Transport(2, (HOST, port), {1: a.address}, inbox, options=FAST)
        await again.start()
        try:
            await until(lambda: inbox.rounds(1) == list(range(1, 11)), "delivery after restart")
            assert out_stat(a, 2, "connects") == 2
            assert out_stat(a, 2, "disconnects") == 1
        finally:
            await again.close()


# -- back-pressure ---------------------------------------------------------------


@pytest.mark.parametrize(("policy", "kept"), [("oldest", range(900, 1000)), ("newest", range(100))])
@sockets
async def test_a_down_peer_gets_a_bounded_queue_and_drops_are_counted(
    policy: str, kept: range
) -> None:
    placeholder = socket.socket()  # bound, not listening: dials are refused
    placeholder.bind(LOCAL)
    port = placeholder.getsockname()[1]
    options = TransportOptions(
        queue_messages=100,
        overflow=policy,
        backoff_base=0.01,
        backoff_max=0.05,  # type: ignore[arg-type]
    )
    a = Transport(1, LOCAL, {2: (HOST, port)}, Inbox(), options=options)
    await a.start()
    inbox = Inbox()
    b = Transport(2, (HOST, port), {}, inbox, options=FAST)
    try:
        for n in range(1000):
            a.send(hb(1, 2, n))
            assert out_stat(a, 2, "queued") <= 100
        assert out_stat(a, 2, "queued") == 100
        assert out_stat(a, 2, "dropped_overflow") == 900
        await until(lambda: out_stat(a, 2, "connect_failures") >= 3, "redial attempts")
        assert out_stat(a, 2, "queued") == 100
        placeholder.close()
        await b.start()
        await until(lambda: len(inbox.messages) == 100, "the queued messages")
        assert inbox.rounds(1) == list(kept)
        assert out_stat(a, 2, "queued") == 0
    finally:
        placeholder.close()
        await a.close()
        await b.close()


@sockets
async def test_the_queue_is_bounded_in_bytes_too() -> None:
    placeholder = socket.socket()
    placeholder.bind(LOCAL)
    limit = 10 * 4200
    options = TransportOptions(queue_bytes=limit)
    a = Transport(1, LOCAL, {2: placeholder.getsockname()}, Inbox(), options=options)
    await a.start()
    try:
        for n in range(50):
            a.send(big(1, 2, n))
        stats = a.stats()["peers"][2]
        assert 0 < stats["queued_bytes"] <= limit
        assert stats["queued"] + stats["dropped_overflow"] == 50
        assert stats["dropped_overflow"] >= 40
    finally:
        placeholder.close()
        await a.close()


@asynccontextmanager
async def stalled_peer(node_id: int) -> AsyncIterator[tuple[str, int]]:
    """A peer that completes the handshake and then never reads."""
    held: list[asyncio.StreamWriter] = []
    done = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hello = decode_hello((await read_frame(reader)).payload)
        writer.write(hello_frame(FrameKind.WELCOME, Hello(node_id, hello.src)))
        held.append(writer)
        await done.wait()

    server = await asyncio.start_server(serve, HOST, 0)
    try:
        yield HOST, server.sockets[0].getsockname()[1]
    finally:
        done.set()
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@sockets
async def test_a_slow_peer_never_blocks_the_sender_and_the_queue_stays_bounded() -> None:
    async with stalled_peer(2) as address:
        a = Transport(1, LOCAL, {2: address}, Inbox(), options=TransportOptions(queue_messages=64))
        await a.start()
        try:
            await until(connected(a, 2), "connection")
            total = 0
            while out_stat(a, 2, "dropped_overflow") == 0 or total < 12_000:
                for _ in range(200):
                    a.send(big(1, 2, total))
                    total += 1
                assert out_stat(a, 2, "queued") <= 64
                await asyncio.sleep(0)  # let the writer run; it stays stuck in drain
                assert total < 40_000, "the kernel buffers never filled"
            stats = a.stats()["peers"][2]
            assert stats["dropped_overflow"] > 0
            assert stats["sent"] + stats["queued"] + stats["dropped_overflow"] <= total
        finally:
            await a.close()


# -- faults ------------------------------------------------------------------------


@sockets
async def test_drop_everything_then_heal() -> None:
    async with cluster(2) as ((a, _), (_, ib)):
        a.set_faults(2, LinkFaults(drop=1.0))
        for n in range(50):
            a.send(hb(1, 2, n))
        assert out_stat(a, 2, "dropped_fault") == 50
        a.heal()
        assert a.faults() == {}
        a.send(hb(1, 2, MARKER))
        await until(lambda: bool(ib.messages), "the marker")
        assert ib.rounds(1) == [MARKER]


@sockets
async def test_a_drop_probability_loses_some_messages() -> None:
    async with cluster(2, seed=11) as ((a, _), (_, ib)):
        a.set_faults(2, LinkFaults(drop=0.5))
        for n in range(400):
            a.send(hb(1, 2, n))
        a.set_faults(2, LinkFaults())
        a.send(hb(1, 2, MARKER))
        await until(lambda: MARKER in ib.rounds(1), "the marker")
        delivered = len(ib.messages) - 1
        assert delivered + out_stat(a, 2, "dropped_fault") == 400
        assert 120 < delivered < 280
        assert ib.rounds(1) == sorted(ib.rounds(1))


@sockets
async def test_a_delay_holds_messages_back_and_keeps_their_order() -> None:
    async with cluster(2) as ((a, b), (ia, ib)):
        await until(connected(a, 2), "connection")
        a.set_faults(2, LinkFaults(delay_ms=150, jitter_ms=50))
        loop = asyncio.get_running_loop()
        sent_at = []
        for n in range(20):
            sent_at.append(loop.time())
            a.send(hb(1, 2, n))
        b.send(hb(2, 1, 0))  # the other direction is not delayed
        await until(lambda: len(ib.messages) == 20, "delayed delivery")
        assert ib.rounds(1) == list(range(20))
        assert all(got - sent >= 0.150 for got, sent in zip(ib.times, sent_at, strict=True))
        assert out_stat(a, 2, "delayed") == 20
        assert ia.times[0] < ib.times[0]


@sockets
async def test_blocking_outbound_cuts_one_direction_only() -> None:
    async with cluster(2) as ((a, b), (ia, ib)):
        a.partition([2], inbound=False)
        assert a.faults()[2] == LinkFaults(block_out=True)
        for n in range(20):
            a.send(hb(1, 2, n))
            b.send(hb(2, 1, n))
        await until(lambda: len(ia.messages) == 20, "the open direction")
        assert out_stat(a, 2, "blocked_out") == 20
        a.heal()
        a.send(hb(1, 2, MARKER))
        await until(lambda: bool(ib.messages), "the marker")
        assert ib.rounds(1) == [MARKER]
        assert ia.rounds(2) == list(range(20))


@sockets
async def test_blocking_inbound_cuts_one_direction_only() -> None:
    async with cluster(2) as ((a, b), (ia, ib)):
        b.partition([1], outbound=False)
        for n in range(20):
            a.send(hb(1, 2, n))
            b.send(hb(2, 1, n))
        await until(lambda: b.stats()["inbound"].get(1, {}).get("blocked_in") == 20, "discards")
        await until(lambda: len(ia.messages) == 20, "the open direction")
        assert ib.messages == []
        b.heal()
        a.send(hb(1, 2, MARKER))
        await until(lambda: bool(ib.messages), "the marker")
        assert ib.rounds(1) == [MARKER]


@sockets
async def test_a_two_way_partition_cuts_both_directions_and_heals_without_reconnecting() -> None:
    async with cluster(3) as ((a, b, c), (ia, ib, ic)):
        await until(lambda: connected(a, 2)() and connected(b, 1)(), "connections")
        a.partition([2])  # set on one side only: still exact both ways
        for n in range(20):
            a.send(hb(1, 2, n))
            b.send(hb(2, 1, n))
            a.send(hb(1, 3, n))
            c.send(hb(3, 1, n))
        await until(lambda: a.stats()["inbound"][2]["blocked_in"] == 20, "discards at a")
        await until(lambda: len(ic.messages) == 20 and len(ia.messages) == 20, "other links")
        assert out_stat(a, 2, "blocked_out") == 20
        assert ia.rounds(2) == [] and ib.messages == []
        a.heal()
        a.send(hb(1, 2, MARKER))
        b.send(hb(2, 1, MARKER))
        await until(lambda: bool(ib.messages) and MARKER in ia.rounds(2), "the markers")
        assert ib.rounds(1) == [MARKER] and ia.rounds(2) == [MARKER]
        assert out_stat(a, 2, "connects") == 1 and out_stat(b, 1, "connects") == 1


@sockets
async def test_a_partition_also_discards_what_was_already_queued() -> None:
    async with cluster(2) as ((a, _), (_, ib)):
        a.set_faults(2, LinkFaults(delay_ms=60_000))
        for n in range(10):
            a.send(hb(1, 2, n))
        assert out_stat(a, 2, "queued") == 10
        a.partition([2])
        await until(lambda: out_stat(a, 2, "blocked_out") == 10, "the queue to be discarded")
        assert out_stat(a, 2, "queued") == 0
        a.heal()
        a.send(hb(1, 2, MARKER))
        await until(lambda: bool(ib.messages), "the marker")
        assert ib.rounds(1) == [MARKER]


# -- bad peers ---------------------------------------------------------------------


async def read_frame(reader: asyncio.StreamReader) -> Frame:
    decoder = FrameDecoder()
    while True:
        data = await reader.read(65536)
        assert data, "connection closed before a frame arrived"
        frames = decoder.feed(data)
        if frames:
            return frames[0]


async def reply_then_eof(reader: asyncio.StreamReader) -> list[Frame]:
    """Every frame the server sends until it closes the connection."""
    decoder = FrameDecoder()
    frames: list[Frame] = []
    while data := await reader.read(65536):
        frames += decoder.feed(data)
    return frames


async def handshake(address: tuple[str, int], src: int, dst: int) -> tuple[Any, Any]:
    reader, writer = await asyncio.open_connection(*address)
    writer.write(hello_frame(FrameKind.HELLO, Hello(src, dst)))
    frame = await read_frame(reader)
    assert frame.kind is FrameKind.WELCOME, decode_reject(frame.payload)
    return reader, writer


def valid_then_flipped() -> bytes:
    frame = bytearray(message_frame(hb(7, 2, 1)))
    frame[-3] ^= 0x01
    return bytes(frame)


GARBAGE = {
    "http": (False, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "bad magic b'GE'"),
    "oversized": (
        True,
        MAGIC + bytes([VERSION, 3]) + (1 << 30).to_bytes(4, "big") + b"\0\0\0\0",
        "payload of 1073741824 bytes exceeds the limit",
    ),
    "checksum": (True, valid_then_flipped(), "checksum mismatch"),
    "not a message": (
        True,
        encode_frame(
            FrameKind.MESSAGE, b'{"msg": {"type": "gossip", "term": 1, "src": 7, "dst": 2}}'
        ),
        "not a Raft message: unknown message type 'gossip'",
    ),
    "forged sender": (
        True,
        message_frame(hb(3, 2, 1)),
        "heartbeat from node 3 to node 2 on the connection from node 7 to node 2",
    ),
    "second hello": (True, hello_frame(FrameKind.HELLO, Hello(7, 2)), "got HELLO"),
    "no hello": (False, message_frame(hb(7, 2, 1)), "expected HELLO as the first frame"),
}


@pytest.mark.parametrize("case", sorted(GARBAGE))
@sockets
async def test_garbage_closes_that_connection_with_a_clear_error(
    case: str, caplog: pytest.LogCaptureFixture
) -> None:
    after_hello, data, expected = GARBAGE[case]
    async with cluster(2) as ((a, b), (_, ib)):
        if after_hello:
            reader, writer = await handshake(b.address, 7, 2)
        else:
            reader, writer = await asyncio.open_connection(*b.address)
        with caplog.at_level(logging.ERROR, logger="kv.transport"):
            writer.write(data)
            frames = await reply_then_eof(reader)
        writer.close()
        await writer.wait_closed()
        assert [f.kind for f in frames] == [FrameKind.REJECT]
        assert expected in decode_reject(frames[0].payload)
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert any("transport 2: rejected connection from" in e and expected in e for e in errors)
        assert b.stats()["rejected_connections"] == 1
        a.send(hb(1, 2, MARKER))  # the server still serves everyone else
        await until(lambda: ib.rounds(1) == [MARKER], "delivery after the bad peer")


@pytest.mark.parametrize(
    ("hello", "expected"),
    [
        (Hello(7, 9), "hello addressed to node 9, but this is node 2"),
        (Hello(2, 2), "claims to come from this node's own id 2"),
        (Hello(7, 2, "other"), "hello from cluster 'other'"),
    ],
)
@sockets
async def test_a_bad_hello_is_rejected_with_the_reason(hello: Hello, expected: str) -> None:
    async with cluster(2) as ((_, b), _):
        reader, writer = await asyncio.open_connection(*b.address)
        writer.write(hello_frame(FrameKind.HELLO, hello))
        frames = await reply_then_eof(reader)
        writer.close()
        await writer.wait_closed()
        assert len(frames) == 1 and expected in decode_reject(frames[0].payload)


@sockets
async def test_dialling_the_wrong_node_is_reported_and_nothing_is_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with cluster(3) as ((a, _, c), (_, _, ic)):
        with caplog.at_level(logging.ERROR, logger="kv.transport"):
            a.set_peers({2: c.address, 3: c.address})  # node 2's address is wrong
            a.send(hb(1, 2, 0))
            await until(lambda: out_stat(a, 2, "handshake_failures") >= 2, "failed handshakes")
        assert not connected(a, 2)()
        assert out_stat(a, 2, "sent") == 0 and out_stat(a, 2, "queued") == 1
        errors = [r.getMessage() for r in caplog.records]
        assert any(
            "transport 1: handshake with peer 2" in e
            and "rejected us: hello addressed to node 2, but this is node 3" in e
            for e in errors
        )
        a.send(hb(1, 3, MARKER))
        await until(lambda: bool(ic.messages), "the marker to node 3")
        assert ic.rounds(1) == [MARKER]


@sockets
async def test_nodes_of_different_clusters_do_not_talk() -> None:
    ia = Inbox()
    a = Transport(1, LOCAL, {}, ia, options=TransportOptions(cluster="red"))
    b = Transport(2, LOCAL, {}, Inbox(), options=TransportOptions(cluster="blue"))
    await a.start()
    await b.start()
    try:
        a.set_peers({2: b.address})
        await until(lambda: out_stat(a, 2, "handshake_failures") >= 1, "a failed handshake")
        assert b.stats()["rejected_connections"] >= 1
    finally:
        await a.close()
        await b.close()


# -- membership, misuse, shutdown -------------------------------------------------------


@sockets
async def test_peers_can_be_added_moved_and_removed() -> None:
    ia, ib, ib2 = Inbox(), Inbox(), Inbox()
    a = Transport(1, LOCAL, {}, ia, options=FAST)
    b = Transport(2, LOCAL, {}, ib, options=FAST)
    b2 = Transport(2, LOCAL, {}, ib2, options=FAST)
    for t in (a, b, b2):
        await t.start()
    try:
        a.send(hb(1, 2, 0))
        assert a.stats()["unknown_peer"] == 1
        a.set_peers({1: a.address, 2: b.address})  # its own id is ignored
        assert sorted(a.stats()["peers"]) == [2]
        a.send(hb(1, 2, 1))
        await until(lambda: ib.rounds(1) == [1], "delivery to the added peer")
        a.set_peers({2: b2.address})  # node 2 moved
        a.send(hb(1, 2, 2))
        await until(lambda: ib2.rounds(1) == [2], "delivery to the new address")
        a.set_peers({})
        a.send(hb(1, 2, 3))
        assert a.stats()["unknown_peer"] == 2 and a.stats()["peers"] == {}
        assert ib.rounds(1) == [1]
    finally:
        for t in (a, b, b2):
            await t.close()


@sockets
async def test_a_message_over_the_frame_limit_is_dropped_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with cluster(2, TransportOptions(max_frame=1024)) as ((a, _), (_, ib)):
        with caplog.at_level(logging.ERROR, logger="kv.transport"):
            a.send(big(1, 2, 0))
        assert out_stat(a, 2, "dropped_oversize") == 1
        assert any("over the frame limit of 1024" in r.getMessage() for r in caplog.records)
        a.send(hb(1, 2, MARKER))
        await until(lambda: bool(ib.messages), "the marker")
        assert ib.rounds(1) == [MARKER]


@sockets
async def test_a_failing_callback_does_not_break_the_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    got: list[Message] = []

    def picky(message: Message, mid: str) -> None:
        got.append(message)
        if len(got) == 1:
            raise RuntimeError("boom")

    a = Transport(1, LOCAL, {}, Inbox(), options=FAST)
    b = Transport(2, LOCAL, {}, picky, options=FAST)
    await a.start()
    await b.start()
    try:
        a.set_peers({2: b.address})
        with caplog.at_level(logging.ERROR, logger="kv.transport"):
            a.send(hb(1, 2, 0))
            a.send(hb(1, 2, 1))
            await until(lambda: len(got) == 2, "both messages")
        logged = [r.getMessage() for r in caplog.records]
        assert any("on_message failed for heartbeat from node 1" in m for m in logged)
        assert out_stat(a, 2, "connects") == 1
    finally:
        await a.close()
        await b.close()


@sockets
async def test_sending_a_message_from_another_node_is_a_caller_bug() -> None:
    async with cluster(2) as ((a, _), _):
        with pytest.raises(ValueError, match="cannot send a message from node 2"):
            a.send(hb(2, 1, 0))


@sockets
async def test_close_releases_everything_even_mid_traffic_and_mid_backoff() -> None:
    placeholder = socket.socket()
    placeholder.bind(LOCAL)
    async with cluster(3) as (nodes, _):
        nodes[0].set_peers({2: nodes[1].address, 3: nodes[2].address, 4: placeholder.getsockname()})
        for n in range(500):
            for t in nodes:
                for peer in (1, 2, 3):
                    if peer != t.node_id:
                        t.send(big(t.node_id, peer, n, 256))
        await until(lambda: out_stat(nodes[0], 4, "connect_failures") >= 1, "a failed dial")
    placeholder.close()
    await nodes[0].close()  # a second close is harmless


def test_the_transport_is_what_the_node_runtime_and_admin_api_code_against() -> None:
    t = Transport(1, LOCAL, {}, Inbox())
    assert isinstance(t, PeerNetwork) and isinstance(t, FaultControl)


@sockets
async def test_handshakes_time_out_on_both_sides(caplog: pytest.LogCaptureFixture) -> None:
    silent: list[asyncio.StreamWriter] = []
    stop = asyncio.Event()

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        silent.append(writer)  # a server that accepts and never answers
        await stop.wait()

    server = await asyncio.start_server(mute, HOST, 0)
    options = TransportOptions(handshake_timeout=0.1, backoff_base=0.01, backoff_max=0.05)
    a = Transport(1, LOCAL, {2: server.sockets[0].getsockname()}, Inbox(), options=options)
    await a.start()
    try:
        with caplog.at_level(logging.ERROR, logger="kv.transport"):
            await until(lambda: out_stat(a, 2, "handshake_failures") >= 2, "handshake timeouts")
        assert any("handshake with peer 2" in r.getMessage() for r in caplog.records)
        # And a connection to a that never says HELLO is closed by a.
        reader, writer = await asyncio.open_connection(*a.address)
        assert await reply_then_eof(reader) == []
        writer.close()
        await writer.wait_closed()
    finally:
        await a.close()
        stop.set()
        for writer in silent:
            writer.close()
        server.close()
        await server.wait_closed()


class Drops:
    """An ``on_drop`` callback: (round or kind, mid, reason) per discard."""

    def __init__(self) -> None:
        self.seen: list[tuple[int | str, str, str]] = []

    def __call__(self, message: Message, mid: str, reason: str) -> None:
        label = message.round if isinstance(message, Heartbeat) else message.KIND
        self.seen.append((label, mid, reason))


@sockets
async def test_trace_ids_travel_with_messages_and_inbound_discards_are_reported() -> None:
    ib, drops = Inbox(), Drops()
    a = Transport(1, LOCAL, {}, Inbox(), options=FAST)
    b = Transport(2, LOCAL, {}, ib, options=FAST, on_drop=drops)
    await a.start()
    await b.start()
    try:
        a.set_peers({2: b.address})
        a.send(hb(1, 2, 0), "1:5")
        a.send(hb(1, 2, 1))
        await until(lambda: len(ib.messages) == 2, "delivery")
        assert ib.mids == ["1:5", ""]
        b.partition([1], outbound=False)
        a.send(hb(1, 2, 2), "1:6")
        await until(lambda: bool(drops.seen), "the discard")
        assert drops.seen == [(2, "1:6", "partition")]
    finally:
        await a.close()
        await b.close()


@sockets
async def test_every_deliberate_discard_is_reported_with_its_reason() -> None:
    placeholder = socket.socket()  # peer 2 is down: its queue only fills
    placeholder.bind(LOCAL)
    drops = Drops()
    options = TransportOptions(queue_messages=3, max_frame=1024, backoff_base=0.01)
    a = Transport(1, LOCAL, {2: placeholder.getsockname()}, Inbox(), options=options, on_drop=drops)
    await a.start()
    try:
        a.send(hb(1, 3, 0), "1:1")
        a.set_faults(2, LinkFaults(drop=1.0))
        a.send(hb(1, 2, 1), "1:2")
        a.set_faults(2, LinkFaults(block_out=True))
        a.send(hb(1, 2, 2), "1:3")
        a.heal()
        for n in range(10, 15):
            a.send(hb(1, 2, n), f"1:{n}")
        a.send(big(1, 2, 0), "1:20")
        assert drops.seen == [
            (0, "1:1", "unknown peer"),
            (1, "1:2", "loss"),
            (2, "1:3", "partition"),
            (10, "1:10", "overflow"),
            (11, "1:11", "overflow"),
            ("append_req", "1:20", "oversize"),
        ]
        drops.seen.clear()
        a.partition([2])  # what is queued is discarded by the writer
        await until(lambda: len(drops.seen) == 3, "the queue to be discarded")
        assert drops.seen == [(n, f"1:{n}", "partition") for n in (12, 13, 14)]
        a.heal()
        a.send(hb(1, 2, 30), "1:30")
        a.set_peers({})
        assert drops.seen[3:] == [(30, "1:30", "peer removed")]
    finally:
        placeholder.close()
        await a.close()
