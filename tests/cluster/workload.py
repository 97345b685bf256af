"""Client load against a real cluster while faults happen, and its verdict."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from checkers.linearizability import check, load_history
from kv.client import ClientOptions, KVClient
from kv.history import HistoryRecorder
from kv.loadgen import LoadResult, Workload, run_load
from kv.localcluster import LocalCluster

#: Generous per-attempt and per-operation limits: a failover takes up to a
#: few hundred milliseconds, and the outcome of an operation that times out
#: is recorded as unknown, which the checker allows for.
OPTIONS = ClientOptions(attempt_timeout=1.0, op_timeout=8.0)


def load_during(
    cluster: LocalCluster,
    faults: Callable[[], Any],
    history_path: Path,
    *,
    clients: int = 4,
    ops: int = 300,
    seed: int = 1,
) -> tuple[LoadResult, Any]:
    """Run ``ops`` operations from ``clients`` clients while ``faults()``
    runs in a thread (it may block, as LocalCluster's calls do); the history
    is written to ``history_path``. After the load and the faults, one more
    client reads every key into the same history, so that a lost
    acknowledged write makes the history not linearizable. Returns the
    load's result and what ``faults`` returned."""
    history = HistoryRecorder(test="cluster")
    workload = Workload(clients=clients, keys=4, ops=ops, seed=seed, client_options=OPTIONS)

    async def main() -> tuple[LoadResult, Any]:
        endpoints = list(cluster.http_urls.values())
        load = asyncio.create_task(run_load(endpoints, workload, history))
        fault_result = await asyncio.to_thread(faults)
        result = await load
        async with KVClient(endpoints, history=history, lane="final", options=OPTIONS) as reader:
            for key in range(workload.keys):
                await reader.get(f"k{key}")
        return result, fault_result

    result = asyncio.run(main())
    history.write(history_path)
    return result


def verdict(history_path: Path) -> str:
    result = check(load_history(history_path), "kv", timeout=60)
    return str(result.verdict)
