"""A load generator for the HTTP API: N concurrent clients, a key/op mix.

Used by the CLI, the tests and the benches (bench/kv.py),
against raftlab, the PySyncObj peer and etcd's adapter alike: it only speaks
docs/http-api.md through ``KVClient``. Closed loop by default (each client
sends its next operation when the last one is answered); with ``rate`` it is
open loop, every client on a fixed schedule of ``rate / clients`` operations
per second, and late operations are sent at once, not skipped. It stops
after ``ops`` operations or ``duration`` seconds, whichever comes first.
Written values are unique (client lane and count), so a history's reads
point at the write they saw.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp

from kv.client import ClientError, ClientOptions, KVClient, OutcomeUnknown
from kv.history import HistoryRecorder

DEFAULT_MIX = (("get", 0.5), ("put", 0.3), ("cas", 0.15), ("delete", 0.05))


@dataclass(slots=True, frozen=True)
class Workload:
    clients: int = 4
    keys: int = 8
    mix: tuple[tuple[str, float], ...] = DEFAULT_MIX
    value_size: int = 16
    ops: int | None = 400  #: total operations over all clients (None: no count limit)
    duration: float | None = None  #: seconds (None: no time limit)
    rate: float | None = None  #: operations per second over all clients; None = closed loop
    seed: int = 1
    client_options: ClientOptions = field(default_factory=ClientOptions)

    def __post_init__(self) -> None:
        if self.ops is None and self.duration is None:
            raise ValueError("a workload needs an op count or a duration")
        if self.clients < 1 or self.keys < 1:
            raise ValueError("a workload needs at least one client and one key")
        unknown = sorted({f for f, _ in self.mix} - {"get", "put", "cas", "delete"})
        if unknown:
            raise ValueError(f"unknown operation(s) in the mix: {', '.join(unknown)}")


@dataclass(slots=True)
class LoadResult:
    clients: int
    ops: int
    ok: int
    fail: int
    info: int
    seconds: float
    throughput: float  #: completed operations per second
    latency_ms: dict[str, float]  #: p50, p90, p99, max over every completed operation
    by_op: dict[str, dict[str, float]]  #: the same per operation, with its count

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max by the nearest-rank method (no interpolation)."""
    if not samples:
        return {"p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(len(ordered) * p / 100) - 1))]

    return {"p50": rank(50), "p90": rank(90), "p99": rank(99), "max": ordered[-1]}


class _Budget:
    """The shared op count: clients take tickets until it is spent."""

    __slots__ = ("left",)

    def __init__(self, ops: int | None) -> None:
        self.left = ops

    def take(self) -> bool:
        if self.left is None:
            return True
        if self.left <= 0:
            return False
        self.left -= 1
        return True


async def run_load(
    endpoints: Sequence[str], workload: Workload, history: HistoryRecorder | None = None
) -> LoadResult:
    """Drive ``workload`` against ``endpoints`` and summarise the latencies."""
    budget = _Budget(workload.ops)
    samples: dict[str, list[float]] = {f: [] for f, _ in workload.mix}
    counts = {"ok": 0, "fail": 0, "info": 0}
    loop = asyncio.get_running_loop()
    started = loop.time()
    stop_at = None if workload.duration is None else started + workload.duration
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        clients = [
            KVClient(
                endpoints,
                history=history,
                lane=lane,
                options=workload.client_options,
                http=http,
            )
            for lane in range(workload.clients)
        ]
        await asyncio.gather(
            *(
                _drive(c, lane, workload, budget, stop_at, samples, counts)
                for lane, c in enumerate(clients)
            )
        )
    seconds = loop.time() - started
    done = sum(counts.values())
    every = [x for xs in samples.values() for x in xs]
    return LoadResult(
        clients=workload.clients,
        ops=done,
        ok=counts["ok"],
        fail=counts["fail"],
        info=counts["info"],
        seconds=round(seconds, 6),
        throughput=round(done / seconds, 3) if seconds > 0 else 0.0,
        latency_ms=percentiles(every),
        by_op={f: {"count": len(xs), **percentiles(xs)} for f, xs in samples.items() if xs},
    )


async def _drive(
    client: KVClient,
    lane: int,
    workload: Workload,
    budget: _Budget,
    stop_at: float | None,
    samples: dict[str, list[float]],
    counts: dict[str, int],
) -> None:
    rng = random.Random(f"{workload.seed}:{lane}")
    ops = [f for f, _ in workload.mix]
    weights = [w for _, w in workload.mix]
    loop = asyncio.get_running_loop()
    interval = None if workload.rate is None else workload.clients / workload.rate
    next_at = loop.time() + (0.0 if interval is None else rng.uniform(0, interval))
    seen: dict[str, str | None] = {}  #: the value this client last read or wrote per key
    n = 0
    while (stop_at is None or loop.time() < stop_at) and budget.take():
        if interval is not None:
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            next_at += interval
        n += 1
        f = rng.choices(ops, weights)[0]
        key = f"k{rng.randrange(workload.keys)}"
        value = f"{lane}-{n}-".ljust(workload.value_size, "x")
        t0 = time.perf_counter()
        try:
            outcome = await _one(client, f, key, value, seen)
        except OutcomeUnknown:
            outcome = "info"
        except ClientError:
            outcome = "fail"
        counts[outcome] += 1
        if outcome != "info":
            samples[f].append(round((time.perf_counter() - t0) * 1000, 3))


async def _one(client: KVClient, f: str, key: str, value: str, seen: dict[str, str | None]) -> str:
    """One operation; a CAS expects the value this client last saw, so it
    swaps when no other client wrote the key in between."""
    if f == "get":
        seen[key] = await client.get(key)
    elif f == "put":
        await client.put(key, value)
        seen[key] = value
    elif f == "delete":
        await client.delete(key)
        seen[key] = None
    else:
        swapped = await client.cas(key, seen.get(key), value)
        if swapped:
            seen[key] = value
        return "ok" if swapped else "fail"
    return "ok"
