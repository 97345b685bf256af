"""Peer transport speed on loopback, as JSON.

Two transports (node 1 and node 2) in one process and one asyncio loop,
talking over 127.0.0.1, for two payloads: a heartbeat (about 100 bytes on
the wire) and an append request carrying one 4 KiB entry, each with a
trace id as a traced node sends it.

- throughput: node 1 sends as fast as it can while keeping at most
  ``--window`` messages unreceived (below the queue bound, so nothing is
  dropped); messages/s and MB/s of frames from the first send to the last
  delivery, and the mean number of messages per write.
- round trip: one message at a time, node 2 answering each (a heartbeat
  response, an append response); p50, p99 and mean in microseconds.

Both ends share one core, so the figures are a floor for two processes on
two cores; compare runs on the same machine, not across machines.

    python bench/transport.py            # full run (a few seconds)
    python bench/transport.py --quick    # fewer messages
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

from consensus.messages import (
    AppendRequest,
    AppendResponse,
    Heartbeat,
    HeartbeatResponse,
    Message,
)
from consensus.records import Entry
from kv.frames import message_frame
from kv.transport import Transport, TransportOptions

LOCAL = ("127.0.0.1", 0)
MID = "1:123456"  # a typical trace id, as a traced node sends it


def heartbeat(n: int) -> Message:
    return Heartbeat(1, 1, 2, n, n)


def append_4k(n: int) -> Message:
    return AppendRequest(1, 1, 2, n, 1, (Entry(n + 1, 1, "x" * 4096),), n)


def answer(message: Message) -> Message:
    if isinstance(message, Heartbeat):
        return HeartbeatResponse(message.term, 2, 1, message.round)
    assert isinstance(message, AppendRequest)
    return AppendResponse(message.term, 2, 1, True, message.prev_index + 1)


PAYLOADS: dict[str, Callable[[int], Message]] = {"heartbeat": heartbeat, "append_4k": append_4k}


class Counter:
    """Node 2's callback: counts deliveries and wakes whoever waits for a
    count; echoes when asked to (for round trips)."""

    def __init__(self) -> None:
        self.count = 0
        self.target = 0
        self.reached = asyncio.Event()
        self.echo: Transport | None = None

    def __call__(self, message: Message, mid: str) -> None:
        self.count += 1
        if self.echo is not None:
            self.echo.send(answer(message))
        if self.count >= self.target:
            self.reached.set()

    async def wait_for(self, target: int) -> None:
        self.target = target
        if self.count < target:
            self.reached.clear()
            await self.reached.wait()


class Replies:
    """Node 1's callback during round trips: wakes the pinger."""

    def __init__(self) -> None:
        self.got = asyncio.Event()

    def __call__(self, message: Message, mid: str) -> None:
        self.got.set()


async def pair() -> tuple[Transport, Transport, Counter, Replies]:
    options = TransportOptions(queue_messages=8192)
    counter, replies = Counter(), Replies()
    a = Transport(1, LOCAL, {}, replies, options=options)
    b = Transport(2, LOCAL, {}, counter, options=options)
    await a.start()
    await b.start()
    a.set_peers({2: b.address})
    b.set_peers({1: a.address})
    counter.echo = b
    a.send(heartbeat(0))  # both directions connected before timing starts
    await replies.got.wait()
    counter.echo = None
    counter.count = 0
    return a, b, counter, replies


async def throughput(make: Callable[[int], Message], total: int, window: int) -> dict[str, Any]:
    a, b, counter, _ = await pair()
    try:
        messages = [make(n) for n in range(total)]
        frame_bytes = len(message_frame(messages[0], MID))
        started = time.perf_counter()
        sent = 0
        while sent < total:
            burst = min(total - sent, window - (sent - counter.count))
            for message in messages[sent : sent + burst]:
                a.send(message, MID)
            sent += burst
            await counter.wait_for(min(total, sent - window // 2))
        await counter.wait_for(total)
        wall = time.perf_counter() - started
        stats = a.stats()["peers"][2]
        assert stats["dropped_overflow"] == 0, "the window overflowed the queue"
        return {
            "frame_bytes": frame_bytes,
            "messages": total,
            "msgs_per_s": round(total / wall),
            "mb_per_s": round(total * frame_bytes / wall / 1e6, 1),
            "msgs_per_write": round(stats["sent"] / stats["batches"], 1),
        }
    finally:
        await a.close()
        await b.close()


async def round_trips(make: Callable[[int], Message], count: int) -> dict[str, Any]:
    a, b, counter, replies = await pair()
    counter.echo = b
    try:
        samples = []
        for n in range(count + count // 10):
            replies.got.clear()
            started = time.perf_counter()
            a.send(make(n), MID)
            await replies.got.wait()
            samples.append(time.perf_counter() - started)
        samples = sorted(samples[count // 10 :])  # the first tenth warms up
        return {
            "round_trips": len(samples),
            "rtt_p50_us": round(_rank(samples, 0.50) * 1e6, 1),
            "rtt_p99_us": round(_rank(samples, 0.99) * 1e6, 1),
            "rtt_mean_us": round(sum(samples) / len(samples) * 1e6, 1),
        }
    finally:
        await a.close()
        await b.close()


def _rank(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted samples."""
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def main(args: argparse.Namespace) -> dict[str, Any]:
    results = {}
    for name, make in PAYLOADS.items():
        row = await throughput(make, args.messages, args.window)
        row.update(await round_trips(make, args.rtt))
        results[name] = row
    return {
        "bench": "transport",
        "python": platform.python_version(),
        "same_process": True,
        "window": args.window,
        "results": results,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=50_000, help="messages per throughput run")
    parser.add_argument("--rtt", type=int, default=3000, help="round trips per latency run")
    parser.add_argument("--window", type=int, default=4096, help="most messages unreceived")
    parser.add_argument("--quick", action="store_true", help="5,000 messages, 500 round trips")
    ns = parser.parse_args()
    if ns.quick:
        ns.messages, ns.rtt = 5000, 500
    json.dump(asyncio.run(main(ns)), sys.stdout, indent=2)
    print()
