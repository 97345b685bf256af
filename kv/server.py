"""A raftlab node process: the node runtime on asyncio, the WAL and TCP.

``python -m kv.server --cluster DIR --id N`` runs node N of the local
cluster described by ``DIR/cluster.json`` (kv/clusterfile.py), keeping its
data in ``DIR/nN``. It recovers its durable state from the write-ahead log
(or bootstraps: founders with the founding voters, other nodes empty, to
join through the admin API), starts the peer transport, the client HTTP API
and the admin gRPC API on the addresses the cluster file gives it, prints
one JSON line ``{"ready": ...}`` on standard output and serves until SIGTERM
or SIGINT (a clean stop: the WAL synced and closed, the trace completed).

What the node does is ``kv.runtime.NodeRuntime``, exactly the code the
simulator runs; this module only wires its ports (kv/asyncports.py) and,
after every call into the runtime, *settles*: flushes the trace to the OS,
follows membership changes into the transport's peer table, and wakes the
admin requests waiting for a condition.

Exit codes: 0 after a clean stop, 2 for a bad cluster file or arguments,
3 when storage refuses to start or fails (a ``CorruptionError`` names the
file and byte offset).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from consensus import DurableState, Membership
from consensus.traced import Envelope
from kv.addresses import split_host_port, url_host_port
from kv.admin.values import NodeAddress
from kv.asyncports import FutureReplies, LoopClock, LoopTimer, TransportNetwork, WalDisk
from kv.clusterfile import ClusterFile, ClusterFileError, read
from kv.files import CorruptionError, StorageError
from kv.members import known_members
from kv.netfaults import LinkFaults
from kv.nodeservice import NodeService
from kv.runtime import NodeRuntime
from kv.transport import Transport, TransportOptions
from kv.wal import WriteAheadLog
from traces.nodetrace import NodeTraceWriter, open_node_trace

log = logging.getLogger("kv.node")

#: Exit codes (module docstring).
EXIT_OK, EXIT_USAGE, EXIT_STORAGE = 0, 2, 3

INCARNATION_FILE = "incarnation"
#: Where a cluster's nodes write their traces, in the cluster's directory.
TRACES = "traces"


def node_dir(cluster_dir: Path, node_id: int) -> Path:
    return cluster_dir / f"n{node_id}"


def next_incarnation(directory: Path) -> int:
    """Count this start (0 for the first) in ``directory/incarnation``; the
    count seeds the core, so a restarted node draws new election timeouts."""
    path = directory / INCARNATION_FILE
    try:
        count = int(path.read_text()) + 1
    except (FileNotFoundError, ValueError):
        count = 0
    tmp = path.with_suffix(".tmp")
    tmp.write_text(str(count))
    os.replace(tmp, path)
    return count


def core_seed(cluster_seed: int, node_id: int, incarnation: int) -> int:
    return (cluster_seed * 1_000_003 + node_id * 10_007 + incarnation) % (1 << 31)


def _no_fsync(_fd: int) -> None:
    """The fsync of a cluster started with fsync off (tests, benches that say so)."""


class NodeServer:
    """One node process; see the module docstring."""

    def __init__(
        self,
        cluster: ClusterFile,
        node_id: int,
        directory: Path,
        trace_dir: Path | None = None,
    ) -> None:
        """The node writes its trace into ``trace_dir`` at the cluster's
        trace level (none without a directory, or at level ``off``)."""
        self.cluster = cluster
        self.node_id = node_id
        self.directory = directory
        self.me = cluster.node(node_id)
        self._trace_dir = trace_dir
        self._configured = cluster.addresses()
        self._members: dict[int, NodeAddress] = dict(self._configured)
        self._applied_seen = -1
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[bool]]] = []
        self._stopping: asyncio.Event | None = None
        self.failure: BaseException | None = None
        self.sink: Any = None
        self.wal: WriteAheadLog
        self.runtime: NodeRuntime
        self.transport: Transport
        self.service: NodeService
        self._closers: list[Callable[[], Any]] = []

    # -- starting and stopping -----------------------------------------------------

    async def start(self) -> dict[str, Any]:
        """Recover, listen, start the core; returns what the ready line says."""
        loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        founders = Membership(tuple(sorted(self.cluster.founders)))
        initial = DurableState.bootstrap(
            founders if self.node_id in founders.voters else Membership()
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        fsync = os.fsync if self.cluster.fsync else _no_fsync
        self.wal = WriteAheadLog.open(self.directory / "wal", initial, fsync=fsync)
        self._closers.append(self.wal.close)
        recovered = self.wal.recovered
        incarnation = next_incarnation(self.directory)
        self.sink = self._open_trace(incarnation)
        clock = LoopClock(loop, self.cluster.tick_ms)
        timer = LoopTimer(loop, clock)
        self.transport = Transport(
            self.node_id,
            split_host_port(self.me.address.peer),
            {n: split_host_port(a.peer) for n, a in self._members.items()},
            self._on_message,
            options=TransportOptions(cluster=self.cluster.name),
            seed=core_seed(self.cluster.seed, self.node_id, incarnation),
        )
        self.runtime = NodeRuntime(
            self.node_id,
            self.cluster.raft,
            clock=clock,
            timer=timer,
            disk=WalDisk(loop, self.wal, self._on_durable, self._on_storage_failure),
            network=TransportNetwork(self.transport),
            replies=FutureReplies(),
            sink=self.sink,
            snapshot_every=self.cluster.snapshot_every,
        )
        timer.fire = self._on_timer
        self.timer = timer
        self.service = NodeService(self)
        await self.transport.start()
        self._closers.append(self.transport.close)
        seed = core_seed(self.cluster.seed, self.node_id, incarnation)
        self.runtime.start(recovered, seed)
        self.settle()
        http_url = await self._serve_http()
        admin_port = await self._serve_admin()
        return {
            "ready": self.node_id,
            "pid": os.getpid(),
            "incarnation": incarnation,
            "peer": self.me.address.peer,
            "http": http_url,
            "admin": f"127.0.0.1:{admin_port}",
            "recovered": {
                "term": recovered.hard_state.term,
                "commit": recovered.hard_state.commit,
                "snapshot": recovered.snapshot.index,
                "entries": len(recovered.entries),
                "truncated": _truncation(self.wal),
            },
        }

    async def _serve_http(self) -> str:
        from kv.httpapi.app import make_app
        from kv.httpapi.serve import start

        host, port = url_host_port(self.me.address.http)
        runner, url = await start(make_app(self.service), host, port)
        self._closers.append(runner.cleanup)
        return url

    async def _serve_admin(self) -> int:
        from kv.admin.server import serve

        host, port = split_host_port(self.me.address.admin)
        server, bound = await serve(self.service, host, port)
        self._closers.append(lambda: server.stop(None))
        return bound

    def _open_trace(self, incarnation: int) -> NodeTraceWriter | None:
        """This process's trace file (traces/nodetrace.py): its header says
        what replay and the checkers need to know about the run. The file is
        numbered by the node directory's count of starts, the one count that
        also seeds the core, so trace files and the ``ready`` line agree even
        when some starts ran untraced."""
        if self._trace_dir is None:
            return None
        cluster = self.cluster
        fields = {
            "cluster": cluster.name,
            "raft": cluster.raft.to_json(),
            "tick_us": round(cluster.tick_ms * 1000),
            "seed": cluster.seed,
            "snapshot_every": cluster.snapshot_every,
        }
        return open_node_trace(
            self._trace_dir, self.node_id, cluster.trace_level, incarnation, fields
        )

    async def serve_forever(self) -> None:
        assert self._stopping is not None
        await self._stopping.wait()

    def request_stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()

    async def stop(self) -> None:
        """Close in reverse order of opening: APIs, transport, WAL; then the trace."""
        self.timer.cancel()
        for close in reversed(self._closers):
            try:
                result = close()
                if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                    await result
            except Exception:
                log.exception("node %d: error while stopping", self.node_id)
        self._closers.clear()
        if self.sink is not None and hasattr(self.sink, "close"):
            self.sink.close()

    # -- ports' callbacks (each a call into the runtime, then settle) -----------

    def _on_message(self, message: Any, mid: str) -> None:
        if self.runtime.core is not None:
            self.runtime.receive(Envelope(message, mid, 0))
            self.settle()

    def _on_durable(self, persist_id: int) -> None:
        if self.runtime.core is not None:
            self.runtime.persisted(persist_id)
            self.settle()

    def _on_timer(self) -> None:
        if self.runtime.core is not None:
            self.runtime.on_timer()
            self.settle()

    def _on_storage_failure(self, err: BaseException) -> None:
        """A failed fsync: the log is unusable, so the node stops serving at
        once (no further step may assume durability) and exits with 3."""
        log.error("node %d: storage failed: %s", self.node_id, err)
        self.failure = err
        self.runtime.crash()
        self.request_stop()

    # -- settling ------------------------------------------------------------------

    def settle(self) -> None:
        """After every call into the runtime: membership and waiters (the
        trace flushes itself after every step: ``flush_each_step``)."""
        sm = self.runtime.sm
        if sm.applied != self._applied_seen:
            self._applied_seen = sm.applied
            members = known_members(sm, self._configured)
            if members != self._members:
                self._members = members
                self.transport.set_peers({n: split_host_port(a.peer) for n, a in members.items()})
        if self._waiters:
            still = []
            for condition, future in self._waiters:
                if future.done():
                    continue
                if condition():
                    future.set_result(True)
                else:
                    still.append((condition, future))
            self._waiters = still

    async def wait_for(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``condition()`` holds after some step, at most ``timeout`` s."""
        if condition():
            return True
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiters.append((condition, future))
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            return False

    # -- NodeHost --------------------------------------------------------------------

    def members(self) -> dict[int, NodeAddress]:
        return dict(self._members)

    def faults(self) -> dict[int, LinkFaults]:
        return self.transport.faults()

    def set_faults(self, peer: int, faults: LinkFaults) -> None:
        self.transport.set_faults(peer, faults)

    def heal(self) -> None:
        self.transport.heal()


def _truncation(wal: WriteAheadLog) -> dict[str, Any] | None:
    """The torn tail recovery cut off, if any: file, offset, bytes dropped."""
    cut = wal.report.truncated
    if cut is None:
        return None
    path, offset, dropped = cut
    return {"file": str(path), "offset": offset, "dropped": dropped}


# -- the process ---------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m kv.server",
        description=(
            "Run one raftlab node of a local cluster. `raftlab cluster up` starts "
            "these for you; run one by hand to debug a node."
        ),
    )
    p.add_argument("--cluster", type=Path, required=True, help="the cluster's directory")
    p.add_argument("--id", type=int, required=True, dest="node_id", help="this node's id")
    p.add_argument(
        "--log-level", default="WARNING", help="Python logging level on stderr (default WARNING)"
    )
    return p


async def run(cluster_dir: Path, node_id: int) -> int:
    cluster = read(cluster_dir)
    server = NodeServer(cluster, node_id, node_dir(cluster_dir, node_id), cluster_dir / TRACES)
    try:
        ready = await server.start()
    except (CorruptionError, StorageError) as err:
        sys.stderr.write(f"error: node {node_id}: {err}\n")
        return EXIT_STORAGE
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, server.request_stop)
    sys.stdout.write(orjson.dumps(ready).decode() + "\n")
    sys.stdout.flush()
    await server.serve_forever()
    await server.stop()
    return EXIT_STORAGE if server.failure is not None else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    try:
        return asyncio.run(run(args.cluster, args.node_id))
    except ClusterFileError as err:
        sys.stderr.write(f"error: {err}\n")
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
