"""What ``bench/kv.py`` measures on a target: load rows and failover trials.

A load row is ``kv.loadgen.run_load`` closed-loop at N clients for a fixed
time, after a short warm-up on the same cluster, with the same workload
(mix, keys, value size, seed per client count) for every target, so rows
differ only in the store behind the HTTP API.

A failover trial times what a client sees when the leader dies: with the
cluster serving writes (one write acknowledged just before), SIGKILL the
leader, then send writes to the surviving nodes only, from a few probe
clients at once that retry every few milliseconds; the trial's time is from
just before the kill to the first write acknowledged among those sent after
it. Probes skip the dead node on purpose: the figure is the cluster's
recovery, not a client's discovery of a dead endpoint. Then the target is
brought back to full strength for the next trial.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.kvbench.profile import Profiler
from bench.kvbench.targets import Target, leader_first
from kv.client import ClientError, ClientOptions, KVClient
from kv.loadgen import LoadResult, Workload, percentiles, run_load


class TrialError(RuntimeError):
    """A failover trial that could not be run as described (the message says why)."""


@dataclass(slots=True, frozen=True)
class LoadSettings:
    duration: float = 5.0  #: measured seconds per row
    warmup: float = 0.5  #: seconds of the same load before, not measured
    keys: int = 64
    value_size: int = 64
    client_options: ClientOptions = field(
        default_factory=lambda: ClientOptions(attempt_timeout=2.0, op_timeout=10.0)
    )

    def workload(self, clients: int, seconds: float) -> Workload:
        return Workload(
            clients=clients,
            keys=self.keys,
            value_size=self.value_size,
            ops=None,
            duration=seconds,
            seed=clients,
            client_options=self.client_options,
        )


@dataclass(slots=True, frozen=True)
class ProbeSettings:
    probes: int = 3  #: concurrent probe clients, each starting at a different survivor
    timeout: float = 15.0  #: seconds after the kill before a trial counts as failed
    client_options: ClientOptions = field(
        default_factory=lambda: ClientOptions(
            attempt_timeout=0.25, op_timeout=15.0, backoff=0.005, max_backoff=0.02
        )
    )


def load_row(
    target: Target, clients: int, settings: LoadSettings, profiler: Profiler | None = None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A load row and, with a profiler, the leader's profile over the measured run."""
    urls = leader_first(target)
    if settings.warmup > 0:
        asyncio.run(run_load(urls, settings.workload(clients, settings.warmup)))
    leader = target.leader()
    recording = None if profiler is None else profiler.start(target.pid(leader), settings.duration)
    result = asyncio.run(run_load(urls, settings.workload(clients, settings.duration)))
    profile = None
    if recording is not None:
        folded = recording.result(timeout=settings.duration + 30)
        profile = {"kind": "profile", **target.row(), "clients": clients, "node": leader, **folded}
    return _load_fields(target, clients, result), profile


def _load_fields(target: Target, clients: int, result: LoadResult) -> dict[str, Any]:
    return {
        "kind": "load",
        **target.row(),
        "clients": clients,
        "throughput": result.throughput,
        "p50_ms": result.latency_ms["p50"],
        "p99_ms": result.latency_ms["p99"],
        "latency_ms": result.latency_ms,
        "seconds": result.seconds,
        "ops": result.ops,
        "ok": result.ok,
        # fail: certainly no effect (mostly a CAS whose compare failed); info: outcome unknown
        "fail": result.fail,
        "info": result.info,
        "by_op": result.by_op,
    }


def failover_trial(target: Target, probe: ProbeSettings) -> float | None:
    """Milliseconds from the leader's SIGKILL to the first acknowledged write
    sent after it; None if none was acknowledged within ``probe.timeout``."""
    urls = leader_first(target)
    if asyncio.run(_first_ack(urls, ProbeSettings(1, probe.timeout))) is None:
        raise TrialError(f"the cluster acknowledged no write within {probe.timeout:g} s")
    leader = target.leader()
    survivors = [u for n, u in sorted(target.endpoints().items()) if n != leader]
    killed_at = time.perf_counter()
    target.kill(leader)
    try:
        acked_at = asyncio.run(_first_ack(survivors, probe))
    finally:
        target.recover(leader)
    return None if acked_at is None else round((acked_at - killed_at) * 1000, 3)


def failover_row(target: Target, samples: list[float | None]) -> dict[str, Any]:
    acked = [s for s in samples if s is not None]
    return {
        "kind": "failover",
        **target.row(),
        "trials": len(samples),
        "acknowledged": len(acked),
        "failed_trials": len(samples) - len(acked),
        "samples_ms": samples,
        **{f"{k}_ms": v for k, v in percentiles(acked).items()},
    }


async def _first_ack(urls: list[str], probe: ProbeSettings) -> float | None:
    """``perf_counter()`` when the first probe's write was acknowledged."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + probe.timeout
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        tasks = [
            asyncio.create_task(_probe(_rotated(urls, i), i, deadline, probe, http))
            for i in range(probe.probes)
        ]
        try:
            for next_done in asyncio.as_completed(tasks):
                acked_at = await next_done
                if acked_at is not None:
                    return acked_at
            return None
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def _probe(
    urls: list[str], lane: int, deadline: float, probe: ProbeSettings, http: aiohttp.ClientSession
) -> float | None:
    loop = asyncio.get_running_loop()
    client = KVClient(urls, options=probe.client_options, http=http)
    n = 0
    while loop.time() < deadline:
        n += 1
        try:
            await client.put(f"failover-{lane}", f"{lane}-{n}")
        except ClientError:
            await asyncio.sleep(probe.client_options.backoff)  # never a busy loop
            continue
        return time.perf_counter()
    return None


def _rotated(urls: list[str], i: int) -> list[str]:
    """``urls`` starting at the ``i``-th (mod its length): probe ``i`` tries that one first."""
    k = i % len(urls)
    return urls[k:] + urls[:k]
