"""The PySyncObj peer as real processes: three nodes on 127.0.0.1 (free ports),
driven by the load generator through the same HTTP API as raftlab, the
history judged by ``raftlab lincheck``, every process stopped by PID."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import orjson
import pytest
from pysyncobj import FAIL_REASON
from typer.testing import CliRunner

from kv.client import ClientOptions, KVClient
from kv.history import HistoryRecorder
from kv.httpapi import Timeout, Unavailable
from kv.loadgen import Workload, run_load
from kv.reference.cluster import PySyncObjCluster, start_cluster
from kv.reference.pysyncobj_server import _settle
from raftlab.cli import app as cli

COMPACT = ("--compact-entries", "100")
OPTIONS = ClientOptions(attempt_timeout=1.0, op_timeout=8.0, backoff=0.01, max_backoff=0.1)


def lincheck(path: Path) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["lincheck", str(path), "--json", "--timeout", "60"])
    summary: dict[str, Any] = orjson.loads(result.stdout) if result.exit_code in (0, 1) else {}
    return result.exit_code, summary


@pytest.fixture
def cluster(tmp_path: Path) -> Any:
    # a small compaction threshold, so that runs pickle the state machine and
    # restore it from PySyncObj's snapshots as a long run would
    c = start_cluster(tmp_path / "cluster", 3, ready_timeout=60, node_args=COMPACT)
    try:
        yield c
    finally:
        pids = [n.pid for n in c.nodes]
        c.stop()
        for pid in pids:  # reaped: no such process any more
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)


def replicas(cluster: PySyncObjCluster) -> list[list[tuple[str, str]]]:
    """Each node's local copy, read after a read through the log on that node
    (so each has applied at least everything acknowledged before)."""

    async def main() -> list[list[tuple[str, str]]]:
        copies = []
        for url in cluster.urls:
            async with KVClient([url], options=OPTIONS) as c:
                await c.get("barrier")
                copies.append(await c.list(stale=True))
        return copies

    return asyncio.run(main())


def test_three_pysyncobj_processes_serve_a_linearizable_load(
    cluster: PySyncObjCluster, tmp_path: Path
) -> None:
    assert len({n.pid for n in cluster.nodes}) == 3 and all(
        u.startswith("http://127.0.0.1:") for u in cluster.urls
    )
    history = HistoryRecorder(peer="pysyncobj")
    workload = Workload(clients=4, keys=6, ops=400, seed=3, client_options=OPTIONS)
    result = asyncio.run(run_load(cluster.urls, workload, history))
    assert result.ops == 400 and result.info == 0
    code, summary = lincheck(history.write(tmp_path / "history.jsonl"))
    assert (code, summary["verdict"]) == (0, "linearizable")
    copies = replicas(cluster)
    assert copies[0] == copies[1] == copies[2] and copies[0]  # every replica converged


def test_every_node_serves_reads_and_writes_and_sessions_dedup_across_nodes(
    cluster: PySyncObjCluster,
) -> None:
    async def main() -> None:
        a, b, c = cluster.urls
        async with KVClient([a], client_id=77, options=OPTIONS) as one:
            await one.put("k", "v1")
        async with KVClient([b], options=OPTIONS) as two:
            assert await two.get("k") == "v1"
            assert await two.cas("k", "v1", "v2") is True
        # the same client id and sequence number again, on another node: the
        # session table answers from its cache instead of applying it again
        async with KVClient([c], client_id=77, options=OPTIONS) as again:
            await again.put("k", "v1")
            assert await again.get("k") == "v2"

    asyncio.run(main())


def test_the_peer_keeps_serving_after_its_leader_is_killed(
    cluster: PySyncObjCluster, tmp_path: Path
) -> None:
    history = HistoryRecorder(peer="pysyncobj", fault="SIGKILL leader")

    leader_raft = cluster.wait_ready(30)
    leader = next(n for n in cluster.nodes if n.raft == leader_raft)
    survivors = PySyncObjCluster([n for n in cluster.nodes if n is not leader])

    async def main() -> None:
        workload = Workload(
            clients=4, keys=4, ops=None, duration=3.0, seed=9, client_options=OPTIONS
        )
        load = asyncio.create_task(run_load(cluster.urls, workload, history))

        async def under_way() -> None:
            while sum(x["type"] == "ok" for x in history.lines) < 50 and not load.done():
                await asyncio.sleep(0.01)

        await asyncio.wait_for(under_way(), 30)  # kill once some operations have completed
        assert not load.done()
        os.kill(leader.pid, signal.SIGKILL)
        killed_at = len(history.lines)
        result = await load
        served_after = [x for x in history.lines[killed_at:] if x["type"] == "ok"]
        assert len(served_after) > 50  # a new leader took over and served the load
        assert result.ok > 100

    asyncio.run(main())
    assert leader.process.wait(10) == -signal.SIGKILL
    assert survivors.wait_ready(30) != leader.raft
    code, summary = lincheck(history.write(tmp_path / "history.jsonl"))
    assert (code, summary["verdict"]) == (0, "linearizable")


@pytest.mark.parametrize(
    ("reason", "error", "unknown"),
    [
        (FAIL_REASON.MISSING_LEADER, Unavailable, False),
        (FAIL_REASON.QUEUE_FULL, Unavailable, False),
        (FAIL_REASON.REQUEST_DENIED, Unavailable, False),
        (FAIL_REASON.NOT_LEADER, Timeout, True),
        (FAIL_REASON.LEADER_CHANGED, Timeout, True),
        (FAIL_REASON.DISCARDED, Timeout, True),
        (FAIL_REASON.UNKNOWN_OUTCOME, Timeout, True),
    ],
)
def test_pysyncobj_failures_map_to_what_a_client_may_conclude(
    reason: int, error: type[Exception], unknown: bool
) -> None:
    async def main() -> None:
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        _settle(done, None, reason)
        with pytest.raises(error) as caught:
            await done
        assert getattr(caught.value, "outcome_unknown", False) is unknown

    asyncio.run(main())


def test_a_result_for_a_request_that_already_timed_out_is_dropped() -> None:
    async def main() -> None:
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.cancel()
        _settle(done, "late", FAIL_REASON.SUCCESS)  # no InvalidStateError
        assert done.cancelled()

    asyncio.run(main())
